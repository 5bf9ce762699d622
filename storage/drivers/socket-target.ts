import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { loadAddon } from './addon.ts';

/** native/sendfile.c: sendfile(2) on the libuv thread pool, for a socket the caller owns a duplicate of. */
interface SendfileAddon {
  send(socketFd: number, fileFd: number, offset: number, count: number): Promise<{ sent: number; blocked: boolean }>;
  duplicate(fd: number): number;
  close(fd: number): void;
}

/** native/splice.c: a socket-to-socket relay through a pipe, on a thread of its own. */
interface SpliceAddon {
  relay(inFd: number, outFd: number, count: number, cancelFd: number, idleMs: number): Promise<number>;
  eventfd(): number;
}

const sendfile = loadAddon<SendfileAddon>('sendfile');
const splice = sendfile && loadAddon<SpliceAddon>('splice');

/** Whether blob downloads over plain HTTP can go through sendfile here. */
export const zeroCopyAvailable = sendfile !== undefined;

/** Whether a socket's bytes can be spliced into a plain HTTP response here. */
export const relayAvailable = splice !== undefined;

/** A relay that sees no byte move either way for this long gives up (as S3 requests do). */
const RELAY_IDLE_MS = 60_000;

/** The descriptor under a plain TCP socket; TLS sockets and pipes have none here. */
function descriptorOf(socket: Socket): number | undefined {
  if ((socket as Partial<{ encrypted: boolean }>).encrypted) return undefined;
  // net.Socket keeps its descriptor on the internal libuv handle.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * A duplicate descriptor of the plain TCP socket under an HTTP response, for the kernel to copy
 * bytes into directly. A duplicate, so that Node closing the socket meanwhile cannot hand its
 * number to another connection that would then receive these bytes.
 */
export class SocketTarget {
  private constructor(
    private readonly addon: SendfileAddon,
    private readonly fd: number,
    private readonly destination: Writable,
    private readonly socket: Socket,
  ) {}

  static of(destination: Writable): SocketTarget | undefined {
    const socket = (destination as Partial<{ socket: Socket | null }>).socket;
    const fd = sendfile && socket ? descriptorOf(socket) : undefined;
    if (!sendfile || !socket || fd === undefined) return undefined;
    const duplicate = sendfile.duplicate(fd);
    return duplicate < 0 ? undefined : new SocketTarget(sendfile, duplicate, destination, socket);
  }

  /** Whether the socket is open and all Node queued on it (response and socket buffers) reached the kernel, so bytes sent now come after it. */
  get drained(): boolean {
    return this.destination.writableLength === 0 && !this.socket.destroyed;
  }

  /** Sends up to `count` bytes of `fileFd` from `offset` until the socket's buffer is full. */
  send(fileFd: number, offset: number, count: number): Promise<{ sent: number; blocked: boolean }> {
    return this.addon.send(this.fd, fileFd, offset, count);
  }

  /**
   * Moves the next `count` bytes arriving on `source` into this socket inside the kernel, and
   * resolves with their number. `source` must be paused (Node reading none of it meanwhile) and
   * this socket drained. Rejects with `moved` on the error once `source` ends early or either
   * peer fails, and with ECANCELED once the response closes. Resolves undefined where splice is unavailable.
   */
  async relayFrom(source: Socket, count: number): Promise<number | undefined> {
    const sourceFd = descriptorOf(source);
    if (!splice || sourceFd === undefined) return undefined;
    const input = this.addon.duplicate(sourceFd);
    if (input < 0) return undefined;
    const cancel = splice.eventfd();
    if (cancel < 0) {
      this.addon.close(input);
      return undefined;
    }
    const stop = () => writeSync(cancel, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
    this.destination.once('close', stop);
    try {
      return await splice.relay(input, this.fd, count, cancel, RELAY_IDLE_MS);
    } finally {
      this.destination.off('close', stop);
      this.addon.close(cancel);
      this.addon.close(input);
    }
  }

  release(): void {
    this.addon.close(this.fd);
  }
}
