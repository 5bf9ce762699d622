import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/** native/sendfile.c: sendfile(2) on the libuv thread pool, for a socket the caller owns a duplicate of. */
interface Addon {
  send(socketFd: number, fileFd: number, offset: number, count: number): Promise<{ sent: number; blocked: boolean }>;
  duplicate(fd: number): number;
  close(fd: number): void;
}

/** Built by `npm install` (binding.gyp); absent where no compiler was at hand or off Linux. */
const addon = ((): Addon | undefined => {
  const require = createRequire(import.meta.url);
  for (const up of ['..', '../..']) {
    const file = join(import.meta.dirname, up, 'build/Release/sendfile.node');
    if (existsSync(file)) return require(file) as Addon;
  }
  return undefined;
})();

/** Whether blob downloads over plain HTTP can go through sendfile here. */
export const zeroCopyAvailable = addon !== undefined;

/**
 * A duplicate descriptor of the plain TCP socket under an HTTP response, for the kernel to copy
 * file pages into directly. A duplicate, so that Node closing the socket meanwhile cannot hand
 * its number to another connection that would then receive these bytes.
 */
export class SocketTarget {
  private constructor(
    private readonly addon: Addon,
    private readonly fd: number,
    private readonly destination: Writable,
    private readonly socket: Socket,
  ) {}

  static of(destination: Writable): SocketTarget | undefined {
    const socket = (destination as Partial<{ socket: Socket | null }>).socket;
    if (!addon || !socket || (socket as Partial<{ encrypted: boolean }>).encrypted) return undefined;
    // net.Socket keeps its descriptor on the internal libuv handle; TLS and pipes have none here.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return undefined;
    const duplicate = addon.duplicate(fd);
    return duplicate < 0 ? undefined : new SocketTarget(addon, duplicate, destination, socket);
  }

  /** Whether the socket is open and all Node queued on it (response and socket buffers) reached the kernel, so bytes sent now come after it. */
  get drained(): boolean {
    return this.destination.writableLength === 0 && !this.socket.destroyed;
  }

  /** Sends up to `count` bytes of `fileFd` from `offset` until the socket's buffer is full. */
  send(fileFd: number, offset: number, count: number): Promise<{ sent: number; blocked: boolean }> {
    return this.addon.send(this.fd, fileFd, offset, count);
  }

  release(): void {
    this.addon.close(this.fd);
  }
}
