import type { Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * What may wait in memory while a write is under way; it then goes to disk in one writev. A
 * download wrote each 64 KiB socket read on its own before, and the main thread's profile of a
 * cold pull showed the write calls above hashing (issue 26).
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * The end of a download: hashes and counts the bytes as they arrive and writes them to `path`
 * (appending to what a resumed download already holds), with no stream in between. `accept`
 * sees each chunk first and may throw to stop the transfer (a body longer than its descriptor).
 */
export class BlobFile extends Writable {
  /** Bytes written by this stream (not counting what the file held before). */
  bytes = 0;
  private handle: FileHandle | undefined;

  constructor(
    private readonly path: string,
    private readonly append: boolean,
    readonly hash: Hash,
    private readonly accept: (chunk: Buffer) => void,
  ) {
    super({ highWaterMark: BATCH_BYTES });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, this.append ? 'a' : 'w').then((handle) => {
      this.handle = handle;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map(({ chunk }) => chunk);
    try {
      for (const buffer of buffers) {
        this.accept(buffer);
        this.hash.update(buffer);
        this.bytes += buffer.length;
      }
    } catch (error) {
      return callback(error as Error);
    }
    this.handle!.writev(buffers).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle!;
    this.handle = undefined;
    handle.close().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback(error);
    handle.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}
