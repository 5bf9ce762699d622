/**
 * `npm run bench:scale`: `berth analyze` and `berth gc` (dry run and real) beside Distribution's
 * `garbage-collect` on synthetic registries of 1,000, 5,000 and 20,000 repositories on local disk
 * (issue 29), interleaved run by run; prints wall time and peak RSS, and Berth's time over
 * Distribution's. The roots are kept in the temp directory between runs (`--fresh` rewrites them).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { writeScaleRoot, SCALE_DEFAULTS, type ScaleShape } from './scale-root.ts';
import { median } from './stats.ts';

const run = promisify(execFile);

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000,20000' },
    runs: { type: 'string', default: '3' },
    fresh: { type: 'boolean', default: false },
    /** Another build of the CLI to measure (a branch's, say). */
    cli: { type: 'string', default: join(import.meta.dirname, '..', 'dist', 'cli', 'main.js') },
  },
});
const BERTH = flags.cli;
const sizes = flags.sizes.split(',').map(Number);
const runs = Number(flags.runs);

interface Measured {
  seconds: number;
  peakMiB: number;
}

/** Runs a command under GNU time (Debian's `time` package): its wall time and peak RSS. */
async function measured(command: string, args: string[]): Promise<Measured> {
  const { stderr } = await run('/usr/bin/time', ['-f', 'bench-scale %e %M', command, ...args], { maxBuffer: 1 << 28 });
  const [, seconds, kib] = /bench-scale ([\d.]+) (\d+)/.exec(stderr) ?? [];
  if (!seconds) throw new Error(`${command} ${args.join(' ')}: no timing in\n${stderr}`);
  return { seconds: Number(seconds), peakMiB: Number(kib) / 1024 };
}

/** The root of a shape, written once and reused: 20,000 repositories take minutes to write. */
async function rootFor(shape: ScaleShape): Promise<string> {
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

const rows = {
  'berth analyze --json': (root: string) => measured(process.execPath, [BERTH, 'analyze', '--json', '--storage', root]),
  'berth gc --dry-run': (root: string) => measured(process.execPath, [BERTH, 'gc', '--dry-run', '--storage', root]),
  'distribution garbage-collect --dry-run': (_root: string, config: string) => measured('docker-registry', ['garbage-collect', '--dry-run', config]),
  'berth gc': (root: string) => measured(process.execPath, [BERTH, 'gc', '--storage', root]),
  'distribution garbage-collect': (_root: string, config: string) => measured('docker-registry', ['garbage-collect', config]),
};

const lines = ['| repositories (images) | command | time (s) | peak RSS (MiB) | time / Distribution |', '|---|---|---:|---:|---:|'];
for (const repositories of sizes) {
  const shape = { ...SCALE_DEFAULTS, repositories };
  const root = await rootFor(shape);
  const config = join(root, 'distribution.yml');
  await writeFile(config, `version: 0.1\nlog: { level: error }\nstorage:\n  filesystem: { rootdirectory: "${root}" }\n`);
  const figures = new Map<string, Measured[]>(Object.keys(rows).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    // Alternating the order: neither always meets the page cache the other warmed.
    const order = i % 2 ? Object.entries(rows).reverse() : Object.entries(rows);
    for (const [name, row] of order) figures.get(name)!.push(await row(root, config));
  }
  const secondsOf = (name: string) => median(figures.get(name)!.map((figure) => figure.seconds));
  const reference = { 'berth gc --dry-run': 'distribution garbage-collect --dry-run', 'berth gc': 'distribution garbage-collect' } as Record<string, string>;
  for (const [name, measures] of figures) {
    const seconds = secondsOf(name);
    const ratio = reference[name] ? (seconds / secondsOf(reference[name])).toFixed(2) : '';
    const peak = median(measures.map((figure) => figure.peakMiB));
    lines.push(`| ${repositories} (${repositories * shape.tagsPerRepository}) | ${name} | ${seconds.toFixed(2)} | ${peak.toFixed(0)} | ${ratio} |`);
  }
}
console.log(lines.join('\n'));
