import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { applyRetention } from '../analysis/retention-apply.ts';
import { planRetention } from '../analysis/retention.ts';
import { PathNotFoundError, type Driver } from '../storage/driver.ts';
import { collectGarbage } from '../storage/gc/gc.ts';
import { Lease } from '../storage/lease.ts';
import { openDriver } from '../storage/open-driver.ts';
import { paths } from '../storage/paths.ts';
import { Store } from '../storage/store.ts';
import { gcSection } from './config/gc-section.ts';
import { maintenanceMetrics } from './metrics/maintenance-metrics.ts';
import type { ServeConfig } from './config/serve-config.ts';

/** How long a holder's lease lasts unless renewed (config `retention.lease`): a crashed holder's passes on after it. */
export const DEFAULT_LEASE_MS = 60_000;

/** One scheduled run, as kept in storage (`_berth/retention/runs/…`, and the last in `last-run.json`). */
export interface RetentionRun {
  holder: string;
  startedAt: string;
  finishedAt: string;
  bytesFreed: number;
  deletedTags: number;
  deletedManifests: number;
  gcFreedBytes: number;
}

/**
 * `retention.schedule` in `berth serve` (issue 22): every process that has it (one per replica:
 * the primary, or the single process) competes for one lease in storage; its holder applies the
 * policies and collects garbage when the last run (a file every replica reads) is a schedule old.
 * The holder renews the lease while it lives and runs; when it dies, another takes over once the lease
 * expires. Returns a stop function (tests; a process that exits just lets its lease expire).
 */
export async function scheduleRetention(config: ServeConfig, log: (line: string) => void): Promise<() => Promise<void>> {
  const settings = config.file.retention;
  const scheduleMs = settings.schedule!;
  const driver = await openDriver(config.storage, config.s3, { directWrites: config.directWrites });
  const store = new Store(driver);
  const lease = new Lease(driver, 'retention', settings.lease ?? DEFAULT_LEASE_MS);
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    if (!(await lease.acquire(holder))) return;
    const last = await readJson<RetentionRun>(driver, paths.retentionLastRun);
    if (last && Date.now() - Date.parse(last.finishedAt) < scheduleMs) return;
    // Renewed while the run lasts: a long gc must not let another replica start a second run.
    const renew = setInterval(
      () => void lease.acquire(holder).catch((error: unknown) => log(`retention: renewing the lease failed: ${String(error)}`)),
      lease.ttlMs / 3,
    );
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const { deletedTags, deletedManifests } = await runOnce(store, config, holder, log);
      maintenanceMetrics.retentionCompleted(seconds(), deletedTags, deletedManifests);
    } catch (error) {
      maintenanceMetrics.retentionFailed(seconds());
      throw error;
    } finally {
      clearInterval(renew);
    }
  };
  const timer = setInterval(
    () => {
      if (running) return;
      running = tick()
        .catch((error: unknown) => log(`retention: the scheduled run failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (running = undefined));
    },
    Math.max(100, Math.min(scheduleMs, lease.ttlMs) / 4),
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await lease.release(holder);
    await driver.close?.();
  };
}

/** Plans, keeps the plan for the report, applies it, collects garbage, and records the run. */
async function runOnce(store: Store, config: ServeConfig, holder: string, log: (line: string) => void): Promise<RetentionRun> {
  const startedAt = new Date();
  const settings = config.file.retention;
  const plan = await planRetention(store, settings, startedAt);
  await store.driver.putContent(paths.retentionLastPlan, JSON.stringify(plan));
  const result = await applyRetention(store, plan, settings);
  const gcStarted = performance.now();
  const gc = await collectGarbage(store, { ...gcSection(config), log: (line) => log(`retention gc: ${line}`) });
  const gcFreedBytes = gc.blobBytes + gc.uploadBytes;
  maintenanceMetrics.gcCompleted((performance.now() - gcStarted) / 1000, gcFreedBytes);
  const run: RetentionRun = {
    holder,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    bytesFreed: plan.bytesFreed,
    deletedTags: result.deletedTags,
    deletedManifests: result.deletedManifests,
    gcFreedBytes,
  };
  const record = JSON.stringify(run);
  await store.driver.putContent(`${paths.retentionRuns}/${run.startedAt.replace(/[:.]/g, '-')}-${holder.replace(/[^\w.-]/g, '_')}.json`, record);
  await store.driver.putContent(paths.retentionLastRun, record);
  log(
    `retention: deleted ${result.deletedTags} tags and ${result.deletedManifests} manifests (plan frees ${plan.bytesFreed} bytes); gc freed ${gcFreedBytes} bytes`,
  );
  return run;
}

async function readJson<T>(driver: Driver, path: string): Promise<T | undefined> {
  try {
    return JSON.parse((await driver.getContent(path)).toString('utf8')) as T;
  } catch (error) {
    if (error instanceof PathNotFoundError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}
