import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import { PathNotFoundError, type ByteRange, type Driver, type FileInfo } from './driver.ts';
import type { LocalCopies } from './local-copies.ts';
import { paths } from './paths.ts';
import { RecentMap } from './recent-map.ts';

/** How many blob sizes a process remembers: some 7.5 MB of heap when full (measured). */
const REMEMBERED_SIZES = 50_000;

/** A blob opened for a client: its size, and its bytes in the range asked for, if any. */
export interface OpenedBlob {
  size: number;
  body?: Readable;
}

/** The registry-wide content-addressed blobs: each stored once, whatever links to it. */
export class BlobStore {
  /** Sizes of blobs served or stored before, by digest: a digest's size never changes, whoever deletes the blob. */
  private readonly sizes = new RecentMap<string, number>(REMEMBERED_SIZES);

  constructor(
    private readonly driver: Driver,
    private readonly copies: LocalCopies,
  ) {}

  stat(digest: Digest): Promise<FileInfo | undefined> {
    return this.driver.stat(paths.blobData(digest));
  }

  /**
   * The size of a blob this process served or stored before, without asking storage. The blob may have been
   * deleted since; only its reader can tell. Existence checks (pushes, mounts) must use `stat`.
   */
  knownSize(digest: Digest): number | undefined {
    return this.sizes.get(digest.toString());
  }

  /** The blob's size from storage, remembered for `knownSize`; undefined when it is not stored. */
  async size(digest: Digest): Promise<number | undefined> {
    const size = (await this.stat(digest))?.size;
    if (size !== undefined) this.remember(digest, size);
    return size;
  }

  /** Remembers a size this process learned another way: it just stored the blob. */
  remember(digest: Digest, size: number): void {
    this.sizes.set(digest.toString(), size);
  }

  reader(digest: Digest, range?: ByteRange): Promise<Readable> {
    return this.driver.reader(paths.blobData(digest), range);
  }

  /**
   * Opens the blob for a client once `held` (the check that the client's repository links it, still
   * under way) comes out true: undefined when it does not, or when storage has no such blob. The
   * bytes are opened in the range `wanted` picks for the blob's size, none when it picks none. With
   * the size known from an earlier request, they are asked for while the link is checked: on S3 a
   * download then waits for one round trip instead of two (link, then bytes).
   */
  async open(digest: Digest, held: Promise<boolean>, wanted: (size: number) => ByteRange | undefined = () => undefined): Promise<OpenedBlob | undefined> {
    const known = this.knownSize(digest);
    const knownRange = known === undefined ? undefined : wanted(known);
    let early = known !== undefined && knownRange ? this.download(digest, known, knownRange, held) : undefined;
    early?.catch(() => undefined);
    try {
      const [linked, size] = await Promise.all([held, known ?? this.size(digest)]);
      if (!linked || size === undefined) return undefined;
      // With the size known, the range `early` was opened in.
      const range = wanted(size);
      if (!range) return { size };
      const opening = early ?? this.download(digest, size, range, held);
      early = undefined;
      // Linked but gone (deleted since its size was read, or by hand): unknown, as any blob storage lacks.
      const body = await opening.catch((error: unknown) => {
        if (error instanceof PathNotFoundError) return undefined;
        throw error;
      });
      return body && { size, body };
    } finally {
      // Opened early for a blob the repository does not hold (or a failed check): closed unread.
      if (early)
        void early.then(
          (reader) => reader.destroy(),
          () => undefined,
        );
    }
  }

  /**
   * A client's download of a blob of `size` bytes: from the local copy when there is one, else from
   * storage, which a whole download may lead to copy locally once it is done. Downloads may be opened
   * before the repository's link is checked: only one that `served` resolves true for counts toward a
   * copy, so requests answered BLOB_UNKNOWN neither make one nor let the next read make one.
   */
  private async download(digest: Digest, size: number, range: ByteRange, served: Promise<boolean>): Promise<Readable> {
    const local = await this.copies.reader(digest, size, range);
    if (local) return local;
    const stored = await this.reader(digest, range);
    const whole = range.start === 0 && range.end === size;
    if (whole && (await served.catch(() => false))) this.copies.keepAfter(digest, size, stored, () => this.reader(digest));
    return stored;
  }

  getContent(digest: Digest): Promise<Buffer> {
    return this.driver.getContent(paths.blobData(digest));
  }

  /**
   * Stores small content (a manifest) under its digest. Written again when it is there already: the
   * same bytes, and one round trip where looking first took one and then often a second.
   */
  async putContent(digest: Digest, content: Buffer): Promise<void> {
    await this.driver.putContent(paths.blobData(digest), content);
    this.remember(digest, content.length);
  }

  async redirectURL(digest: Digest): Promise<string | undefined> {
    return this.driver.redirectURL?.(paths.blobData(digest));
  }
}
