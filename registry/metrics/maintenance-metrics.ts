import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Retention and gc runs of `retention.schedule`. They happen in one process per server (the primary
 * where there are workers), so they live in a registry of their own that only that process adds to a
 * scrape: in the workers' registry they would be summed in as zeros, or counted twice.
 */
export const maintenanceRegistry = new Registry();

/** From a few seconds on a small registry to an hour on a large bucket. */
const RUN_BUCKETS = [1, 10, 60, 300, 1800, 3600];

const retentionRuns = new Counter({
  name: 'berth_retention_runs_total',
  help: 'Scheduled retention runs (policies applied, then gc), by result: completed or failed.',
  labelNames: ['result'] as const,
  registers: [maintenanceRegistry],
});

const retentionDuration = new Histogram({
  name: 'berth_retention_run_duration_seconds',
  help: 'Time a scheduled retention run took, its gc included.',
  buckets: RUN_BUCKETS,
  registers: [maintenanceRegistry],
});

const deletedTags = new Counter({
  name: 'berth_retention_deleted_tags_total',
  help: 'Tags the retention policies deleted.',
  registers: [maintenanceRegistry],
});

const deletedManifests = new Counter({
  name: 'berth_retention_deleted_manifests_total',
  help: 'Manifests the retention policies deleted.',
  registers: [maintenanceRegistry],
});

const lastSuccess = new Gauge({
  name: 'berth_retention_last_success_timestamp_seconds',
  help: 'When the last scheduled retention run completed (Unix time); 0 before the first.',
  registers: [maintenanceRegistry],
});

const gcDuration = new Histogram({
  name: 'berth_gc_run_duration_seconds',
  help: 'Time a garbage collection run took; the _count is the number of runs.',
  buckets: RUN_BUCKETS,
  registers: [maintenanceRegistry],
});

const gcFreed = new Counter({
  name: 'berth_gc_freed_bytes_total',
  help: 'Bytes garbage collection deleted: unreferenced blobs and abandoned uploads.',
  registers: [maintenanceRegistry],
});

/** What the schedule reports of each run. */
export const maintenanceMetrics = {
  retentionCompleted(seconds: number, tags: number, manifests: number): void {
    retentionRuns.inc({ result: 'completed' });
    retentionDuration.observe(seconds);
    deletedTags.inc(tags);
    deletedManifests.inc(manifests);
    lastSuccess.set(Date.now() / 1000);
  },
  retentionFailed(seconds: number): void {
    retentionRuns.inc({ result: 'failed' });
    retentionDuration.observe(seconds);
  },
  gcCompleted(seconds: number, freedBytes: number): void {
    gcDuration.observe(seconds);
    gcFreed.inc(freedBytes);
  },
};
