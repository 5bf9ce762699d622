/**
 * The `berth` client against skopeo (issue 26), on Distribution 2.8.2 on loopback:
 *   node --import tsx bench/client-skopeo.ts [--pairs N] [--layers N] [--layer-mib N] [--cli dist/cli/main.js]
 * and a part of `npm run bench`. berth runs as users run it, the command package.json installs
 * (build first). Each row is measured in interleaved pairs (berth, skopeo, skopeo, berth, …) so
 * that drift on a shared machine hits both, and reported as the median of the pairwise ratios.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildImage, skopeoCopy } from '../peers/oci-image.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../peers/reference-registry.ts';
import { median, medianRatio } from './stats.ts';
import { MiB, timed } from './workload.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

export interface ClientRow {
  name: string;
  /** What berth is measured against: skopeo, or for start-up a bare `node -e ''`. */
  reference: string;
  berth: number[];
  other: number[];
  berthMedian: number;
  otherMedian: number;
  /** Median of berth[i] / other[i]: time taken, so lower is better. */
  ratio: number;
  /** The most berth's time may be, as a multiple of the reference's. */
  ceiling?: number;
}

export interface ClientBenchOptions {
  pairs: number;
  /** Layers of the pulled image (random bytes, tar+gzip). */
  layers: number[];
  /** Layers of the pushed image: many small ones and a large one. */
  pushLayers: number[];
  /** Another build's CLI to measure (an earlier commit's, say) instead of the one package.json installs. */
  cli?: string;
  log?: (line: string) => void;
}

/** The `berth` command package.json installs, from the build. */
async function installedCLI(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(ROOT, manifest.bin.berth!);
}

async function scratchDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * skopeo keeps a blob-info cache under $HOME that lets a later copy mount or skip blobs it saw
 * before; each of its runs gets a home of its own, as berth's each get a fresh store.
 */
function skopeo(args: string[], home: string): Promise<unknown> {
  return run('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...args], { env: { ...process.env, HOME: home }, maxBuffer: 1 << 24 });
}

function row(name: string, reference: string, berth: number[], other: number[], ceiling?: number): ClientRow {
  return {
    name,
    reference,
    berth,
    other,
    berthMedian: median(berth),
    otherMedian: median(other),
    ratio: medianRatio(berth, other),
    ...(ceiling !== undefined ? { ceiling } : {}),
  };
}

/** Runs `pairs` interleaved pairs, alternating which side goes first. */
async function pairsOf(pairs: number, berth: () => Promise<number>, other: () => Promise<number>): Promise<[number[], number[]]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      times[0].push(await berth());
      times[1].push(await other());
    } else {
      times[1].push(await other());
      times[0].push(await berth());
    }
  }
  return times;
}

/** A registry of its own for one timed run: no blob of an earlier run to find, mount or skip. */
async function withFreshRegistry<T>(work: (registry: ReferenceRegistry) => Promise<T>): Promise<T> {
  const registry = await startReferenceRegistry();
  try {
    return await work(registry);
  } finally {
    await registry.stop();
  }
}

