import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Driver } from '../../storage/driver.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { startServer, type StartOptions } from '../../registry/server.ts';
import { freePort, startProcess, type RunningProcess } from '../../peers/processes.ts';

export interface RunningBerth {
  url: string;
  /** host:port, as skopeo and image references want it. */
  host: string;
  /** The storage root directory (for the fs driver). */
  root: string;
  stop(): Promise<void>;
}

/** Starts Berth in this process on a free loopback port, over `driver` or a (new) directory. */
export async function startBerth(options: { root?: string; driver?: Driver } & Pick<StartOptions, 'auth' | 'tls' | 'log'> = {}): Promise<RunningBerth> {
  const ownsRoot = !options.root && !options.driver;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'berth-')));
  const driver = options.driver ?? new FsDriver(root);
  await driver.check();
  const running = await startServer({ driver, host: '127.0.0.1', port: 0, log: options.log ?? (() => undefined), auth: options.auth, tls: options.tls });
  return {
    url: running.url,
    host: running.url.replace(/^https?:\/\//, ''),
    root,
    async stop() {
      await running.close(1000);
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

export interface BerthProcess extends RunningBerth {
  process: RunningProcess;
}

const CLI = join(import.meta.dirname, '../../cli/main.ts');

/** Starts `berth serve` as a child process, as a user would run it. */
export async function startBerthProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<BerthProcess> {
  const port = await freePort();
  const child = await startProcess(process.execPath, ['--import', 'tsx', CLI, 'serve', '--listen', `127.0.0.1:${port}`, ...args], /listening on http:\/\/\S+/, {
    env: { ...process.env, ...env },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    root: args[args.indexOf('--storage') + 1] ?? '',
    process: child,
    async stop() {
      await child.stop();
    },
  };
}
