import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { BlobCache } from './blob-cache.ts';
import type { ByteRange, Driver, FileInfo } from './driver.ts';
import { paths } from './paths.ts';
import { RecentMap } from './recent-map.ts';

/** How many blob sizes a process remembers: some 7.5 MB of heap when full (measured). */
const REMEMBERED_SIZES = 50_000;

/** The registry-wide content-addressed blobs: each stored once, whatever links to it. */
export class BlobStore {
  /** Sizes of blobs served or stored before, by digest: a digest's size never changes, whoever deletes the blob. */
  private readonly sizes = new RecentMap<string, number>(REMEMBERED_SIZES);

  constructor(
    private readonly driver: Driver,
    private readonly cache?: BlobCache,
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
   * A client's download of a blob of `size` bytes: from the local copy when there is one, else from
   * storage, which a whole download may lead to copy locally once it is done. Downloads may be opened
   * before the repository's link is checked: only one that `served` resolves true for counts toward a
   * copy, so requests answered BLOB_UNKNOWN neither make one nor let the next read make one.
   */
  async download(digest: Digest, size: number, range: ByteRange, served: Promise<boolean>): Promise<Readable> {
    if (!this.cache) return this.reader(digest, range);
    const local = await this.cache.reader(digest, size, range);
    if (local) return local;
    const stored = await this.reader(digest, range);
    const whole = range.start === 0 && range.end === size;
    if (whole && (await served.catch(() => false))) this.cache.keepAfter(digest, size, stored, () => this.reader(digest));
    return stored;
  }

  /** An upload's bytes from `offset` on as they go to storage, also copied locally where there is a cache (BlobCache.copyUpload). */
  copyUpload(key: string, offset: number, source: Readable): Readable {
    return this.cache ? this.cache.copyUpload(key, offset, source) : source;
  }

  /** Keeps the local copy of an upload committed as `digest`, whose bytes the caller verified as they were copied. */
  async keepUpload(key: string, digest: Digest, size: number): Promise<void> {
    await this.cache?.keepUpload(key, digest, size);
  }

  dropUpload(key: string): void {
    void this.cache?.dropUpload(key);
  }

  getContent(digest: Digest): Promise<Buffer> {
    return this.driver.getContent(paths.blobData(digest));
  }

  /** Stores small content (a manifest) under its digest, unless it is already there. */
  async putContent(digest: Digest, content: Buffer): Promise<void> {
    if ((await this.stat(digest))?.size === content.length) return;
    await this.driver.putContent(paths.blobData(digest), content);
  }

  async redirectURL(digest: Digest): Promise<string | undefined> {
    return this.driver.redirectURL?.(paths.blobData(digest));
  }
}