export async function measureClient(options: ClientBenchOptions): Promise<ClientRow[]> {
  const log = options.log ?? (() => undefined);
  const cli = options.cli ?? (await installedCLI());
  const berth = (args: string[]) => run(process.execPath, [cli, ...args, '--json'], { maxBuffer: 1 << 24 });
  const rows: ClientRow[] = [];
  const source = await startReferenceRegistry();
  const pullLayout = await buildImage('bench', options.layers);
  const pushLayout = await buildImage('bench', options.pushLayers);
  try {
    const image = `${source.host}/bench/image:v1`;
    await skopeoCopy(`oci:${pullLayout}:bench`, `docker://${image}`);

    // Cold and warm pulls: each pair pulls into fresh stores, then pulls the same image again.
    const cold: [number[], number[]] = [[], []];
    const warm: [number[], number[]] = [[], []];
    const pullTwice = async (side: 0 | 1) => {
      const scratch = await scratchDir('bench-client-pull-');
      try {
        const store = join(scratch.dir, 'store');
        const once = () => (side === 0 ? berth(['pull', image, '--store', store]) : skopeo([`docker://${image}`, `oci:${store}:v1`], scratch.dir));
        cold[side].push(await timed(once));
        warm[side].push(await timed(once));
      } finally {
        await scratch.remove();
      }
    };
    for (let i = 0; i < options.pairs; i++) {
      for (const side of i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const)) await pullTwice(side);
      log(
        `pull pair ${i + 1}: cold berth ${cold[0].at(-1)!.toFixed(3)} s, skopeo ${cold[1].at(-1)!.toFixed(3)} s; warm berth ${warm[0].at(-1)!.toFixed(3)} s, skopeo ${warm[1].at(-1)!.toFixed(3)} s`,
      );
    }
    const layers = `${options.layers.length} × ${options.layers[0]! / MiB} MiB`;
    rows.push(row(`cold pull, ${layers} layers`, 'skopeo copy', ...cold, 0.8));
    rows.push(row(`warm re-pull (every blob in the store)`, 'skopeo copy', ...warm, 2));

    // Push of many small layers and a large one, each run to a registry of its own.
    const small = options.pushLayers.filter((size) => size < MiB).length;
    const push = await pairsOf(
      options.pairs,
      async () => {
        const scratch = await scratchDir('bench-client-push-');
        try {
          // berth notes in its store where blobs went; a copy of the layout per run keeps that from helping the next.
          await cp(pushLayout, scratch.dir, { recursive: true });
          return await withFreshRegistry((registry) =>
            timed(() => berth(['push', `${registry.host}/bench/pushed:v1`, '--store', scratch.dir, '--from', 'bench'])),
          );
        } finally {
          await scratch.remove();
        }
      },
      async () => {
        const scratch = await scratchDir('bench-client-push-');
        try {
          return await withFreshRegistry((registry) =>
            timed(() => skopeo([`oci:${pushLayout}:bench`, `docker://${registry.host}/bench/pushed:v1`], scratch.dir)),
          );
        } finally {
          await scratch.remove();
        }
      },
    );
    log(`push: berth ${push[0].map((t) => t.toFixed(3)).join(' ')} s; skopeo ${push[1].map((t) => t.toFixed(3)).join(' ')} s`);
    rows.push(
      row(`push, ${small} small layers and ${options.pushLayers.length - small} of ${Math.max(...options.pushLayers) / MiB} MiB`, 'skopeo copy', ...push, 0.8),
    );

    // Copy between two registries, to a registry of its own each run.
    const copy = await pairsOf(
      options.pairs,
      () => withFreshRegistry((target) => timed(() => berth(['copy', image, `${target.host}/bench/copied:v1`]))),
      async () => {
        const scratch = await scratchDir('bench-client-copy-');
        try {
          return await withFreshRegistry((target) => timed(() => skopeo([`docker://${image}`, `docker://${target.host}/bench/copied:v1`], scratch.dir)));
        } finally {
          await scratch.remove();
        }
      },
    );
    log(`copy: berth ${copy[0].map((t) => t.toFixed(3)).join(' ')} s; skopeo ${copy[1].map((t) => t.toFixed(3)).join(' ')} s`);
    rows.push(row(`copy registry to registry, ${layers} layers`, 'skopeo copy', ...copy));

    // Start-up: what a command costs before it does anything, against Node's own.
    const node = () => timed(() => run(process.execPath, ['-e', '']));
    const help = await pairsOf(options.pairs, () => timed(() => run(process.execPath, [cli, '--help'])), node);
    rows.push(row('start-up: berth --help', "node -e ''", ...help));
    const pullHelp = await pairsOf(options.pairs, () => timed(() => run(process.execPath, [cli, 'pull', '--help'])), node);
    rows.push(row('start-up: berth pull --help (what a pull loads)', "node -e ''", ...pullHelp));
  } finally {
    await source.stop();
    await rm(join(pullLayout, '..'), { recursive: true, force: true });
    await rm(join(pushLayout, '..'), { recursive: true, force: true });
  }
  return rows;
}

function seconds(value: number): string {
  return value.toFixed(3);
}

export function clientMarkdown(rows: ClientRow[]): string {
  const lines = [
    '| client workload | berth (median, s) | reference | reference (median, s) | berth/reference (median of pairs) | ceiling |',
    '|---|---:|---|---:|---:|---|',
  ];
  for (const r of rows) {
    const ceiling = r.ceiling === undefined ? '' : `≤ ${r.ceiling}× ${r.ratio <= r.ceiling ? '✓' : '✗'}`;
    lines.push(`| ${r.name} | ${seconds(r.berthMedian)} | ${r.reference} | ${seconds(r.otherMedian)} | ${r.ratio.toFixed(2)} | ${ceiling} |`);
  }
  return lines.join('\n');
}

/** The small layers and the large one of the pushed image. */
export function pushLayerSizes(small: number, smallKiB: number, largeMiB: number): number[] {
  return [...Array.from({ length: small }, () => smallKiB * 1024), largeMiB * MiB];
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '5' },
      layers: { type: 'string', default: '8' },
      'layer-mib': { type: 'string', default: '16' },
      cli: { type: 'string' },
    },
  });
  const rows = await measureClient({
    pairs: Number(values.pairs),
    layers: Array.from({ length: Number(values.layers) }, () => Number(values['layer-mib']) * MiB),
    pushLayers: pushLayerSizes(24, 64, 64),
    ...(values.cli ? { cli: values.cli } : {}),
    log: (line) => console.error(line),
  });
  console.log(clientMarkdown(rows));
}
