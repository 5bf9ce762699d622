import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { ByteRange } from './driver.ts';

/**
 * Local copies of blobs, a speed-up for storage slower than the local disk (S3): the blob and
 * upload stores read and feed them through this, and without them (`noLocalCopies`) read and
 * write storage alone. A copy only ever stands in for bytes storage holds under the same digest;
 * whether a repository holds the blob is always storage's answer.
 */
export interface LocalCopies {
  /** The bytes in `range` of the copy of `digest` (a blob of `size` bytes), or undefined when there is no whole copy. */
  reader(digest: Digest, size: number, range: ByteRange): Promise<Readable | undefined>;
  /**
   * Learns of a whole download of `digest` from storage that a client is served: the copies may
   * copy the blob once `download` is done, reading storage again through `open`.
   */
  keepAfter(digest: Digest, size: number, download: Readable, open: () => Promise<Readable>): void;
  /** A copy of a new upload, which its bytes pass through in order as they go to storage. */
  startUpload(): UploadCopy;
}

/** The copy of one upload in progress, held by whoever hashes the upload's bytes. */
export interface UploadCopy {
  /** `source`, the upload's bytes from `offset` on, as a stream that also appends them to the copy (while they come in order). */
  tee(offset: number, source: Readable): Readable;
  /** Keeps the copy as the blob `digest` of `size` bytes, which the caller verified the bytes that passed `tee` to be. */
  keep(digest: Digest, size: number): Promise<void>;
  /** Forgets the copy (nothing once it is kept): the upload went elsewhere, failed, or ended. */
  drop(): void;
}

/** No copies: every read goes to storage, and uploads pass untouched. */
export const noLocalCopies: LocalCopies = {
  reader: () => Promise.resolve(undefined),
  keepAfter: () => undefined,
  startUpload: () => ({ tee: (_offset, source) => source, keep: () => Promise.resolve(), drop: () => undefined }),
};
