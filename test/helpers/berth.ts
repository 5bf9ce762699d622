import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Driver } from '../../storage/driver.ts';
import { startServer, type StartOptions } from '../../registry/server.ts';
import { startProcess, type RunningProcess } from '../../peers/processes.ts';
import { backend, fsStorage, newStorage, type TestStorage } from './backend.ts';

export interface RunningBerth {
  url: string;
  /** host:port, as skopeo and image references want it. */
  host: string;
  /** The storage root directory: on the fs backend only (a test on S3 goes through `storage`). */
  readonly root: string;
  /** The storage it serves, on the test backend (or the given root). */
  storage: TestStorage;
  stop(): Promise<void>;
}

/**
 * Starts Berth in this process on a free loopback port, over `driver`, or a driver on `storage`,
 * on the directory `root`, or on new storage of the test backend (backend.ts) with its local copies.
 */
export async function startBerth(
  options: { root?: string; driver?: Driver; storage?: TestStorage } & Pick<StartOptions, 'auth' | 'tls' | 'log'> = {},
): Promise<RunningBerth> {
  const scratch = () => mkdtemp(join(tmpdir(), 'berth-'));
  const ownsStorage = !options.storage;
  const ownDirectory = async () => {
    // With only a driver given, a directory of its own as `root`, as before: the driver need not use it.
    const directory = await scratch();
    return fsStorage(directory, directory);
  };
  const storage = options.storage ?? (options.root ? fsStorage(options.root, await scratch()) : options.driver ? await ownDirectory() : await newStorage());
  const driver = options.driver ?? storage.openDriver();
  await driver.check();
  // Local copies go with the storage a driver of the test's own sits on, as with one opened here.
  const localCache = options.storage || !options.driver ? storage.localCache : undefined;
  const running = await startServer({
    driver,
    host: '127.0.0.1',
    port: 0,
    log: options.log ?? (() => undefined),
    auth: options.auth,
    tls: options.tls,
    ...(localCache ? { localCache } : {}),
  });
  return {
    url: running.url,
    host: running.url.replace(/^https?:\/\//, ''),
    get root() {
      if (!storage.directory) throw new Error(`berth.root is the fs backend's directory; on ${backend}, go through berth.storage`);
      return storage.directory;
    },
    storage,
    async stop() {
      await running.close(1000);
      if (ownsStorage) await storage.remove();
    },
  };
}

export interface BerthProcess extends Omit<RunningBerth, 'storage'> {
  process: RunningProcess;
}

const CLI = join(import.meta.dirname, '../../cli/main.ts');

/** Starts `berth serve` as a child process, as a user would run it, on a port the kernel picks as it binds. */
export async function startBerthProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<BerthProcess> {
  const child = await startProcess(process.execPath, ['--import', 'tsx', CLI, 'serve', '--listen', '127.0.0.1:0', ...args], /listening on http:\/\/\S+/, {
    env: { ...process.env, ...env },
  });
  const url = announcedUrl(child.output(), 'listening on');
  return {
    url,
    host: new URL(url).host,
    root: args[args.indexOf('--storage') + 1] ?? '',
    process: child,
    async stop() {
      await child.stop();
    },
  };
}

/** The URL a server printed after `label` (a port picked at bind time is known only from there). */
export function announcedUrl(output: string, label: string): string {
  const url = new RegExp(`${label} (https?://[^\\s/]+)`).exec(output)?.[1];
  if (!url) throw new Error(`no "${label} <url>" in:\n${output}`);
  return url;
}
