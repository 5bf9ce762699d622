import type { Driver } from './driver.ts';
import { FsDriver } from './fs-driver.ts';

/** Opens the driver a `--storage` value names: a directory, or `s3://BUCKET[/PREFIX]`. */
export function openDriver(storage: string, _s3Settings?: Record<string, unknown>): Driver {
  if (storage.startsWith('s3://')) throw new Error('S3 storage is not available in this build');
  return new FsDriver(storage);
}
