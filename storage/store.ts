import { BlobStore } from './blob-store.ts';
import type { Driver } from './driver.ts';
import { ImageTimeStore } from './image-times.ts';
import { noLocalCopies, type LocalCopies } from './local-copies.ts';
import { RepositoryStore } from './repository-store.ts';
import { UploadStore } from './upload-store.ts';

/** Everything the registry keeps, over one driver: blobs, repositories and upload sessions. */
export class Store {
  readonly blobs: BlobStore;
  readonly repositories: RepositoryStore;
  readonly uploads: UploadStore;
  /** Push and pull times per manifest and repository, for retention. */
  readonly times: ImageTimeStore;

  /** `copies` keeps local copies of blobs, for storage slower than the local disk (S3). */
  constructor(
    readonly driver: Driver,
    copies: LocalCopies = noLocalCopies,
  ) {
    this.blobs = new BlobStore(driver, copies);
    this.times = new ImageTimeStore(driver);
    this.repositories = new RepositoryStore(driver, this.blobs, this.times);
    this.uploads = new UploadStore(driver, this.blobs, this.repositories, copies);
  }
}
