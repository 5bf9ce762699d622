import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { startProcess } from '../peers/processes.ts';
import { leanGet } from './lean-get.ts';
import { timed } from './workload.ts';

/** What the machine can do at most: the ceilings the registries' figures are measured against. */
export interface MachineLimits {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sha256MBps: number;
  diskWriteMBps: number;
  /** Measured again right before the 1 GiB pushes, which meet the disk as the earlier workloads left it. */
  diskWriteLateMBps?: number;
  /** Written past the page cache (dd, O_DIRECT) and flushed: what Berth's uploads to local disk meet. */
  diskDirectWriteMBps?: number;
  loopbackMBps: number;
  /** Straight from the S3 server to the download client, when the S3 leg runs. */
  s3GetMBps?: number;
}

const execFileAsync = promisify(execFile);

const SIZE = 512 * 1024 * 1024;
const chunk = randomBytes(1 << 20);

async function sha256Rate(): Promise<number> {
  const hash = createHash('sha256');
  const seconds = await timed(async () => {
    for (let written = 0; written < SIZE; written += chunk.length) hash.update(chunk);
  });
  hash.digest();
  return SIZE / 1e6 / seconds;
}

export async function diskWriteRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-disk-'));
  try {
    return (
      SIZE /
      1e6 /
      (await timed(async () => {
        const file = createWriteStream(join(dir, 'data'), { flush: true, highWaterMark: 1 << 20 });
        for (let written = 0; written < SIZE; written += chunk.length) if (!file.write(chunk)) await once(file, 'drain');
        file.end();
        await once(file, 'close');
      }))
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** dd writing SIZE bytes with O_DIRECT and a final fdatasync; undefined where the filesystem refuses O_DIRECT. */
export async function diskDirectWriteRate(): Promise<number | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-disk-'));
  try {
    const args = ['if=/dev/zero', `of=${join(dir, 'data')}`, 'bs=1M', `count=${SIZE >> 20}`, 'oflag=direct', 'conv=fdatasync', 'status=none'];
    return SIZE / 1e6 / (await timed(() => execFileAsync('dd', args)));
  } catch {
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A server in its own process that answers any GET with SIZE bytes from memory, in 48 KiB writes:
 * writes under one 64 KiB segment go faster over loopback than larger ones (native/sendfile.c).
 */
const MEMORY_SERVER = `
const chunk = Buffer.alloc(48 << 10, 7);
const server = require('node:http').createServer(async (req, res) => {
  res.writeHead(200, { 'Content-Length': ${SIZE} });
  for (let sent = 0; sent < ${SIZE}; sent += chunk.length) {
    if (!res.write(chunk.subarray(0, ${SIZE} - sent))) await new Promise((drained) => res.once('drain', drained));
  }
  res.end();
}).listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

/** HTTP over loopback with the download workload's client and a server doing nothing but send: the best of three. */
async function loopbackRate(): Promise<number> {
  const server = await startProcess(process.execPath, ['-e', MEMORY_SERVER], /port \d+/);
  try {
    const url = new URL(`http://127.0.0.1:${/port (\d+)/.exec(server.output())![1]}/`);
    let best = 0;
    for (let run = 0; run < 3; run++) {
      let bytes = 0;
      const seconds = await timed(async () => ({ bytes } = await leanGet(url)));
      if (bytes !== SIZE) throw new Error(`loopback: ${bytes} of ${SIZE} bytes`);
      best = Math.max(best, SIZE / 1e6 / seconds);
    }
    return best;
  } finally {
    await server.stop();
  }
}

export async function measureMachine(): Promise<MachineLimits> {
  const model = /model name\s*:\s*(.+)/.exec(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    cpu: model.trim(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    sha256MBps: await sha256Rate(),
    diskWriteMBps: await diskWriteRate(),
    diskDirectWriteMBps: await diskDirectWriteRate(),
    loopbackMBps: await loopbackRate(),
  };
}
