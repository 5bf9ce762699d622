/**
 * `npm run bench:upload-memory`: what each concurrent upload costs in memory (issue 29). Berth
 * (compiled, its defaults: a primary and a worker per core) and Distribution 2.8.2 each take
 * `--uploads` concurrent monolithic uploads of `--mib` MiB on local disk; the figure is the peak
 * resident memory summed over the server's processes, less what they held idle, per upload.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pushBlob } from './blob-push.ts';
import { RandomBlob } from './blob-source.ts';
import { startBerth, startDistribution, type BenchServer } from './servers.ts';
import { median } from './stats.ts';
import { MiB } from './workload.ts';

const { values: flags } = parseArgs({
  options: {
    uploads: { type: 'string', default: '64' },
    mib: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
  },
});
const uploads = Number(flags.uploads);
const size = Number(flags.mib) * MiB;
const KiB = 1024;

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** Pushes `blobs` at once while sampling the server's resident memory; the growth above idle per upload. */
async function growthPerUpload(server: BenchServer, blobs: RandomBlob[], run: number): Promise<number> {
  // One upload first, so the idle figure includes code and buffers every upload shares.
  await pushBlob(server, `warm/r${run}`, RandomBlob.create(MiB));
  const idle = sum(await server.rss());
  let peak = idle;
  const sampler = setInterval(() => void server.rss().then((rss) => (peak = Math.max(peak, sum(rss)))), 20);
  try {
    await Promise.all(blobs.map((blob, i) => pushBlob(server, `load/r${run}-${i}`, blob)));
  } finally {
    clearInterval(sampler);
  }
  return (peak - idle) / blobs.length;
}

/**
 * Growth at `uploads` and at a quarter of them: their difference per upload is what one more
 * concurrent upload costs. The rest is per process whatever the load: in each worker the
 * direct-write slices (storage/drivers/fs/direct-sink.ts, 4 MiB at most) and V8's young generation
 * (held at 1 MiB a half, registry/cluster.ts). Body chunks, which Node's HTTP parser copies each
 * into a buffer of its own, are freed as they are stored (storage/chunk-ownership.ts); left to V8's
 * scavenges they held ~10-15 MiB per worker.
 */
const levels = [Math.max(1, Math.floor(uploads / 4)), uploads];
const figures = new Map<string, Map<number, number[]>>();
for (let run = 0; run < Number(flags.runs); run++) {
  for (const level of levels) {
    const blobs = Array.from({ length: level }, () => RandomBlob.create(size));
    const starts = (run + level) % 2 ? [startDistribution, startBerth] : [startBerth, startDistribution];
    for (const start of starts) {
      const root = await mkdtemp(join(tmpdir(), 'bench-upload-memory-'));
      const server = await start({ kind: 'fs', root });
      try {
        const byLevel = figures.get(server.name) ?? new Map<number, number[]>();
        figures.set(server.name, byLevel);
        byLevel.set(level, [...(byLevel.get(level) ?? []), (await growthPerUpload(server, blobs, run)) * level]);
      } finally {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      }
    }
  }
}
/** Issue 29's floor: growth per upload at the higher level, summed over the server's processes. */
const FLOOR_KIB = 512;
const [few, many] = levels as [number, number];
console.log(
  `| ${flags.mib} MiB uploads | growth above idle at ${few} (MiB) | at ${many} (MiB) | per upload at ${many} (KiB) | each upload from ${few} to ${many} (KiB) | floor |`,
);
console.log('|---|---:|---:|---:|---:|---|');
for (const [name, byLevel] of figures) {
  const atFew = median(byLevel.get(few)!);
  const atMany = median(byLevel.get(many)!);
  const perUpload = atMany / many / KiB;
  const floor = name === 'berth' ? `≤ ${FLOOR_KIB} KiB ${perUpload <= FLOOR_KIB ? '✓' : '✗'}` : '';
  console.log(
    `| ${name} | ${(atFew / MiB).toFixed(1)} | ${(atMany / MiB).toFixed(1)} | ${perUpload.toFixed(0)} | ${((atMany - atFew) / (many - few) / KiB).toFixed(0)} | ${floor} |`,
  );
}
