import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { Digest } from '../oci/digest.ts';
import { paths } from '../storage/paths.ts';
import type { SeedFile } from './seed-layout.ts';
import { childPids, freePort, startProcess, type RunningProcess } from '../peers/processes.ts';

/** A registry under benchmark: where it listens and how to read its memory. */
export interface BenchServer {
  name: 'berth' | 'distribution';
  url: string;
  host: string;
  /** Peak resident memory (VmHWM) of each of its processes in bytes: the primary first, then any workers. */
  peakRss(): Promise<number[]>;
  /** Resident memory (VmRSS) of each of its processes now, in bytes. */
  rss(): Promise<number[]>;
  /** Removes a blob's bytes from the server's store behind its back; see `blobDiscarder`. */
  discardBlob(digest: string): Promise<void>;
  /** Writes files straight into the server's store, behind its back; see `storeSeeder`. */
  seed(files: SeedFile[]): Promise<void>;
  /** Removes the local copies of S3 blobs the server keeps (Berth), as if another machine had served it. */
  forgetLocalCopies(): Promise<void>;
  stop(): Promise<void>;
}

/** Storage both servers use, with equivalent settings. */
export type BenchStorage =
  | { kind: 'fs'; root: string }
  /** `redis`: Berth shares its lookups through this Redis (storage.s3.redis); Distribution ignores it. */
  | { kind: 's3'; endpoint: string; bucket: string; env: NodeJS.ProcessEnv; redis?: string };

const ROOT = join(import.meta.dirname, '..');
/** The Berth build under benchmark: this checkout's, or another's (`BERTH_BENCH_CLI`, a branch's build, say) to compare. */
const BERTH_CLI = process.env.BERTH_BENCH_CLI ?? join(ROOT, 'dist/cli/main.js');
/** Where each server keeps its tree in a shared bucket. */
const BERTH_PREFIX = 'berth';
const DISTRIBUTION_PREFIX = 'distribution';

/** Runs `action` with a client of the bench's S3 server (the credentials both registries use), closed after. */
export async function withBenchS3Client<T>(storage: Extract<BenchStorage, { kind: 's3' }>, action: (client: S3Client) => Promise<T>): Promise<T> {
  const client = new S3Client({
    region: storage.env.AWS_REGION ?? 'us-east-1',
    endpoint: storage.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: storage.env.AWS_ACCESS_KEY_ID!, secretAccessKey: storage.env.AWS_SECRET_ACCESS_KEY! },
  });
  try {
    return await action(client);
  } finally {
    client.destroy();
  }
}

/**
 * Upload workloads drop each run's blob once it is timed. This machine's disk writes blocks it
 * never held before at about a sixth of the rate of blocks freed again (~240 vs ~1400 MB/s,
 * flushed), so a store left to grow by GiBs of benchmark blobs pins both servers to that rate and
 * measures the disk, not them. Both servers share Distribution's layout, so one path serves both.
 */
function blobDiscarder(storage: BenchStorage, prefix: string): (digest: string) => Promise<void> {
  const blobPath = (digest: string) => paths.blobData(Digest.parse(digest));
  if (storage.kind === 'fs') return (digest) => rm(join(storage.root, blobPath(digest)), { force: true });
  return (digest) =>
    withBenchS3Client(storage, (client) => client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: `${prefix}/${blobPath(digest)}` }))).then(
      () => undefined,
    );
}

/** Files written this many at a time: on S3, s3rver takes them one request each. */
const SEED_CONCURRENCY = 64;

/** Writes files under a server's root (its prefix in the shared bucket), as a seeded layout. */
function storeSeeder(storage: BenchStorage, prefix: string): (files: SeedFile[]) => Promise<void> {
  if (storage.kind === 'fs') {
    return async (files) => {
      await pMap(
        files,
        async ([path, content]) => {
          await mkdir(dirname(join(storage.root, path)), { recursive: true });
          await writeFile(join(storage.root, path), content);
        },
        { concurrency: SEED_CONCURRENCY },
      );
    };
  }
  return async (files) => {
    await withBenchS3Client(storage, (client) =>
      pMap(files, ([path, content]) => client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: `${prefix}/${path}`, Body: content })), {
        concurrency: SEED_CONCURRENCY,
      }),
    );
  };
}

/** A figure of /proc/<pid>/status in bytes: VmHWM (the peak) or VmRSS (now). */
async function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

/** The process and, for Berth's cluster, its workers. */
async function processTree(pid: number): Promise<number[]> {
  return [pid, ...(await Promise.all((await childPids(pid)).map(processTree))).flat()];
}

