/**
 * `npm run bench`: Berth (compiled, default settings) against Distribution 2.8.2 on the same
 * machine, storage and workloads, measured interleaved; prints a markdown table and writes
 * bench/results/latest.json. Never part of `npm test`.
 */
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCountingProxy } from '../peers/counting-proxy.ts';
import { buildImage } from '../peers/oci-image.ts';
import { clientMarkdown, measureClient, pushLayerSizes, type ClientRow } from './client-skopeo.ts';
import { startS3Server, type S3Server } from '../peers/s3-server.ts';
import { BUCKET_LATENCY_MS, startLatencyProxy } from '../peers/latency-proxy.ts';
import { startRedisServer, type RedisServer } from '../peers/redis-server.ts';
import { requireTools } from './http-load.ts';
import { diskWriteRate, measureMachine } from './machine.ts';
import { markdown, type BenchResults, type PeakMemory, type WorkloadResult } from './report.ts';
import { s3ReadRate } from './s3-ceiling.ts';
import { startS3Link } from './s3-link.ts';
import { startBerth, startDistribution, type BenchServer, type BenchStorage } from './servers.ts';
import { median, medianRatio } from './stats.ts';
import { MiB, type Workload } from './workload.ts';
import { blobDownload } from './workloads/blob-download.ts';
import { blobHeadRate } from './workloads/blob-head.ts';
import { catalogListing } from './workloads/catalog.ts';
import { chunkedUpload } from './workloads/chunked-upload.ts';
import { manifestGetRate } from './workloads/manifest-get.ts';
import { mirrorColdPull } from './workloads/mirror-cold-pull.ts';
import { DISTANT_NAME, mirrorConfig, UPSTREAM_NAME } from './workloads/mirror-image.ts';
import { mirrorWarmPull } from './workloads/mirror-warm-pull.ts';
import { monolithicUpload } from './workloads/monolithic-upload.ts';
import { skopeoRoundTrip } from './workloads/skopeo-round-trip.ts';
import { tagListing } from './workloads/tag-list.ts';
import { tagPush } from './workloads/tag-push.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    'no-s3': { type: 'boolean', default: false },
    's3-link-mbps': { type: 'string', default: '100' },
    's3-link-latency-ms': { type: 'string', default: '10' },
    /** Milliseconds a proxy adds to each S3 request in the bucket-latency rows (0: no such rows). */
    'bucket-latency': { type: 'string', default: String(BUCKET_LATENCY_MS) },
    /** The bucket-latency rows without Redis for Berth. */
    'no-redis': { type: 'boolean', default: false },
  },
});
const quick = flags.quick;
const runs = flags.runs === undefined ? (quick ? 2 : 5) : Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a positive whole number, not "${flags.runs}"`);
/**
 * Downloads take a fraction of a second each and swing from pair to pair (0.6-2.9x on disk,
 * 0.9-1.65x on S3): five pairs gave S3 medians from 1.08 to 1.21 where twenty gave 1.22.
 */
const downloadRuns = runs * 3;
const ROOT = join(import.meta.dirname, '..');

/** Workloads (or one server's part of them) that could not be measured, and why. */
const failures: BenchResults['failures'] = [];

function firstLine(error: unknown): string {
  return (error as Error).message.split('\n')[0]!;
}

/**
 * Runs a workload on both servers, alternating which goes first so neither always runs cold.
 * A server that fails is noted and left out of the later runs; the other one is still measured.
 */
async function measure(workload: Workload, servers: [BenchServer, BenchServer], storage: string, floor?: number): Promise<WorkloadResult[]> {
  const failed = new Map<string, string>();
  for (const server of servers) await workload.setup?.(server).catch((error: unknown) => failed.set(server.name, firstLine(error)));
  const figures: Record<string, number[]> = { berth: [], distribution: [] };
  for (let run = 0; run < workload.runs; run++) {
    const order = run % 2 ? [...servers].reverse() : servers;
    for (const server of order) {
      if (failed.has(server.name)) continue;
      await workload.measure(server, run).then(
        (figure) => figures[server.name]!.push(figure),
        (error: unknown) => failed.set(server.name, firstLine(error)),
      );
    }
  }
  for (const [name, reason] of failed) {
    console.error(`  ${workload.name} (${storage}): ${name} not measured: ${reason}`);
    failures.push({ workload: `${workload.name} on ${name}`, storage, reason });
  }
  if (failed.size === servers.length) return [];
  const result: WorkloadResult = {
    name: workload.name,
    unit: workload.unit,
    higherIsBetter: workload.higherIsBetter,
    storage,
    berth: figures.berth!,
    distribution: figures.distribution!,
    berthMedian: median(figures.berth!),
    distributionMedian: median(figures.distribution!),
    ratio: failed.size ? Number.NaN : medianRatio(figures.berth!, figures.distribution!),
    ...(floor !== undefined ? { floor } : {}),
  };
  console.error(
    `  ${workload.name} (${storage}): Berth ${result.berthMedian.toFixed(1)} vs Distribution ${result.distributionMedian.toFixed(1)} ${workload.unit}`,
  );
  return [result];
}

function selected(workload: Workload): boolean {
  return !flags.only || workload.name.toLowerCase().includes(flags.only.toLowerCase());
}

async function withServers<T>(
  storages: Record<'berth' | 'distribution', BenchStorage>,
  action: (servers: [BenchServer, BenchServer]) => Promise<T>,
): Promise<T> {
  const berth = await startBerth(storages.berth);
  const distribution = await startDistribution(storages.distribution).catch(async (error: unknown) => {
    await berth.stop();
    throw error;
  });
  const servers: [BenchServer, BenchServer] = [berth, distribution];
  try {
    return await action(servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function peakMemory(server: BenchServer): Promise<PeakMemory> {
  const peaks = await server.peakRss();
  return { largestMB: Math.max(...peaks) / 1e6, totalMB: peaks.reduce((sum, peak) => sum + peak, 0) / 1e6, processes: peaks.length };
}

/**
 * The S3 rows again behind a link with a real bucket's limits, the same for both registries; the
 * uncapped rows stay beside them. Floors from issue 26 (part 2).
 */
async function measureCappedS3(storage: Extract<BenchStorage, { kind: 's3' }>, workloads: WorkloadResult[]): Promise<void> {
  const limits = { mbPerSecond: Number(flags['s3-link-mbps']), latencyMs: Number(flags['s3-link-latency-ms']) };
  const label = `S3 capped at ${limits.mbPerSecond} MB/s per connection, +${limits.latencyMs} ms per request`;
  const plan: [Workload, number][] = [
    [monolithicUpload(256 * MiB, runs, 'bench/s3-capped'), 2],
    [blobDownload(256 * MiB, runs, 'first without local copy'), 2],
  ];
  const chosen = plan.map(([workload, floor]): [Workload, number] => [{ ...workload, name: `${workload.name}, ${label}` }, floor]).filter(([w]) => selected(w));
  if (chosen.length === 0) return;
  console.error(`${label} (a TCP link in front of s3rver, bench/s3-link.ts):`);
  const link = await startS3Link(storage.endpoint, limits);
  try {
    const capped = { ...storage, endpoint: link.endpoint, env: { ...storage.env, AWS_ENDPOINT_URL_S3: link.endpoint } };
    await withServers({ berth: capped, distribution: capped }, async (servers) => {
      for (const [workload, floor] of chosen) workloads.push(...(await measure(workload, servers, 's3', floor)));
    });
  } finally {
    await link.stop();
  }
}

const latencyMs = Number(flags['bucket-latency']);
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--bucket-latency wants milliseconds, not "${flags['bucket-latency']}"`);

