import { BlobStore } from './blob-store.ts';
import type { Driver } from './driver.ts';
import { RepositoryStore } from './repository-store.ts';
import { UploadStore } from './upload-store.ts';

/** Everything the registry keeps, over one driver: blobs, repositories and upload sessions. */
export class Store {
  readonly blobs: BlobStore;
  readonly repositories: RepositoryStore;
  readonly uploads: UploadStore;

  constructor(readonly driver: Driver) {
    this.blobs = new BlobStore(driver);
    this.repositories = new RepositoryStore(driver, this.blobs);
    this.uploads = new UploadStore(driver, this.blobs, this.repositories);
  }
}
