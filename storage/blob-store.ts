import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { ByteRange, Driver, FileInfo } from './driver.ts';
import { paths } from './paths.ts';

/** The registry-wide content-addressed blobs: each stored once, whatever links to it. */
export class BlobStore {
  constructor(private readonly driver: Driver) {}

  stat(digest: Digest): Promise<FileInfo | undefined> {
    return this.driver.stat(paths.blobData(digest));
  }

  reader(digest: Digest, range?: ByteRange): Promise<Readable> {
    return this.driver.reader(paths.blobData(digest), range);
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
