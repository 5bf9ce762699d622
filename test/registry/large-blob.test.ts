/** A 1 GiB blob streams through Berth without its memory growing with the blob. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';

const SIZE = 1024 * 1024 * 1024;
const CHUNK = 1 << 20;
let root: string;
let server: BerthProcess;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-large-'));
  server = await startBerthProcess(['--storage', root, '--workers', '1']);
});
after(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

/** The same pseudo-random 1 GiB twice over: a seed chunk with a per-chunk counter stamped in. */
function content(seed: Buffer): Readable {
  let index = 0;
  return new Readable({
    read() {
      if (index * CHUNK >= SIZE) return this.push(null);
      const chunk = Buffer.from(seed);
      chunk.writeUInt32BE(index++, 0);
      this.push(chunk);
    },
  });
}

async function peakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

it('pushes and pulls 1 GiB with the server peak RSS under 150 MB', async () => {
  const seed = randomBytes(CHUNK);
  const hash = createHash('sha256');
  for await (const chunk of content(seed)) hash.update(chunk as Buffer);
  const digest = `sha256:${hash.digest('hex')}`;
  const url = new URL(`${server.url}/v2/large/blob/blobs/uploads/?digest=${digest}`);
  const status = await new Promise<number>((resolve, reject) => {
    const upload = request(url, { method: 'POST', headers: { 'Content-Length': SIZE } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', reject);
    content(seed).pipe(upload);
  });
  assert.equal(status, 201);

  const pulled = createHash('sha256');
  let bytes = 0;
  const download = await fetch(`${server.url}/v2/large/blob/blobs/${digest}`);
  for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
    pulled.update(chunk);
    bytes += chunk.length;
  }
  assert.equal(bytes, SIZE);
  assert.equal(`sha256:${pulled.digest('hex')}`, digest);

  const peak = await peakRssBytes(server.process.child.pid!);
  console.log(`server peak RSS over a 1 GiB push and pull: ${(peak / 1e6).toFixed(1)} MB`);
  assert.ok(peak < 150e6, `peak RSS ${peak} bytes`);
});
