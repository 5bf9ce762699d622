import cluster from 'node:cluster';
import type { ServeConfig } from './config/serve-config.ts';
import { BlobCache } from '../storage/local-copies/blob-cache.ts';
import { openDriver } from '../storage/open-driver.ts';
import { purgeStaleWritesAtStartup } from '../storage/gc/startup-purge.ts';
import type { RunningServer } from './server.ts';
import { gcSection } from './config/gc-section.ts';
import { loadAuth } from './auth/load-auth.ts';
import { toUiSettings } from './config/ui-schema.ts';

/** Messages a worker sends the primary. */
type WorkerMessage = { type: 'listening'; url: string } | { type: 'failed'; error: string };

function driverFor(config: ServeConfig) {
  return openDriver(config.storage, config.s3, { directWrites: config.directWrites });
}

async function openCheckedDriver(config: ServeConfig) {
  const driver = await driverFor(config);
  await driver.check();
  return driver;
}

/** Loaded only where requests are served: a primary that forks workers stays some 20 MB smaller. */
async function startServerFor(config: ServeConfig): Promise<RunningServer> {
  const { startServer } = await import('./server.ts');
  const { host, port, auth, tls, localCache } = config;
  const metricsRoute = config.metricsListen === undefined;
  return startServer({
    driver: await driverFor(config),
    host,
    port,
    auth,
    tls,
    localCache,
    immutableTags: config.file.retention.immutableTags,
    metricsRoute,
    requestLog: config.log,
    notifications: config.file.notifications,
    mirror: config.file.mirror,
    ui: toUiSettings(config.file.ui),
  });
}

/** Runs `handler` on the first SIGTERM/SIGINT; later ones wait for the same graceful stop. */
function onShutdownSignal(handler: () => void): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    handler();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
}

/**
 * Runs `berth serve`: one process, or a primary with `workers` processes sharing the port
 * (node:cluster). No worker keeps state another needs; all of it lives in storage.
 * Resolves with the URL once every worker accepts requests.
 */
export async function serve(config: ServeConfig, announce: (url: string) => void): Promise<void> {
  if (cluster.isWorker) return runWorker(config);
  await openCheckedDriver(config).then((driver) => driver.close?.());
  const { skipped } = config.localCache ? await BlobCache.openOrSkip(config.localCache) : {};
  if (skipped) console.error(`berth serve: serving without local copies of S3 blobs: ${skipped}`);
  // Fails early on a bad htpasswd file or key, and creates the token key once, before any worker starts.
  await loadAuth(config.auth);
  if (config.workers <= 1) {
    const running = await startServerFor(config);
    if (config.metricsListen) {
      const { metricsSource } = await import('./metrics/metrics-source.ts');
      await listenForMetrics(config.metricsListen, metricsSource());
    }
    announce(running.url);
    onShutdownSignal(() => void running.close().then(() => process.exit(0)));
  } else {
    await runPrimary(config, announce);
  }
  // Once serving, in this one process (the primary where there are workers): a crash's leftovers.
  void purgeStaleWritesAtStartup(
    () => driverFor(config),
    (line) => console.error(`berth serve: ${line}`),
    gcSection(config).gracePeriodMs,
  );
  // One retention runner across every replica on this storage: the processes here compete for its lease.
  if (config.file.retention.schedule !== undefined) {
    const log = (line: string) => console.error(`berth serve: ${line}`);
    void import('./retention-schedule.ts')
      .then(({ scheduleRetention }) => scheduleRetention(config, log))
      .catch((error: unknown) => log(`retention: ${String(error)}`));
  }
}

/**
 * Sends the primary a message, then runs `then`. A primary that is gone fails the send with EPIPE,
 * which unhandled printed a stack trace; the worker exits on the channel's disconnect anyway.
 */
function tellPrimary(message: WorkerMessage, then: () => void = () => undefined): void {
  if (!process.connected) return then();
  process.send?.(message, undefined, {}, () => then());
}

async function runWorker(config: ServeConfig): Promise<void> {
  let running: RunningServer | undefined;
  onShutdownSignal(() => void (running?.close() ?? Promise.resolve()).then(() => process.exit(0)));
  process.on('disconnect', () => void (running?.close() ?? Promise.resolve()).then(() => process.exit(0)));
  try {
    running = await startServerFor(config);
    tellPrimary({ type: 'listening', url: running.url });
  } catch (error) {
    // Exits once the message is out: an exit straight away could drop it and leave the primary waiting.
    tellPrimary({ type: 'failed', error: (error as Error).message }, () => process.exit(1));
  }
}

/**
 * V8 settings workers start with, each unless the operator gave Node its own (NODE_OPTIONS may not
 * carry them). V8 reads `_` and `-` alike in flag names.
 */
const WORKER_V8_FLAGS: [name: string, value: number][] = [
  // Where V8 sets its first old-generation limit, in MiB. At its default, the limit it settled on
  // in about half of worker processes (some 28 MiB on a 12 MiB heap) kept restarting marking while
  // uploads streamed in: a full collection every ~30 MiB received, uploads ~20% slower. From 64
  // on, 256 MiB pushes ran with none, at the same peak RSS.
  ['--initial-old-space-size', 64],
  // The young generation's half, in MiB. Each chunk of a request body is a fresh buffer, freed
  // when a scavenge finds it dead; at V8's default the young generation grew by ~20 MiB per
  // worker under concurrent uploads. At 1 it stays small and scavenges come every few MiB received.
  // Uploads to local disk free their chunks as they store them (storage/chunk-ownership.ts); this
  // still counts for uploads to S3 and without the addon.
  ['--max-semi-space-size', 1],
];

/** The primary's Node flags plus ours where the operator gave none of the same name. */
function workerExecArgv(): string[] {
  const given = (name: string) => process.execArgv.some((flag) => flag.replaceAll('_', '-').startsWith(name));
  return [...process.execArgv, ...WORKER_V8_FLAGS.filter(([name]) => !given(name)).map(([name, value]) => `${name}=${value}`)];
}

/** The separate metrics listener; its address goes to stderr, stdout keeps the one startup line. */
async function listenForMetrics(address: { host: string; port: number }, text: () => Promise<string>): Promise<void> {
  const { startMetricsListener } = await import('./metrics/metrics-listener.ts');
  const { url } = await startMetricsListener(address.host, address.port, text);
  console.error(`berth serve: metrics on ${url}`);
}

async function runPrimary(config: ServeConfig, announce: (url: string) => void): Promise<void> {
  let stopping = false;
  let ready = 0;
  // Loaded here, not at the top: prom-client's aggregation, never express.
  const { clusterMetrics } = await import('./metrics/primary-metrics.ts');
  const metrics = clusterMetrics();
  if (config.metricsListen) await listenForMetrics(config.metricsListen, metrics);
  cluster.setupPrimary({ execArgv: workerExecArgv() });
  const fork = () => cluster.fork();
  await new Promise<void>((resolve, reject) => {
    cluster.on('message', (_worker, message: WorkerMessage) => {
      // Other messages (metrics requests and answers) pass by.
      if (message.type === 'failed') reject(new Error(message.error));
      else if (message.type === 'listening' && ++ready === config.workers) {
        announce(message.url);
        resolve();
      }
    });
    for (let i = 0; i < config.workers; i++) fork();
  });
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} exited with ${code}; starting another`);
    fork();
  });
  onShutdownSignal(() => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        process.exit(0);
      }
    }, 50);
  });
}
