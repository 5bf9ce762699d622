import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BlobCache, type BlobCacheSettings } from '../storage/local-copies/blob-cache.ts';
import type { Driver } from '../storage/driver.ts';
import { Store } from '../storage/store.ts';
import { createApp } from './app.ts';
import type { ImmutableTagsRule } from '../analysis/retention-policy.ts';
import type { AuthConfig } from './auth/config.ts';
import { loadAuth } from './auth/load-auth.ts';
import { Readiness } from './health/readiness.ts';
import { measureDriver } from '../storage/measured-driver.ts';
import { localCopyMeter, storageMeter } from './metrics/storage-meter.ts';
import { measureLocalCopies } from '../storage/measured-local-copies.ts';
import { metricsSource } from './metrics/metrics-source.ts';
import type { LogSettings } from './request-log/log-settings.ts';
import { createRequestLogger } from './request-log/logger.ts';
import { requestLine } from './request-log/request-line.ts';
import type { NotificationsConfig } from './notifications/config.ts';
import type { MirrorSection } from './config/mirror-schema.ts';
import { createNotifier } from './notifications/notifier.ts';
import type { UiSettings } from './config/ui-schema.ts';

export interface RunningServer {
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes storage. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  driver: Driver;
  host: string;
  port: number;
  log?: (message: string) => void;
  auth?: AuthConfig;
  /** PEM certificate (chain) and key files: serve HTTPS instead of HTTP. */
  tls?: { cert: string; key: string };
  /** Keep local copies of downloaded blobs (for S3 storage). */
  localCache?: BlobCacheSettings;
  /** Config `retention.immutableTags`. */
  immutableTags?: readonly ImmutableTagsRule[];
  /** Serve `/metrics` on this listener (default true); false when a separate metrics listener has it. */
  metricsRoute?: boolean;
  /** One log line per request on stdout (`log` in the config); none when absent. */
  requestLog?: LogSettings;
  /** Webhooks (`notifications` in the config); none when absent. Each process sends its own requests' events. */
  notifications?: NotificationsConfig;
  /** The pull-through cache (`mirror` in the config). */
  mirror?: MirrorSection;
  /** The web interface (`ui` in the config); on with its defaults when absent. */
  ui?: UiSettings;
}

/** On a clean stop, webhook events still queued get this long to go out (README "Operations"). */
const NOTIFY_GRACE_MS = 5000;

/** Starts the registry on one process; the caller has already checked the driver. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const log = options.log ?? ((message: string) => console.error(message));
  const auth = options.auth ? await loadAuth(options.auth, log) : undefined;
  const cache = options.localCache && (await BlobCache.openOrSkip(options.localCache)).cache;
  const readiness = new Readiness(() => options.driver.check());
  // In a worker this also has prom-client answer the primary's requests for this worker's share.
  metricsSource();
  // Every storage call of the server is timed for `berth_storage_operation_*`.
  const store = new Store(measureDriver(options.driver, storageMeter), cache && measureLocalCopies(cache, localCopyMeter));
  store.times.log = log;
  const requests = options.requestLog && options.requestLog.level !== 'silent' ? await createRequestLogger(options.requestLog) : undefined;
  const requestLog = requests && requestLine(requests.logger);
  const notifier = options.notifications && createNotifier(options.notifications);
  const app = createApp({
    store,
    log,
    auth,
    readiness,
    immutableTags: options.immutableTags,
    metricsRoute: options.metricsRoute ?? true,
    requestLog,
    notify: notifier?.observe,
    mirror: options.mirror,
    ui: options.ui,
  });
  // Blob uploads of many GiB may take long; idle and header timeouts still end stuck clients.
  const timeouts = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 };
  const tls = options.tls && { cert: await readFile(options.tls.cert), key: await readFile(options.tls.key) };
  const server: Server = tls ? createHttpsServer({ ...timeouts, ...tls }, app) : createServer(timeouts, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${address.port}`,
    server,
    async close(graceMs = 30_000) {
      readiness.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections turn idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(timer);
      await cache?.settled();
      await store.times.settled();
      await options.driver.close?.();
      requests?.flush();
      await notifier?.close(NOTIFY_GRACE_MS);
    },
  };
}
