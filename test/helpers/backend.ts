/**
 * The storage a test's registry runs on, chosen by `BERTH_TEST_BACKEND` (`npm run test:backends`):
 *
 * - `fs` (the default): a directory of its own; with `BERTH_NO_ADDONS=1`, fs without the native addons.
 * - `s3`: a prefix of its own in a bucket of s3rver, as `berth serve` runs on S3 by default: the
 *   fast paths on, and local copies (in a directory of their own).
 * - `s3-plain`: the same with `storage.s3.fastPaths: false` and `localCache.size: 0`: every S3 call
 *   through the AWS SDK, no requests Berth signs itself, no splice relay, no local copies.
 *
 * One s3rver per test process, started on first use. A test that needs the fs backend (it looks at
 * files on disk, or at what only the fs driver leaves) says so with `onlyOnFs`.
 */
import { after } from 'node:test';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Driver } from '../../storage/driver.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import type { BlobCacheSettings } from '../../storage/local-copies/blob-cache.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

export type BackendName = 'fs' | 's3' | 's3-plain';

const BACKENDS: BackendName[] = ['fs', 's3', 's3-plain'];

function chosenBackend(): BackendName {
  const name = process.env.BERTH_TEST_BACKEND || 'fs';
  if (!BACKENDS.includes(name as BackendName)) throw new Error(`BERTH_TEST_BACKEND=${name}: want one of ${BACKENDS.join(', ')}`);
  return name as BackendName;
}

/** The backend of this test process. */
export const backend: BackendName = chosenBackend();

/** Test options that skip a test on every backend but fs, naming why: `it(name, onlyOnFs('…'), fn)`. */
export function onlyOnFs(reason: string): { skip?: string } {
  return backend === 'fs' ? {} : { skip: `fs only: ${reason}` };
}

/** One registry's storage, empty at first. */
export interface TestStorage {
  /** What `--storage` takes: a directory, or `s3://BUCKET/PREFIX`. */
  location: string;
  /** The directory, on the fs backend. */
  directory?: string;
  /** Opens another driver on this storage, as another process or replica would. */
  openDriver(): Driver;
  /** Local copies for a registry on this storage (the s3 backend), in a directory of their own. */
  localCache?: BlobCacheSettings;
  /** Environment for `berth` commands on this storage (S3's endpoint and credentials). */
  env: NodeJS.ProcessEnv;
  /** A config file for `berth` commands on this storage: its `storage` section, then `extra` (YAML). */
  configFile(extra?: string): Promise<string>;
  /** Makes the object at `path` look last written at `modified`, as `utimes` does a file. */
  backdate(path: string, modified: Date): Promise<void>;
  /** Removes the scratch directory: a storage directory made by `newStorage`, local copies, config files. The bucket goes with its s3rver. */
  remove(): Promise<void>;
}

let s3: Promise<S3Server> | undefined;

/** The s3rver of this process: listing pages of 250 entries, so that a few hundred objects span pages. */
function s3Server(): Promise<S3Server> {
  s3 ??= startS3Server('berth-test', [], { pageSize: 250 });
  return s3;
}

if (backend !== 'fs') {
  after(async () => {
    await (await s3)?.stop();
  });
}

let storages = 0;

/** A new, empty storage on this process's backend. */
export async function newStorage(): Promise<TestStorage> {
  const scratch = await mkdtemp(join(tmpdir(), 'berth-test-'));
  if (backend === 'fs') return fsStorage(join(scratch, 'root'), scratch);
  const server = await s3Server();
  const prefix = `registry-${process.pid}-${++storages}`;
  const location = `s3://${server.bucket}/${prefix}`;
  const plain = backend === 's3-plain';
  const openDriver = () => new S3Driver(s3Settings(location, plain ? { fastPaths: false } : {}, server.env));
  const section = plain
    ? `  url: ${location}\n  s3:\n    fastPaths: false\n  localCache:\n    size: 0\n`
    : `  url: ${location}\n  localCache:\n    path: ${scratch}/copies\n`;
  return {
    location,
    openDriver,
    ...(plain ? {} : { localCache: { directory: join(scratch, 'copies') } }),
    env: server.env,
    configFile: (extra = '') => writeConfig(scratch, `storage:\n${section}${extra}`),
    backdate: (path, modified) => server.backdate(`${prefix}/${path}`, modified),
    remove: () => rm(scratch, { recursive: true, force: true }),
  };
}

/** Storage in `directory` (made when a driver first checks it), with config files in `scratch`. */
export function fsStorage(directory: string, scratch: string): TestStorage {
  return {
    location: directory,
    directory,
    openDriver: () => new FsDriver(directory),
    env: {},
    configFile: (extra = '') => writeConfig(scratch, `storage:\n  path: ${directory}\n${extra}`),
    backdate: (path, modified) => utimes(join(directory, path), modified, modified),
    remove: () => rm(scratch, { recursive: true, force: true }),
  };
}

let configs = 0;

async function writeConfig(scratch: string, content: string): Promise<string> {
  const file = join(scratch, `config-${++configs}.yml`);
  await writeFile(file, content);
  return file;
}