/**
 * The S3 rows again with a real bucket's latency (issue 27): each registry's requests through a
 * proxy of its own that holds each one `latencyMs` (peers/latency-proxy.ts). Berth shares its
 * lookups through Redis as a replicated deployment would (storage.s3.redis), unless --no-redis;
 * Distribution keeps its in-memory cache, as shipped.
 */
async function measureBucketLatency(s3: S3Server, workloads: WorkloadResult[]): Promise<void> {
  const redis: RedisServer | undefined = flags['no-redis'] ? undefined : await startRedisServer();
  const storage = `s3 +${latencyMs} ms${redis ? ', Berth with Redis' : ''}`;
  console.error(`S3 with ${latencyMs} ms per request${redis ? ', Berth with Redis' : ''}:`);
  const proxies = await Promise.all([startLatencyProxy(s3.endpoint, { latencyMs }), startLatencyProxy(s3.endpoint, { latencyMs })]);
  const through = (endpoint: string, shared?: string): BenchStorage => ({
    kind: 's3',
    endpoint,
    bucket: s3.bucket,
    env: { ...s3.env, AWS_ENDPOINT_URL_S3: endpoint },
    ...(shared ? { redis: shared } : {}),
  });
  try {
    await withServers({ berth: through(proxies[0].endpoint, redis?.url), distribution: through(proxies[1].endpoint) }, async (servers) => {
      const plan: [Workload, number?][] = [
        [monolithicUpload(64 * MiB, runs, 'bench/s3'), 1.2],
        [chunkedUpload(64 * MiB, 16 * MiB, runs), 1.2],
        [blobHeadRate(quick ? 3 : 5, 32, runs), 1.5],
        [tagPush(quick ? 3 : 5, 4, runs), 1.5],
        [manifestGetRate(quick ? 3 : 5, 32, runs), 1.5],
        [blobDownload(64 * MiB, downloadRuns, 'first without local copy'), 1.2],
      ];
      for (const [workload, floor] of plan) if (selected(workload)) workloads.push(...(await measure(workload, servers, storage, floor)));
    });
  } finally {
    await Promise.all([...proxies.map((proxy) => proxy.stop()), redis?.stop()]);
  }
}

