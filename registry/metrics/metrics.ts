import { collectDefaultMetrics, Counter, Gauge, register } from 'prom-client';
import { s3Retries } from '../../storage/drivers/s3/s3-retries.ts';
import { authCounts } from './auth-counts.ts';
import { build } from './build-version.ts';
import { notificationCounts, type NotificationCount } from './notification-counts.ts';
import { Buckets, exportMetric, Table2, type Sample } from './exported-metric.ts';

/**
 * The metrics of one serving process, in prom-client's global registry (which its cluster
 * aggregation reads in each worker). Names follow Prometheus' conventions: `berth_` first, the unit
 * in the name, `_total` on counters; labels are bounded sets (endpoint ids, methods, statuses,
 * drivers, actions), never a repository name or digest.
 */

/** Few buckets: each is a counter per series touched on every request. From a HEAD on disk to a large blob's upload. */
const REQUEST_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60];
const STORAGE_BUCKETS = [0.0005, 0.002, 0.01, 0.05, 0.25, 1, 5, 30];

/** Per endpoint id and method: statuses, durations and bytes of the requests answered. */
interface RequestRow {
  statuses: Map<number, number>;
  duration: Buckets;
  received: number;
  sent: number;
}

export const requests = new Table2<RequestRow>(() => ({ statuses: new Map(), duration: new Buckets(REQUEST_BUCKETS), received: 0, sent: 0 }));

exportMetric(
  'berth_http_requests_total',
  'HTTP requests answered, by endpoint id (end-N of the distribution spec, or the path of an operations endpoint), method and status.',
  'counter',
  () =>
    [...requests.entries()].flatMap(([endpoint, method, row]) => [...row.statuses].map(([status, value]) => ({ labels: { endpoint, method, status }, value }))),
);

exportMetric('berth_http_request_duration_seconds', 'Time from a request arriving to its response ending, by endpoint id and method.', 'histogram', () =>
  [...requests.entries()].flatMap(([endpoint, method, row]) => row.duration.samples('berth_http_request_duration_seconds', { endpoint, method })),
);

/** Per endpoint: the sum over its methods of `pick`. */
function byEndpoint(pick: (row: RequestRow) => number): Sample[] {
  return [...requests.rows].map(([endpoint, methods]) => ({ labels: { endpoint }, value: [...methods.values()].reduce((sum, row) => sum + pick(row), 0) }));
}

exportMetric('berth_http_request_received_bytes_total', 'Bytes read from clients (headers and bodies), by endpoint id.', 'counter', () =>
  byEndpoint((row) => row.received),
);

exportMetric('berth_http_response_sent_bytes_total', 'Response body bytes sent to clients, by endpoint id.', 'counter', () => byEndpoint((row) => row.sent));

/** Plain numbers, read when scraped: a request costs an increment, not a metric update. */
export const live = { requestsInFlight: 0, uploadsInProgress: 0, localCopyHits: 0, localCopyMisses: 0, localCopyBytes: 0 };

new Gauge({
  name: 'berth_http_requests_in_flight',
  help: 'Requests being served now.',
  collect() {
    this.set(live.requestsInFlight);
  },
});

new Gauge({
  name: 'berth_uploads_in_progress',
  help: 'Blob upload requests (POST, PATCH, PUT of an upload) receiving data now.',
  collect() {
    this.set(live.uploadsInProgress);
  },
});

/** Per driver and action: the calls' durations and failures. */
export const storageCalls = new Table2(() => ({ duration: new Buckets(STORAGE_BUCKETS), errors: 0 }));

exportMetric(
  'berth_storage_operation_duration_seconds',
  'Storage driver calls and their duration, by driver (fs, s3) and action; the _count is the number of calls.',
  'histogram',
  () => [...storageCalls.entries()].flatMap(([driver, action, row]) => row.duration.samples('berth_storage_operation_duration_seconds', { driver, action })),
);

exportMetric(
  'berth_storage_operation_errors_total',
  'Storage driver calls that failed (a missing path is not a failure), by driver and action.',
  'counter',
  () => [...storageCalls.entries()].map(([driver, action, row]) => ({ labels: { driver, action }, value: row.errors })),
);

/** A counter reporting a number the code keeps itself (auth-counts.ts). */
function countedElsewhere(name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

new Counter({
  name: 'berth_local_copy_reads_total',
  help: 'Blob reads that asked the local copies of S3 blobs (storage.localCache): hit when a copy on disk served them, miss when storage did.',
  labelNames: ['result'] as const,
  collect() {
    this.reset();
    this.inc({ result: 'hit' }, live.localCopyHits);
    this.inc({ result: 'miss' }, live.localCopyMisses);
  },
});

countedElsewhere('berth_local_copy_served_bytes_total', 'Bytes served from local copies of S3 blobs instead of storage.', () => live.localCopyBytes);

countedElsewhere('berth_s3_retries_total', 'Requests to S3 the SDK made again after a failure (5xx, throttling, a reset connection).', () => s3Retries.count);

countedElsewhere('berth_auth_failed_logins_total', 'Logins refused for a wrong password or an unknown user.', () => authCounts.failedLogins);
countedElsewhere(
  'berth_auth_rate_limited_requests_total',
  'Login attempts refused with 429 after too many failures of one user from one address.',
  () => authCounts.rateLimited,
);

/** A counter per endpoint name of `notifications.endpoints`, read from notification-counts.ts when scraped. */
function notificationCounter(name: string, help: string, pick: (count: NotificationCount) => number): void {
  new Counter({
    name,
    help,
    labelNames: ['endpoint'] as const,
    collect() {
      this.reset();
      for (const [endpoint, count] of notificationCounts) this.inc({ endpoint }, pick(count));
    },
  });
}

notificationCounter('berth_notification_events_sent_total', 'Events a webhook endpoint accepted (2xx), by endpoint name.', (count) => count.sent);
notificationCounter(
  'berth_notification_events_failed_total',
  'Events given up on after the endpoint refused or missed every attempt (threshold), by endpoint name.',
  (count) => count.failed,
);
notificationCounter(
  'berth_notification_events_dropped_total',
  'Events dropped unsent from a full queue (the oldest first), by endpoint name.',
  (count) => count.dropped,
);

new Gauge({
  name: 'berth_build_info',
  help: "Berth's version and the Node.js version running it; always 1.",
  labelNames: ['version', 'node_version'] as const,
  // Summed over workers it would count them; every worker runs the same build.
  aggregator: 'max',
  collect() {
    this.labels(build.version, process.version).set(1);
  },
});

// Process figures (CPU, memory, event loop lag, GC), with prom-client's own aggregation across workers.
collectDefaultMetrics();
// Gauges that prom-client names `_total`, which promtool's lint refuses (a gauge is no total).
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) register.removeSingleMetric(name);

export { register };
