/**
 * berth pull against skopeo copy, same multi-layer image from the same Distribution 2.8.2:
 *   node --import tsx bench/client-pull.ts [--pairs N] [--layers N] [--layer-mib N]
 * berth runs as users run it: the CLI compiled to JavaScript (here into .tmp/), not through tsx.
 * Each run pulls into a fresh store. Runs alternate (berth, skopeo, berth, …) so drift on a shared
 * machine hits both; the result is the median of the pairwise time ratios. A sweep of berth's
 * download concurrency (in process, so only the transfer is timed) follows.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createHttp } from '../client/http.ts';
import { LayoutStore } from '../client/layout-store.ts';
import { parsePlatform } from '../client/platform.ts';
import { pull } from '../client/pull.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { Reference } from '../oci/reference.ts';
import { startCountingProxy } from '../peers/counting-proxy.ts';
import { buildImage, skopeoCopy } from '../peers/oci-image.ts';
import { startReferenceRegistry } from '../peers/reference-registry.ts';
import { median, medianRatio } from './stats.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '7' },
    layers: { type: 'string', default: '8' },
    'layer-mib': { type: 'string', default: '16' },
  },
});
const pairs = Number(values.pairs);
const layerSizes = Array.from({ length: Number(values.layers) }, () => Number(values['layer-mib']) * 1024 * 1024);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

async function inFreshDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pull-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Compiles the CLI the way `npm run build` does, into a scratch directory that resolves node_modules. */
async function buildCLI(): Promise<{ cli: string; remove: () => Promise<void> }> {
  const out = join(ROOT, '.tmp', `bench-client-pull-${process.pid}`);
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out]);
  return { cli: join(out, 'cli/main.js'), remove: () => rm(out, { recursive: true, force: true }) };
}

const { cli, remove: removeCLI } = await buildCLI();
const registry = await startReferenceRegistry();
const layout = await buildImage('bench', layerSizes);
try {
  const image = `${registry.host}/bench/image:v1`;
  await skopeoCopy(`oci:${layout}:bench`, `docker://${image}`);
  console.log(`image: ${layerSizes.length} layers of ${values['layer-mib']} MiB random data (tar+gzip), Distribution 2.8.2 on loopback`);

  const berthTimes: number[] = [];
  const skopeoTimes: number[] = [];
  for (let i = 0; i < pairs; i++) {
    berthTimes.push(await inFreshDir((dir) => timed(() => run(process.execPath, [cli, 'pull', image, '--store', dir, '--json']))));
    skopeoTimes.push(await inFreshDir((dir) => timed(() => skopeoCopy(`docker://${image}`, `oci:${dir}:v1`))));
    console.log(`pair ${i + 1}: berth pull ${berthTimes.at(-1)!.toFixed(3)} s, skopeo copy ${skopeoTimes.at(-1)!.toFixed(3)} s`);
  }
  console.log(`median: berth pull ${median(berthTimes).toFixed(3)} s, skopeo copy ${median(skopeoTimes).toFixed(3)} s`);
  console.log(`berth pull / skopeo copy (median of pairwise ratios): ${medianRatio(berthTimes, skopeoTimes).toFixed(2)}`);
  const startups: number[] = [];
  // `pull --help` loads what a pull loads and no more (a bare `--help` loads every command).
  for (let i = 0; i < 3; i++) startups.push(await timed(() => run(process.execPath, [cli, 'pull', '--help'])));
  const startup = median(startups);
  console.log(`of which berth's process start-up (berth pull --help): ${startup.toFixed(3)} s`);

  // Parallel downloads pay off with latency: sweep on loopback and behind a proxy adding 50 ms per request.
  const distant = await startCountingProxy(registry.url, { delayMs: 50 });
  try {
    for (const [label, host] of [
      ['loopback', registry.host],
      ['+50 ms per request', distant.host],
    ] as const) {
      const client = new RegistryClient(host, { http: createHttp(), credentials: async () => undefined });
      for (const concurrency of [1, 2, 4, 8]) {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          times.push(
            await inFreshDir(async (dir) => {
              const store = await LayoutStore.open(dir);
              return timed(() => pull(client, Reference.parse(`${host}/bench/image:v1`), { store, platform: parsePlatform(undefined), concurrency }));
            }),
          );
        }
        console.log(`in-process pull (${label}), concurrency ${concurrency}: median ${median(times).toFixed(3)} s`);
      }
    }
  } finally {
    await distant.stop();
  }
} finally {
  await registry.stop();
  await rm(join(layout, '..'), { recursive: true, force: true });
  await removeCLI();
}
