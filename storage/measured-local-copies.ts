import type { LocalCopies } from './local-copies.ts';

/** Where `measureLocalCopies` reports; the registry's metrics implement it (storage/ imports nothing above it). */
export interface LocalCopyMeter {
  /** One read asked the local copies: `hit` when a whole copy served it, with the bytes it served. */
  read(hit: boolean, bytes: number): void;
}

/**
 * Wraps `inner` so each read is counted as a hit (served from the local disk) or a miss (storage
 * serves it). Writes pass through: what the copies keep shows in their hits later.
 */
export function measureLocalCopies(inner: LocalCopies, meter: LocalCopyMeter): LocalCopies {
  return {
    async reader(digest, size, range) {
      const copy = await inner.reader(digest, size, range);
      meter.read(copy !== undefined, copy ? range.end - range.start : 0);
      return copy;
    },
    keepAfter: (digest, size, download, open) => inner.keepAfter(digest, size, download, open),
    startUpload: () => inner.startUpload(),
  };
}
