import { close, constants, open, write } from 'node:fs';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { loadAddon } from '../addon.ts';

/** native/aligned-memory.c. */
interface AlignedMemoryAddon {
  /** Memory at an address that is a multiple of `alignment`, as O_DIRECT asks. */
  allocate(size: number, alignment: number): ArrayBuffer;
  /** Frees `buffer`'s memory now where it can be detached (then it and every view on it are empty); false where not. */
  detach(buffer: ArrayBufferLike): boolean;
}

const alignedMemory = loadAddon<AlignedMemoryAddon>('aligned-memory');
/** An addon built before `detach` was (source updated without `npm install`) still writes directly, and frees nothing. */
const detach = typeof alignedMemory?.detach === 'function' ? alignedMemory.detach : undefined;

/** Whether uploads to local disk can bypass the page cache here. */
export const directWritesAvailable = alignedMemory !== undefined;

const openDescriptor = promisify(open);
const closeDescriptor = promisify(close);
const writeDescriptor = promisify(write);

/** File offsets, lengths and buffer addresses of direct writes are multiples of this: the largest logical block size of common devices. */
const BLOCK = 4096;
/** Bytes per direct write: 1 MiB writes flushed fresh ext4 blocks fastest on the bench machine. */
const SLICE = 1 << 20;
/** One slice fills while the other is written. */
const SLOTS = 2;
/**
 * Slices in use at once in a process: past this, further uploads write through the page cache
 * instead of holding more memory. Two uploads at full speed; at 64 slices (2 per upload), 64
 * concurrent 32 MiB uploads grew Berth's processes by ~1 MiB per upload, Distribution's by ~0.35
 * (issue 29). Slices, once made, are kept for the next upload, so each one does not fault in fresh pages.
 */
export const IN_USE_LIMIT = 4;

const idle: Buffer[] = [];
let inUse = 0;

function takeSlice(): Buffer | undefined {
  if (!alignedMemory || inUse >= IN_USE_LIMIT) return undefined;
  inUse++;
  return idle.pop() ?? Buffer.from(alignedMemory.allocate(SLICE, BLOCK));
}

function returnSlice(slice: Buffer): void {
  inUse--;
  idle.push(slice);
}

/**
 * Frees a stored chunk's memory at once. Left to V8, the chunks of 64 concurrent uploads held
 * ~12 MiB per worker between scavenges, most of what each upload cost in memory (issue 29). Only a
 * buffer that is all of its ArrayBuffer: never a slice of Node's shared pool.
 */
function free(chunk: Buffer): void {
  if (chunk.length > 0 && chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.length) detach?.(chunk.buffer);
}

async function writeAll(fd: number, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await writeDescriptor(fd, bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`a write at offset ${position + done} wrote nothing`);
    done += bytesWritten;
  }
}

/**
 * Writes a stream into a file from `position` on, its block-aligned middle with O_DIRECT and the
 * unaligned head and tail through the page cache. Uploads are written once and made durable
 * before they count, and on the bench machine buffered writes flushed to fresh blocks at
 * ~230 MB/s while direct ones ran at 1.2-1.4 GB/s (README, "Benchmarks"). Should a direct write
 * fail, that slice and the rest go through the page cache; an error there is the upload's.
 */
export class DirectSink extends Writable {
  /** Bytes written to the file so far. */
  bytesWritten = 0;
  /** Of those, the ones written with O_DIRECT. */
  directBytes = 0;
  /** Taken when first filled, so that a small upload holds one slice at most. */
  private readonly slots: (Buffer | undefined)[] = Array.from({ length: SLOTS }, () => undefined);
  private readonly writes: Promise<void>[] = Array.from({ length: SLOTS }, () => Promise.resolve());
  private slot = 0;
  private filled = 0;
  /** File offset of the current slot's first byte. */
  private position: number;
  /** Cleared once a direct write failed; the descriptor stays open until no write can be using it. */
  private direct = true;
  /** The write or finish under way, which destroying waits for. */
  private working: Promise<void> = Promise.resolve();
  /** Set once a write failed for good: nothing written after it would follow on from the bytes before. */
  private failed = false;

