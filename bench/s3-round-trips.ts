/**
 * `node --import tsx bench/s3-round-trips.ts`: S3 requests per registry operation for Berth (the
 * build, `berth serve`'s defaults) and Distribution 2.8.2, each on its own prefix of one s3rver,
 * counted at a latency proxy in front of it (peers/latency-proxy.ts). Prints a markdown table.
 */
import { parseArgs } from 'node:util';
import { BUCKET_LATENCY_MS, startLatencyProxy, type RoundTrips } from '../peers/latency-proxy.ts';
import { startS3Server } from '../peers/s3-server.ts';
import { countRoundTrips, OPERATIONS, type Operation } from './round-trips.ts';
import { startBerth, startDistribution, type BenchServer, type BenchStorage } from './servers.ts';

const { values: flags } = parseArgs({ options: { latency: { type: 'string', default: String(BUCKET_LATENCY_MS) } } });

async function count(start: (storage: BenchStorage) => Promise<BenchServer>, s3: Awaited<ReturnType<typeof startS3Server>>) {
  const proxy = await startLatencyProxy(s3.endpoint, { latencyMs: Number(flags.latency) });
  const server = await start({ kind: 's3', endpoint: proxy.endpoint, bucket: s3.bucket, env: { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint } });
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
  try {
    const berth = await count(startBerth, s3);
    const distribution = await count(startDistribution, s3);
    const rows = OPERATIONS.map((operation: Operation) => `| ${operation} | ${cell(berth.get(operation))} | ${cell(distribution.get(operation))} |`);
    console.log(['| operation | Berth: requests (sequential) | Distribution 2.8.2 |', '|---|---:|---:|', ...rows].join('\n'));
  } finally {
    await s3.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`s3-round-trips: ${(error as Error).message}`);
  process.exit(1);
});
