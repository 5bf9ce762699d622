import type { Driver } from '../driver.ts';
import { paths } from '../paths.ts';
import { GC_DEFAULTS, purgeStaleWrites, STALE_WRITE_IDLE_MS } from './gc.ts';

/** The most time a start-up spends on it: the rest waits for the next start or `berth gc`, which go everywhere. */
const BUDGET_MS = 60_000;

/**
 * At start-up, removes what writes cut off by the last crash left behind (storage/gc/gc.ts
 * `purgeStaleWrites`), with the config's grace period (gc's default when it has none): on S3 the
 * multipart uploads under blobs/, where the large ones are (a run of gc goes everywhere); on disk
 * the staging directory, which holds them all. It runs in the background on a driver of its own,
 * within a time budget, so serving never waits for it. Never rejects: a failure costs one line of
 * `log`, and the next gc tries again.
 */
export async function purgeStaleWritesAtStartup(
  open: () => Promise<Driver>,
  log: (line: string) => void,
  gracePeriodMs = GC_DEFAULTS.gracePeriodMs,
): Promise<void> {
  let driver: Driver | undefined;
  try {
    driver = await open();
    const olderThan = new Date(Date.now() - Math.max(gracePeriodMs, STALE_WRITE_IDLE_MS));
    const purged = await purgeStaleWrites(driver, olderThan, { signal: AbortSignal.timeout(BUDGET_MS) }, paths.blobsRoot);
    if (purged.count) log(`removed ${purged.count} leftovers of interrupted writes (${purged.bytes} bytes)`);
  } catch (error) {
    log(`could not purge leftovers of interrupted writes: ${(error as Error).message}`);
  } finally {
    await driver?.close?.().catch(() => undefined);
  }
}
