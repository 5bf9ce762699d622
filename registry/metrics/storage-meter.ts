import type { DriverAction, StorageMeter } from '../../storage/measured-driver.ts';
import type { LocalCopyMeter } from '../../storage/measured-local-copies.ts';
import { live, storageCalls } from './metrics.ts';

/** Driver calls into `berth_storage_operation_*`: what `measureDriver` reports, as metrics. */
export const storageMeter: StorageMeter = {
  observe(driver: string, action: DriverAction, seconds: number, failed: boolean): void {
    const row = storageCalls.row(driver, action);
    row.duration.observe(seconds);
    if (failed) row.errors++;
  },
};

/** Reads of local copies of S3 blobs into `berth_local_copy_*`. */
export const localCopyMeter: LocalCopyMeter = {
  read(hit: boolean, bytes: number): void {
    if (hit) {
      live.localCopyHits++;
      live.localCopyBytes += bytes;
    } else live.localCopyMisses++;
  },
};
