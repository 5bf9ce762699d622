import { connect, type Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { StorageUnavailableError, type ByteRange, type SendingReader } from '../../driver.ts';
import { SocketTarget } from '../socket-target.ts';

/** Receive slices while Node reads the body itself (the reader is piped rather than sent). */
const RECEIVE_BUFFER = 256 << 10;
/** A response head longer than this is not one an S3 server sends. */
const HEAD_LIMIT = 64 << 10;

/** What `open` needs to know of a response head: the range asked for as a plain body of known length, or nothing usable. */
function bodyLength(head: string): number | undefined {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status !== '206') return undefined;
  let length: number | undefined;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'transfer-encoding') return undefined;
    if (name === 'content-length') length = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  }
  return length !== undefined && Number.isSafeInteger(length) ? length : undefined;
}

/**
 * An S3 object's body, fetched from a presigned URL over plain HTTP on a connection of its own.
 * Sent to a plain HTTP response, its bytes go from socket to socket inside the kernel (splice):
 * relayed through node:http, every byte was copied into the process and out again, with a fresh
 * buffer per read for the garbage collector, and that CPU was taken from the S3 server.
 * Read as a stream, it is an ordinary Readable. `open` answers undefined for anything but a
 * plain 206 of the range asked for, so the caller asks again through the SDK, which knows S3's
 * errors and retries.
 */
export class DirectObjectReader extends Readable implements SendingReader {
  private remaining: number;
  private pending: Buffer;
  private waiter: ((chunk: Buffer | Error) => void) | undefined;
  /** Set once Node reads the socket for a consumer: the kernel may then no longer be handed it. */
  private streaming = false;

  private constructor(
    private readonly socket: Socket,
    length: number,
    early: Buffer,
  ) {
    super();
    this.remaining = length - early.length;
    this.pending = early;
  }

  static open(url: URL, range: ByteRange, timeoutMs: number): Promise<DirectObjectReader | undefined> {
    return new Promise((resolve) => {
      const receive = Buffer.allocUnsafe(RECEIVE_BUFFER);
      let head = Buffer.alloc(0);
      let reader: DirectObjectReader | undefined;
      const socket = connect({
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // an IPv6 literal without its brackets
        port: Number(url.port || 80),
        onread: {
          buffer: receive,
          callback: (size) => {
            const bytes = receive.subarray(0, size);
            if (reader) return reader.received(bytes);
            head = Buffer.concat([head, bytes]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) {
              if (head.length > HEAD_LIMIT) socket.destroy();
              return true;
            }
            const length = bodyLength(head.toString('latin1', 0, end));
            if (length !== range.end - range.start || head.length - end - 4 > length) {
              socket.destroy();
              return false;
            }
            reader = new DirectObjectReader(socket, length, head.subarray(end + 4));
            resolve(reader);
            return false;
          },
        },
      });
      socket.setTimeout(timeoutMs, () => socket.destroy());
      socket.on('connect', () => {
        const rangeHeader = `Range: bytes=${range.start}-${range.end - 1}`;
        socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${rangeHeader}\r\nConnection: close\r\n\r\n`);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (!reader) resolve(undefined);
        else reader.ended();
      });
    });
  }

  /** Body bytes from the socket (a slice of its reused buffer); false pauses the socket. */
  private received(bytes: Buffer): boolean {
    const chunk = Buffer.from(bytes.subarray(0, Math.max(this.remaining, 0)));
    this.remaining -= chunk.length;
    if (this.waiter) {
      this.waiter(chunk);
      this.waiter = undefined;
      return false;
    }
    const more = this.push(chunk);
    if (this.remaining <= 0) {
      this.push(null);
      this.socket.destroy();
    }
    return more && this.remaining > 0;
  }

  private ended(): void {
    if (this.remaining <= 0) return;
    const error = new StorageUnavailableError(`S3 closed the connection with ${this.remaining} bytes of the object unsent`);
    if (this.waiter) this.waiter(error);
    else this.destroy(error);
  }

  override _read(): void {
    this.streaming = true;
    if (this.pending.length) {
      const chunk = this.pending;
      this.pending = Buffer.alloc(0);
      if (!this.push(chunk)) return;
    }
    if (this.remaining <= 0) this.push(null);
    else this.socket.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  /** The bytes that arrived with the head, or else the next that arrive: they carry the response's headers out. */
  private firstChunk(): Promise<Buffer> {
    if (this.pending.length || this.remaining <= 0) {
      const chunk = this.pending;
      this.pending = Buffer.alloc(0);
      return Promise.resolve(chunk);
    }
    return new Promise((resolve, reject) => {
      this.waiter = (chunk) => (chunk instanceof Error ? reject(chunk) : resolve(chunk));
      this.socket.resume();
    });
  }

  async sendTo(destination: Writable): Promise<void> {
    const target = this.streaming ? undefined : SocketTarget.of(destination);
    if (!target) return pipeline(this, destination);
    const done = finished(destination);
    done.catch(() => undefined);
    try {
      const first = await this.firstChunk();
      await new Promise<void>((resolve, reject) => destination.write(first, (error) => (error ? reject(error) : resolve())));
      if (this.remaining > 0) {
        const idle = this.socket.timeout ?? 0;
        // Node sees none of the relay's traffic: its idle timer would fire mid-transfer. The relay keeps its own.
        this.socket.setTimeout(0);
        const moved = target.drained ? await target.relayFrom(this.socket, this.remaining) : undefined;
        if (moved === undefined) {
          // Copied through Node after all: a stalled S3 must still time out.
          this.socket.setTimeout(idle);
          return await pipeline(this, destination);
        }
        this.remaining -= moved;
      }
      destination.end();
      await done;
    } finally {
      target.release();
      this.destroy();
    }
  }
}