async function memoryOf(process: RunningProcess, field: 'VmHWM' | 'VmRSS'): Promise<number[]> {
  return Promise.all((await processTree(process.child.pid!)).map((pid) => statusBytes(pid, field)));
}

/** Berth from the compiled build with `berth serve`'s defaults (one worker per core); `extraConfig` adds YAML sections (`mirror:`). */
export async function startBerth(storage: BenchStorage, extraConfig = ''): Promise<BenchServer> {
  const port = await freePort();
  const target = storage.kind === 'fs' ? storage.root : `s3://${storage.bucket}/${BERTH_PREFIX}`;
  // Its local copies of S3 blobs (default size) go where the bench cleans up, not to the machine's cache.
  const scratch = await mkdtemp(join(tmpdir(), 'bench-berth-'));
  const config = join(scratch, 'berth.yml');
  const redis = storage.kind === 's3' && storage.redis ? `  s3:\n    redis: ${storage.redis}\n` : '';
  await writeFile(config, `storage:\n  url: ${target}\n${redis}  localCache:\n    path: ${join(scratch, 'cache')}\n${extraConfig}`);
  const child = await startProcess(process.execPath, [BERTH_CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--config', config], /listening on/, {
    env: { ...process.env, ...(storage.kind === 's3' ? storage.env : {}), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return {
    name: 'berth',
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    peakRss: () => memoryOf(child, 'VmHWM'),
    rss: () => memoryOf(child, 'VmRSS'),
    discardBlob: blobDiscarder(storage, BERTH_PREFIX),
    seed: storeSeeder(storage, BERTH_PREFIX),
    async forgetLocalCopies() {
      const copies = join(scratch, 'cache', 'sha256');
      await Promise.all((await readdir(copies).catch(() => [] as string[])).map((name) => rm(join(copies, name), { force: true })));
    },
    async stop() {
      await child.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

function distributionStorage(storage: BenchStorage): string[] {
  if (storage.kind === 'fs') return [`  filesystem: { rootdirectory: "${storage.root}" }`];
  return [
    '  s3:',
    `    accesskey: ${storage.env.AWS_ACCESS_KEY_ID}`,
    `    secretkey: ${storage.env.AWS_SECRET_ACCESS_KEY}`,
    '    region: us-east-1',
    `    regionendpoint: ${storage.endpoint}`,
    `    bucket: ${storage.bucket}`,
    `    rootdirectory: /${DISTRIBUTION_PREFIX}`,
    '    secure: false',
    '    v4auth: true',
    // Berth serves blob GETs itself unless told to redirect; Distribution redirects to a presigned URL unless told not to.
    '  redirect: { disable: true }',
  ];
}

/** Debian's docker-registry (Distribution 2.8.2) on the same kind of storage, logging off; `extraConfig` adds top-level YAML lines (`proxy:`). */
export async function startDistribution(storage: BenchStorage, extraConfig: string[] = []): Promise<BenchServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'bench-distribution-'));
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      'storage:',
      ...distributionStorage(storage),
      // As Debian's config and the registry:2 image ship it: blob descriptors and repository
      // membership cached in memory, so a repeated HEAD asks storage nothing and a GET only for bytes.
      '  cache: { blobdescriptor: inmemory }',
      '  delete: { enabled: true }',
      '  maintenance: { uploadpurging: { enabled: false } }',
      `http: { addr: "127.0.0.1:${port}" }`,
      ...extraConfig,
      '',
    ].join('\n'),
  );
  // aws-sdk-go refuses a custom CA bundle with the driver's own HTTP transport, and panics;
  // the endpoint here is plain HTTP, so the bundle has nothing to do anyway.
  const { AWS_CA_BUNDLE: _unused, ...env } = process.env;
  const child = spawn('docker-registry', ['serve', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  // With logging at `error` it prints nothing when well: "ready" is its HTTP port answering.
  await waitForHTTP(`http://127.0.0.1:${port}/v2/`, () => exitCode !== undefined).catch(async (error: Error) => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${error.message}; docker-registry said:\n${errors.split('\n').slice(0, 3).join('\n')}`);
  });
  return {
    name: 'distribution',
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    peakRss: async () => [await statusBytes(child.pid!, 'VmHWM')],
    rss: async () => [await statusBytes(child.pid!, 'VmRSS')],
    discardBlob: blobDiscarder(storage, DISTRIBUTION_PREFIX),
    seed: storeSeeder(storage, DISTRIBUTION_PREFIX),
    // It keeps none: every read is a read of its storage.
    forgetLocalCopies: () => Promise.resolve(),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForHTTP(url: string, gone: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (gone()) throw new Error(`the server for ${url} exited before it answered`);
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within 10 s`);
}
