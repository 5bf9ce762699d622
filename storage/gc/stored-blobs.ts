import type { Digest } from '../../oci/digest.ts';
import type { Driver } from '../driver.ts';
import { storedBlobs } from './walk.ts';

/**
 * Every blob in the store, as little as gc needs of each: its size and when it was written, by
 * digest string. A registry's blob count is what a collection's memory grows with (issue 29: an
 * object per blob, with its Digest and Date, was 354 bytes; this is about 40 beside the string).
 */
export class StoredBlobs {
  /** Walks the store; `keyOf` gives the string to keep for a digest (the graph's, shared with the marks). */
  static async read(driver: Driver, keyOf: (digest: Digest) => string): Promise<StoredBlobs> {
    const stored = new StoredBlobs();
    await storedBlobs(driver, (digest, size, modified) => stored.add(keyOf(digest), size, modified));
    return stored;
  }

  private readonly index = new Map<string, number>();
  private sizes: Float64Array = new Float64Array(1024);
  private modified: Float64Array = new Float64Array(1024);
  /** Their total size. */
  bytes = 0;

  /** `key` is the caller's shared digest string; `modified` in milliseconds since the epoch. */
  add(key: string, size: number, modified: number): void {
    if (this.index.has(key)) return;
    const at = this.index.size;
    if (at === this.sizes.length) {
      this.sizes = grown(this.sizes);
      this.modified = grown(this.modified);
    }
    this.index.set(key, at);
    this.sizes[at] = size;
    this.modified[at] = modified;
    this.bytes += size;
  }

  get count(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Where a blob is in the walk's order, 0 to count − 1: callers keep figures per blob in typed arrays. */
  indexOf(key: string): number | undefined {
    return this.index.get(key);
  }

  sizeAt(index: number): number {
    return this.sizes[index]!;
  }

  /** Each blob's digest string, size and time, in the order the walk found them. */
  *entries(): IterableIterator<[key: string, size: number, modified: number]> {
    for (const [key, at] of this.index) yield [key, this.sizes[at]!, this.modified[at]!];
  }
}

function grown(values: Float64Array): Float64Array {
  const larger = new Float64Array(values.length * 2);
  larger.set(values);
  return larger;
}
