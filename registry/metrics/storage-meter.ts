import type { DriverAction, StorageMeter } from '../../storage/measured-driver.ts';
import { storageDuration, storageErrors } from './metrics.ts';

/** Driver calls into `berth_storage_operation_*`: what `measureDriver` reports, as metrics. */
export const storageMeter: StorageMeter = {
  observe(driver: string, action: DriverAction, seconds: number, failed: boolean): void {
    storageDuration.observe({ driver, action }, seconds);
    if (failed) storageErrors.inc({ driver, action });
  },
};
