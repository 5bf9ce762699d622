import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { timed } from './workload.ts';

/** What the machine can do at most: the ceilings the registries' figures are measured against. */
export interface MachineLimits {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sha256MBps: number;
  diskWriteMBps: number;
  loopbackMBps: number;
}

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

async function diskWriteRate(): Promise<number> {
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

async function loopbackRate(): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const seconds = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'Content-Length': SIZE } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        void (async () => {
          for (let written = 0; written < SIZE; written += chunk.length) if (!req.write(chunk)) await once(req, 'drain');
          req.end();
        })();
      }),
  );
  server.close();
  return SIZE / 1e6 / seconds;
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
    loopbackMBps: await loopbackRate(),
  };
}
