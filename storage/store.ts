import type { BlobCache } from './blob-cache.ts';
import { BlobStore } from './blob-store.ts';
import type { Driver } from './driver.ts';
import { RepositoryStore } from './repository-store.ts';
import { UploadStore } from './upload-store.ts';

/** Everything the registry keeps, over one driver: blobs, repositories and upload sessions. */
export class Store {
  readonly blobs: BlobStore;
  readonly repositories: RepositoryStore;
  readonly uploads: UploadStore;

  /** `cache` keeps local copies of downloaded blobs, for storage slower than the local disk (S3). */
  constructor(
    readonly driver: Driver,
    cache?: BlobCache,
  ) {
    this.blobs = new BlobStore(driver, cache);
    this.repositories = new RepositoryStore(driver, this.blobs);
    this.uploads = new UploadStore(driver, this.blobs, this.repositories);
  }
}
