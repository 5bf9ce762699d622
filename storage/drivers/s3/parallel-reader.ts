import { Readable } from 'node:stream';
import { StorageUnavailableError, type ByteRange } from '../../driver.ts';
import type { PartBudget } from './part-budget.ts';

/** A part's bytes as a stream, or undefined when the server did not answer with exactly that range. */
export type RangeFetch = (range: ByteRange) => Promise<Readable | undefined>;

export interface ParallelReadOptions {
  partSize: number;
  /** Parts in flight for one reader, the one being read out included. */
  parallel: number;
  /** Parts beyond a reader's first in flight take a share of this, so memory stays bounded however many read at once. */
  budget: PartBudget;
}

/** Bytes a part being read out may hold before its connection is paused: the client sets the pace. */
const HEAD_BUFFER = 1 << 20;

function splitRange(range: ByteRange, partSize: number): ByteRange[] {
  const parts: ByteRange[] = [];
  for (let start = range.start; start < range.end; start += partSize) parts.push({ start, end: Math.min(start + partSize, range.end) });
  return parts;
}

/** One ranged GET: the bytes it has received and not yet passed on. */
class Part {
  readonly chunks: Buffer[] = [];
  buffered = 0;
  received = 0;
  done = false;
  stream: Readable | undefined;

  constructor(
    readonly range: ByteRange,
    readonly budgeted: boolean,
    readonly opening: Promise<Readable | undefined>,
  ) {}

  get length(): number {
    return this.range.end - this.range.start;
  }
}

/**
 * One object's range read as parts fetched side by side and passed on in order. One connection to
 * S3 carries about 80–100 MB/s and AWS advises parallel ranged GETs for large objects; a
 * registry's cold read otherwise waits on a single one. Parts ahead of the one being read out are
 * held in memory (at most `parallel - 1` parts, within the process's budget); the one being read
 * out is paused while the client lags, so a slow client holds little. Failures are raised when
 * the reader is next read, so they always reach its consumer.
 */
export class ParallelObjectReader extends Readable {
  private readonly parts: Part[] = [];
  private readonly pending: ByteRange[];
  private wanting = false;
  private failure: Error | undefined;

  private constructor(
    private readonly fetch: RangeFetch,
    private readonly options: ParallelReadOptions,
    range: ByteRange,
  ) {
    super();
    this.pending = splitRange(range, options.partSize);
    this.fill();
  }

  /**
   * Starts the first parts together, and answers once the first has its headers: a missing object
   * rejects as the fetch does, and undefined says the server ignores ranges (the caller then reads
   * with one GET).
   */
  static async open(fetch: RangeFetch, range: ByteRange, options: ParallelReadOptions): Promise<ParallelObjectReader | undefined> {
    const reader = new ParallelObjectReader(fetch, options, range);
    try {
      if (await reader.parts[0]!.opening) return reader;
    } catch (error) {
      reader.destroy();
      throw error;
    }
    reader.destroy();
    return undefined;
  }

  /** Starts parts while this reader has room and the budget allows; a reader with none in flight always gets one. */
  private fill(): void {
    while (this.pending.length && this.parts.length < this.options.parallel && !this.destroyed) {
      const budgeted = this.parts.length > 0;
      if (budgeted && !this.options.budget.takeUpTo(1)) return;
      const range = this.pending.shift()!;
      this.track(new Part(range, budgeted, this.fetch(range)));
    }
  }

  private track(part: Part): void {
    this.parts.push(part);
    part.opening.then(
      (stream) => {
        if (this.destroyed) return stream?.destroy();
        if (!stream)
          return this.fail(new StorageUnavailableError(`S3 answered a ranged GET of bytes ${part.range.start}-${part.range.end - 1} with other bytes`));
        part.stream = stream;
        stream.on('data', (chunk: Buffer) => this.received(part, chunk));
        stream.on('end', () => this.ended(part));
        stream.on('error', (error) => this.fail(error));
      },
      (error: Error) => this.fail(error),
    );
  }

  private received(part: Part, chunk: Buffer): void {
    part.received += chunk.length;
    if (part.received > part.length) return this.fail(new StorageUnavailableError(`S3 sent more than the ${part.length} bytes of a ranged GET`));
    part.chunks.push(chunk);
    part.buffered += chunk.length;
    if (part === this.parts[0]) {
      if (part.buffered > HEAD_BUFFER) part.stream?.pause();
      this.pump();
    }
  }

  private ended(part: Part): void {
    if (part.received !== part.length) return this.fail(new StorageUnavailableError(`S3 sent ${part.received} of the ${part.length} bytes of a ranged GET`));
    part.done = true;
    if (part === this.parts[0]) this.pump();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const part of this.parts) part.stream?.destroy();
    this.pump();
  }

  /** Passes on what the part being read out holds, moving to the next part once it is done. */
  private pump(): void {
    while (this.wanting) {
      if (this.failure) return void this.destroy(this.failure);
      const head = this.parts[0];
      if (!head) {
        this.wanting = false;
        this.push(null);
        return;
      }
      const chunk = head.chunks.shift();
      if (chunk) {
        head.buffered -= chunk.length;
        this.wanting = this.push(chunk);
        continue;
      }
      if (!head.done) {
        head.stream?.resume();
        return;
      }
      this.parts.shift();
      if (head.budgeted) this.options.budget.give();
      this.fill();
    }
  }

  override _read(): void {
    this.wanting = true;
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const part of this.parts) {
      part.stream?.destroy();
      if (part.budgeted) this.options.budget.give();
    }
    this.parts.length = 0;
    callback(error);
  }
}