  /**
   * Writes through `directFd` (opened with O_DIRECT) and `bufferedFd`, both open on one file; the
   * sink closes `directFd`. With `freeChunks`, each chunk is freed once stored: the caller's source
   * hands its chunks over (storage/chunk-ownership.ts).
   */
  constructor(
    private readonly bufferedFd: number,
    private readonly directFd: number,
    position: number,
    private readonly freeChunks = false,
  ) {
    // Chunks are copied into the slices as they come: queued in front of them (1 MiB of them per
    // upload, once) they were most of the memory concurrent uploads held, and lived long enough
    // for V8 to move them to the old generation, which frees them only at its rare full collections.
    super();
    this.position = position;
  }

  /**
   * A sink for the file at `path`, already open as `bufferedFd`, or undefined where direct writes
   * are not to be had: no addon, or a filesystem that refuses O_DIRECT.
   */
  static async open(path: string, bufferedFd: number, position: number, freeChunks = false): Promise<DirectSink | undefined> {
    if (!alignedMemory) return undefined;
    const directFd = await openDescriptor(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
    return directFd === undefined ? undefined : new DirectSink(bufferedFd, directFd, position, freeChunks);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.working = this.take(chunk);
    this.working.then(() => {
      // Copied into a slice or written through the page cache by now: nothing here reads it again.
      if (this.freeChunks) free(chunk);
      callback();
    }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.working = this.finish();
    this.working.then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Slices go back to the pool only once nothing here or in the kernel reads them any more.
    void this.working
      .catch(() => undefined)
      .then(() => Promise.allSettled(this.writes))
      .then(async (settled) => {
        // Bytes that arrived before the source broke off still count: a client resumes an upload
        // from its size on disk. Only after a gapless prefix, though: never past a failed write.
        const slice = this.slots[this.slot];
        const intact = !this.failed && settled.every((write) => write.status === 'fulfilled');
        if (slice && this.filled > 0 && intact) await this.writeBuffered(slice.subarray(0, this.filled), this.position).catch(() => undefined);
        for (const taken of this.slots) if (taken) returnSlice(taken);
        this.slots.fill(undefined);
        await closeDescriptor(this.directFd).catch(() => undefined);
        callback(error);
      });
  }

  private async take(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === 0) {
        const head = (BLOCK - (this.position % BLOCK)) % BLOCK;
        // Up to a block boundary through the page cache, so that every slot starts aligned; the
        // whole rest too when the process holds all the slices it may.
        const slice = head === 0 ? (this.slots[this.slot] ??= takeSlice()) : undefined;
        if (!slice) {
          const passed = chunk.subarray(offset, head === 0 ? chunk.length : offset + head);
          await this.writeBuffered(passed, this.position);
          this.position += passed.length;
          offset += passed.length;
          if (this.destroyed) return;
          continue;
        }
      }
      const copied = chunk.copy(this.slots[this.slot]!, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === SLICE) await this.flushSlot();
      if (this.destroyed) return;
    }
  }

  /** Starts writing the full current slot and waits until the next one is free. */
  private async flushSlot(): Promise<void> {
    const slot = this.slot;
    const written = this.writeAligned(this.slots[slot]!.subarray(0, SLICE), this.position);
    // Awaited when the slot comes round again; a failure meanwhile is not an unhandled rejection.
    written.catch(() => undefined);
    this.writes[slot] = written;
    this.position += SLICE;
    this.slot = (slot + 1) % SLOTS;
    this.filled = 0;
    await this.writes[this.slot];
  }

  private async finish(): Promise<void> {
    await Promise.all(this.writes);
    const slice = this.slots[this.slot];
    if (!slice || this.filled === 0) return;
    const aligned = this.filled - (this.filled % BLOCK);
    if (aligned > 0) await this.writeAligned(slice.subarray(0, aligned), this.position);
    if (this.filled > aligned) await this.writeBuffered(slice.subarray(aligned, this.filled), this.position + aligned);
    this.position += this.filled;
    this.filled = 0;
  }

  private async writeAligned(bytes: Buffer, position: number): Promise<void> {
    if (this.direct) {
      try {
        await writeAll(this.directFd, bytes, position);
        this.bytesWritten += bytes.length;
        this.directBytes += bytes.length;
        return;
      } catch {
        this.direct = false;
      }
    }
    await this.writeBuffered(bytes, position);
  }

  private async writeBuffered(bytes: Buffer, position: number): Promise<void> {
    try {
      await writeAll(this.bufferedFd, bytes, position);
    } catch (error) {
      this.failed = true;
      throw error;
    }
    this.bytesWritten += bytes.length;
  }
}