async function main(): Promise<void> {
  // The bench's own S3 client would print the AWS SDK's notice about this machine's Node version
  // into the results; Berth's processes are started with the same setting.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  await requireTools();
  await access(join(ROOT, 'dist/cli/main.js')).catch(() => {
    throw new Error('no build: run `npm run bench` (it builds first) or `npm run build`');
  });
  console.error('measuring the machine…');
  const machine = await measureMachine();
  const scratch = await mkdtemp(join(tmpdir(), 'bench-'));
  const roots = { berth: join(scratch, 'berth'), distribution: join(scratch, 'distribution') };
  const workloads: WorkloadResult[] = [];
  let peakRss: BenchResults['peakRss'];
  let layout = '';
  try {
    console.error('local disk:');
    const disks = { berth: { kind: 'fs', root: roots.berth }, distribution: { kind: 'fs', root: roots.distribution } } as const;
    await withServers(disks, async (servers) => {
      layout = await buildImage('v1', [24 * MiB, 8 * MiB, 1 * MiB]);
      const plan: [Workload, number?][] = [
        [monolithicUpload(256 * MiB, runs), 1.2],
        [chunkedUpload(256 * MiB, 16 * MiB, runs), 1.2],
        [blobDownload(256 * MiB, downloadRuns), 1.2],
        [blobHeadRate(quick ? 3 : 5, 32, runs), 1.5],
        [manifestGetRate(quick ? 3 : 5, 32, runs), 1.5],
        [tagListing(10_000, runs)],
        [catalogListing(10_000, runs)],
        [skopeoRoundTrip(() => layout, runs)],
      ];
      for (const [workload, floor] of plan) if (selected(workload)) workloads.push(...(await measure(workload, servers, 'fs', floor)));
    });
    // Its servers and image only where a mirror row may be wanted (every row's name says pull or mirror).
    const mirrorRows = !flags.only || ['pull', 'mirror'].some((word) => flags.only!.toLowerCase().includes(word));
    if (mirrorRows) {
      console.error('mirror (local disk; the upstream is Distribution 2.8.2 on loopback):');
      const upstream = await startDistribution({ kind: 'fs', root: join(scratch, 'upstream') });
      try {
        const image = [16 * MiB, 8 * MiB, 1 * MiB];
        // The same upstream 20 ms away per request, as a registry across a network is.
        const distant = await startCountingProxy(upstream.url, { delayMs: 20 });
        const mirrors = {
          berth: await startBerth(
            { kind: 'fs', root: join(scratch, 'mirror-berth') },
            mirrorConfig({ [UPSTREAM_NAME]: upstream.url, [DISTANT_NAME]: distant.url }),
          ),
          distribution: await startDistribution({ kind: 'fs', root: join(scratch, 'mirror-distribution') }, [`proxy: { remoteurl: "${upstream.url}" }`]),
        };
        try {
          // Cold: against the upstream itself; warm: against Distribution's proxy mode on the same upstream.
          const plan: [Workload, BenchServer][] = [
            [mirrorColdPull({ name: UPSTREAM_NAME, where: 'on loopback', host: () => upstream.host }, image, runs), upstream],
            [mirrorColdPull({ name: DISTANT_NAME, where: '20 ms away', host: () => distant.host }, image, runs), upstream],
            [mirrorWarmPull(() => upstream.host, image, runs * 2), mirrors.distribution],
          ];
          for (const [workload, other] of plan) if (selected(workload)) workloads.push(...(await measure(workload, [mirrors.berth, other], 'fs')));
        } finally {
          await Promise.all([mirrors.berth.stop(), mirrors.distribution.stop(), distant.stop()]);
        }
      } finally {
        await upstream.stop();
      }
    }
    // On fresh servers, so that their peak RSS is the peak of 1 GiB pushes. Last, because it writes
    // the most; writes through the page cache slow once the disk's free blocks are fresh ones, so
    // that rate is measured again first.
    const big = monolithicUpload(1024 * MiB, Math.min(runs, 3));
    if (selected(big)) {
      machine.diskWriteLateMBps = await diskWriteRate();
      await withServers(disks, async (servers) => {
        workloads.push(...(await measure(big, servers, 'fs', 1.2)));
        peakRss = { berth: await peakMemory(servers[0]), distribution: await peakMemory(servers[1]) };
      });
    }
    if (!flags['no-s3']) {
      // Distribution 2.8.2's s3 driver resumes an upload (each PATCH, the closing PUT) with
      // ListMultipartUploads and ListParts, which the s3rver shim in peers/s3-server.ts adds.
      console.error('S3 (s3rver on loopback, the same server for both):');
      const s3 = await startS3Server('bench');
      try {
        const storage = { kind: 's3', endpoint: s3.endpoint, bucket: s3.bucket, env: s3.env } as const;
        machine.s3GetMBps = await s3ReadRate(storage, 64 * MiB, downloadRuns);
        await withServers({ berth: storage, distribution: storage }, async (servers) => {
          const plan: [Workload, number?][] = [
            [monolithicUpload(64 * MiB, runs, 'bench/s3'), 1.2],
            [blobDownload(64 * MiB, downloadRuns), 1.2],
            [blobDownload(64 * MiB, downloadRuns, 'first'), 1.2],
            [blobDownload(64 * MiB, downloadRuns, 'first without local copy'), 1.2],
            [blobHeadRate(quick ? 3 : 5, 32, runs), 1.5],
            [manifestGetRate(quick ? 3 : 5, 32, runs), 1.5],
            [tagPush(quick ? 3 : 5, 4, runs)],
            [tagListing(10_000, runs)],
            [skopeoRoundTrip(() => layout, runs)],
          ];
          for (const [workload, floor] of plan) if (selected(workload)) workloads.push(...(await measure(workload, servers, 's3', floor)));
        });
        await measureCappedS3(storage, workloads);
        if (latencyMs > 0) await measureBucketLatency(s3, workloads);
      } finally {
        await s3.stop();
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (layout) await rm(dirname(layout), { recursive: true, force: true });
  }
  // The client against skopeo, both pulling from and pushing to Distribution 2.8.2 (issue 26); `--only client` runs these alone.
  let client: ClientRow[] = [];
  if (!flags.only || flags.only.toLowerCase() === 'client') {
    console.error('the berth client against skopeo:');
    const layers = Array.from({ length: 8 }, () => 16 * MiB);
    client = await measureClient({ pairs: runs, layers, pushLayers: pushLayerSizes(24, 64, 64), log: (line) => console.error(`  ${line}`) });
  }
  const results: BenchResults = { date: new Date().toISOString(), machine, workloads, failures, ...(peakRss ? { peakRss } : {}) };
  console.log(markdown(results));
  if (client.length) console.log(`\n${clientMarkdown(client)}`);
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify({ ...results, client }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exit(1);
});
