import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readCatalog, startScaleServers, tagListMs, type ScaleServers } from './scale-http.ts';
import { scaleRepositoryName, type ScaleShape } from './scale-root.ts';
import type { ScaleTarget } from './scale-target.ts';

const run = promisify(execFile);

/** One measurement: seconds (or milliseconds, as its row says) and, for a command, its peak RSS. */
export interface Figure {
  value: number;
  peakMiB?: number;
  /** S3 requests it made, where a proxy counts them. */
  requests?: number;
  /** The command was stopped at `--timeout`: `value` is a lower bound. */
  stopped?: boolean;
}

/** What one root gives a row to measure with: the target, and the servers for the HTTP rows. */
export interface RowContext {
  target: ScaleTarget;
  shape: ScaleShape;
  berthCli: string;
  /** Seconds after which a command is stopped (coreutils' `timeout`): a side that would run for hours still gives a bound. */
  timeout?: number;
  servers?: ScaleServers;
}

/** A bench row: Berth's side and, where it has one, Distribution's, measured one after the other in each run. */
export interface ScaleRow {
  title: string;
  unit: 's' | 'ms';
  /** It reads over HTTP: both registries serve the root while it runs. */
  http?: boolean;
  /** Its first run meets servers just started (Berth reuses a catalog walk for a while): reported on its own too. */
  firstApart?: boolean;
  berth(context: RowContext): Promise<Figure>;
  distribution?(context: RowContext): Promise<Figure>;
}

/** What `timeout` exits with when it stopped the command. */
const TIMED_OUT = 124;

/** Runs a command under GNU time (Debian's `time` package): its wall time and peak RSS. */
async function measured(command: string, args: string[], env: NodeJS.ProcessEnv, timeout?: number): Promise<Figure> {
  // Killed 10 s after the stop, should it not stop.
  const limited = timeout === undefined ? [command, ...args] : ['timeout', '--kill-after=10s', `${timeout}s`, command, ...args];
  const { stderr, stopped } = await run('/usr/bin/time', ['-f', 'bench-scale %e %M', ...limited], { env, maxBuffer: 1 << 28 }).then(
    ({ stderr }) => ({ stderr, stopped: false }),
    (error: { code?: number; stderr?: string }) => {
      if (error.code !== TIMED_OUT) throw error;
      return { stderr: error.stderr ?? '', stopped: true };
    },
  );
  const [, seconds, kib] = /bench-scale ([\d.]+) (\d+)/.exec(stderr) ?? [];
  if (!seconds) throw new Error(`${command} ${args.join(' ')}: no timing in\n${stderr}`);
  return { value: Number(seconds), peakMiB: Number(kib) / 1024, ...(stopped ? { stopped } : {}) };
}

const berthCommand =
  (...args: string[]) =>
  ({ target, berthCli, timeout }: RowContext) =>
    measured(process.execPath, [berthCli, ...args, '--storage', target.berth.storage], target.berth.env, timeout);

const distributionGc =
  (...args: string[]) =>
  async ({ target, timeout }: RowContext) =>
    measured('docker-registry', ['garbage-collect', ...args, await target.distribution.config()], target.distribution.env, timeout);

function servers(context: RowContext): ScaleServers {
  if (!context.servers) throw new Error('an HTTP row without servers');
  return context.servers;
}

/** Tag lists per run: enough for a median, few enough at a bucket's latency. */
const TAG_LISTS = 50;

const catalog = (side: 'berth' | 'distribution') => async (context: RowContext) => ({
  value: await readCatalog(servers(context)[side], context.shape.repositories),
});

const tags = (side: 'berth' | 'distribution') => async (context: RowContext) => ({
  value: await tagListMs(servers(context)[side], scaleRepositoryName(context.shape.repositories >> 1), context.shape.tagsPerRepository, TAG_LISTS),
});

/** Issue 29's rows by the names `--rows` takes. */
export const SCALE_ROWS: Record<string, ScaleRow> = {
  analyze: { title: 'analyze --json', unit: 's', berth: berthCommand('analyze', '--json') },
  'gc-dry-run': { title: 'gc --dry-run', unit: 's', berth: berthCommand('gc', '--dry-run'), distribution: distributionGc('--dry-run') },
  gc: { title: 'gc', unit: 's', berth: berthCommand('gc'), distribution: distributionGc() },
  catalog: { title: 'whole catalog, n=1000 pages', unit: 's', http: true, firstApart: true, berth: catalog('berth'), distribution: catalog('distribution') },
  tags: { title: `tag list, median of ${TAG_LISTS}`, unit: 'ms', http: true, berth: tags('berth'), distribution: tags('distribution') },
};

/** Every run of each side of each row on one root, and why a run failed, if one did (the first line of its error). */
export type RowFigures = Map<string, { berth: Figure[]; distribution: Figure[]; failed: Partial<Record<'berth' | 'distribution', string>> }>;

/**
 * Measures `names` on one root `runs` times, interleaved: each run takes every row, Berth's side and
 * Distribution's one after the other, every other run in reverse order, so that neither always meets
 * the page cache (or s3rver's) the other warmed. The HTTP rows run with both servers up, the
 * commands without them.
 */
export async function measureRows(names: string[], runs: number, context: RowContext): Promise<RowFigures> {
  const figures: RowFigures = new Map(names.map((name) => [name, { berth: [], distribution: [], failed: {} }]));
  const pass = async (selected: string[], runContext: RowContext) => {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [...selected].reverse() : selected;
      for (const name of order) {
        const { berth, distribution } = SCALE_ROWS[name]!;
        const sides = [['berth', berth], ...(distribution ? [['distribution', distribution] as const] : [])] as const;
        const row = figures.get(name)!;
        for (const [side, measure] of i % 2 ? [...sides].reverse() : sides) {
          // One side that cannot do a row (Distribution's catalog on s3rver stopped short) leaves the others to be measured.
          const counted = runContext.target.s3Requests?.[side];
          counted?.();
          await measure(runContext).then(
            (figure) => row[side].push(counted ? { ...figure, requests: counted() } : figure),
            (error: Error) => (row.failed[side] ??= error.message.split('\n')[0]!),
          );
        }
      }
    }
  };
  const http = names.filter((name) => SCALE_ROWS[name]!.http);
  await pass(
    names.filter((name) => !SCALE_ROWS[name]!.http),
    context,
  );
  if (http.length) {
    // Servers that cannot start fail the HTTP rows, not the figures the commands gave already.
    const started = await startScaleServers(context.target, context.berthCli).catch((error: Error) => {
      for (const name of http) figures.get(name)!.failed.berth = `the servers did not start: ${error.message.split('\n')[0]}`;
      return undefined;
    });
    try {
      if (started) await pass(http, { ...context, servers: started });
    } finally {
      await started?.stop();
    }
  }
  return figures;
}
