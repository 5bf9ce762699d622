/**
 * `node --import tsx bench/s3-round-trips.ts`: S3 requests per registry operation for Berth (the
 * build, `berth serve`'s defaults) and Distribution 2.8.2, each on its own prefix of one s3rver,
 * counted at a latency proxy in front of it (peers/latency-proxy.ts). Prints a markdown table.
 * `--redis`: Berth shares its lookups through a redis-server started for the run (storage.s3.redis).
 */
import { parseArgs } from 'node:util';
import { BUCKET_LATENCY_MS, startLatencyProxy, type RoundTrips } from '../peers/latency-proxy.ts';
import { startRedisServer } from '../peers/redis-server.ts';
import { startS3Server, type S3Server } from '../peers/s3-server.ts';
import { countRoundTrips, OPERATIONS, type Operation } from './round-trips.ts';
import { startBerth, startDistribution, type BenchServer, type BenchStorage } from './servers.ts';

const { values: flags } = parseArgs({
  options: { latency: { type: 'string', default: String(BUCKET_LATENCY_MS) }, redis: { type: 'boolean', default: false } },
});

async function count(start: (storage: BenchStorage) => Promise<BenchServer>, s3: S3Server, redis?: string) {
  const proxy = await startLatencyProxy(s3.endpoint, { latencyMs: Number(flags.latency) });
  const env = { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  const server = await start({ kind: 's3', endpoint: proxy.endpoint, bucket: s3.bucket, env, ...(redis ? { redis } : {}) });
  try {
    return await countRoundTrips(server.url, proxy);
  } finally {
    await server.stop();
    await proxy.stop();
  }
}

function cell(trips: RoundTrips | undefined): string {
  return trips ? `${trips.requests} (${trips.sequential})` : 'n/a';
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const s3 = await startS3Server('round-trips');
  const redis = flags.redis ? await startRedisServer() : undefined;
  try {
    const berth = await count(startBerth, s3, redis?.url);
    const distribution = await count(startDistribution, s3);
    const rows = OPERATIONS.map((operation: Operation) => `| ${operation} | ${cell(berth.get(operation))} | ${cell(distribution.get(operation))} |`);
    console.log([`| operation | Berth${redis ? ' with Redis' : ''}: requests (sequential) | Distribution 2.8.2 |`, '|---|---:|---:|', ...rows].join('\n'));
  } finally {
    await Promise.all([s3.stop(), redis?.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(`s3-round-trips: ${(error as Error).message}`);
  process.exit(1);
});
