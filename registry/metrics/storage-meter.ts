import type { DriverAction, StorageMeter } from '../../storage/measured-driver.ts';
import { storageCalls } from './metrics.ts';

/** Driver calls into `berth_storage_operation_*`: what `measureDriver` reports, as metrics. */
export const storageMeter: StorageMeter = {
  observe(driver: string, action: DriverAction, seconds: number, failed: boolean): void {
    const row = storageCalls.row(driver, action);
    row.duration.observe(seconds);
    if (failed) row.errors++;
  },
};
