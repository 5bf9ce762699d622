/**
 * `npm run bench:scale`: issue 29's rows on synthetic registries of 1,000, 5,000 and 20,000
 * repositories: `berth analyze`, `berth gc` (dry run and real) beside Distribution's
 * `garbage-collect`, and over HTTP the whole catalog and a tag list beside Distribution serving the
 * same root; on local disk, on s3rver, and on s3rver behind a bucket's latency. Interleaved run by
 * run; prints the medians (wall time and peak RSS for commands) and Berth's over Distribution's.
 * Roots are kept between runs, on disk in the temp directory and in an s3rver directory there too
 * (`--fresh` writes them again).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUCKET_LATENCY_MS } from '../peers/latency-proxy.ts';
import type { S3Server } from '../peers/s3-server.ts';
import { bucketRootFor, startScaleBucket } from './scale-bucket.ts';
import { DEFAULT_BERTH_CLI } from './scale-http.ts';
import { writeScaleRoot, SCALE_DEFAULTS, type ScaleShape } from './scale-root.ts';
import { measureRows, SCALE_ROWS, type Figure, type RowFigures } from './scale-rows.ts';
import { bucketTarget, diskTarget, SCALE_STORAGES, type ScaleStorage, type ScaleTarget } from './scale-target.ts';
import { median, medianRatio } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000,20000' },
    runs: { type: 'string', default: '3' },
    /** Where the roots are served from: disk, s3 (s3rver on loopback), s3-latency (s3rver behind a bucket's latency). */
    storage: { type: 'string', default: 'disk' },
    rows: { type: 'string', default: Object.keys(SCALE_ROWS).join(',') },
    /** Milliseconds the s3-latency rows add to each S3 request. */
    latency: { type: 'string', default: String(BUCKET_LATENCY_MS) },
    fresh: { type: 'boolean', default: false },
    /** Seconds after which analyze or gc is stopped, its cell then a lower bound: Distribution's gc behind a bucket's latency runs for hours. */
    timeout: { type: 'string' },
    /** Another build of the CLI to measure (a branch's, say). */
    cli: { type: 'string', default: DEFAULT_BERTH_CLI },
  },
});
const sizes = flags.sizes.split(',').map(Number);
const runs = Number(flags.runs);
const rows = flags.rows.split(',');
const storages = flags.storage.split(',') as ScaleStorage[];
const latencyMs = Number(flags.latency);
const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
for (const row of rows) if (!SCALE_ROWS[row]) throw new Error(`--rows: no row "${row}" (rows: ${Object.keys(SCALE_ROWS).join(', ')})`);
for (const storage of storages) if (!SCALE_STORAGES.includes(storage)) throw new Error(`--storage: "${storage}" is none of ${SCALE_STORAGES.join(', ')}`);
if (!sizes.every((size) => Number.isInteger(size) && size > 0)) throw new Error(`--sizes wants repository counts, not "${flags.sizes}"`);
if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs wants a count, not "${flags.runs}"`);
if (timeout !== undefined && !(timeout > 0)) throw new Error(`--timeout wants seconds, not "${flags.timeout}"`);

/** The disk root of a shape, written once and reused: 20,000 repositories take minutes to write. */
async function diskRootFor(shape: ScaleShape): Promise<string> {
  const root = join(tmpdir(), `berth-scale-${shape.repositories}-${shape.tagsPerRepository}-${shape.layersPerImage}-${shape.poolSize}`);
  const done = join(root, 'written');
  if (flags.fresh) await rm(root, { recursive: true, force: true });
  if (!existsSync(done)) {
    await rm(root, { recursive: true, force: true });
    const started = performance.now();
    const files = await writeScaleRoot(root, shape);
    console.error(`wrote ${files} files for ${shape.repositories} repositories in ${((performance.now() - started) / 1000).toFixed(0)} s: ${root}`);
    await writeFile(done, String(files));
  }
  return root;
}

let bucket: S3Server | undefined;
async function targetFor(storage: ScaleStorage, shape: ScaleShape): Promise<ScaleTarget> {
  if (storage === 'disk') return diskTarget(await diskRootFor(shape));
  bucket ??= await startScaleBucket();
  const prefix = await bucketRootFor(bucket, shape, flags.fresh);
  const scratch = join(tmpdir(), `berth-scale-${prefix}`);
  await mkdir(scratch, { recursive: true });
  return bucketTarget(bucket, prefix, scratch, storage === 's3-latency' ? latencyMs : undefined);
}

const label: Record<ScaleStorage, string> = { disk: 'disk', s3: 's3rver', 's3-latency': `s3rver +${latencyMs} ms` };

function cell(figures: Figure[], unit: string, failed?: string): string {
  if (failed) return `failed: ${failed}`;
  if (!figures.length) return '';
  const optional = (pick: (figure: Figure) => number | undefined, suffix: string) => {
    const values = figures.flatMap((figure) => pick(figure) ?? []);
    return values.length ? `, ${median(values).toFixed(0)} ${suffix}` : '';
  };
  const value = median(figures.map((figure) => figure.value));
  const bound = figures.some((figure) => figure.stopped) ? '> ' : '';
  return `${bound}${value.toFixed(unit === 's' ? 2 : 1)} ${unit}${optional((figure) => figure.peakMiB, 'MiB')}${optional((figure) => figure.requests, 'S3 requests')}`;
}

function tableLines(storage: ScaleStorage, shape: ScaleShape, figures: RowFigures): string[] {
  const where = `${label[storage]} | ${shape.repositories} (${shape.repositories * shape.tagsPerRepository})`;
  const value = (figure: Figure) => figure.value;
  return [...figures].flatMap(([name, { berth, distribution, failed }]) => {
    const row = SCALE_ROWS[name]!;
    // Pairs only when every run of both sides gave a figure: a failed run would shift them.
    const paired = !failed.berth && !failed.distribution && distribution.length > 0;
    const line = (title: string, berthRuns: Figure[], distributionRuns: Figure[]) => {
      const stopped = (runs: Figure[]) => runs.some((figure) => figure.stopped);
      // A stopped side's time is a lower bound, so the ratio is a bound too, or nothing where both were stopped.
      const bound = stopped(distributionRuns) ? (stopped(berthRuns) ? undefined : '< ') : stopped(berthRuns) ? '> ' : '';
      const ratio = paired && bound !== undefined ? `${bound}${medianRatio(berthRuns.map(value), distributionRuns.map(value)).toFixed(2)}` : '';
      return `| ${where} | ${title} | ${cell(berthRuns, row.unit, failed.berth)} | ${cell(distributionRuns, row.unit, failed.distribution)} | ${ratio} |`;
    };
    const first = row.firstApart && runs > 1 ? [line(`${row.title}, first after start`, berth.slice(0, 1), distribution.slice(0, 1))] : [];
    return [...first, line(row.title, berth, distribution)];
  });
}

const lines = ['| storage | repositories (images) | row | Berth | Distribution | Berth / Distribution |', '|---|---|---|---:|---:|---:|'];
try {
  for (const storage of storages) {
    for (const repositories of sizes) {
      const shape = { ...SCALE_DEFAULTS, repositories };
      const target = await targetFor(storage, shape);
      try {
        const figures = await measureRows(rows, runs, { target, shape, berthCli: flags.cli, timeout });
        const measured = tableLines(storage, shape, figures);
        console.error(measured.join('\n'));
        lines.push(...measured);
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  await bucket?.stop();
}
console.log(lines.join('\n'));
