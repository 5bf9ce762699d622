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

/** `size` pseudo-random bytes, the same each time: a seed chunk with a per-chunk counter stamped in. */
function content(seed: Buffer, size: number): Readable {
  let index = 0;
  return new Readable({
    read() {
      if (index * CHUNK >= size) return this.push(null);
      const chunk = Buffer.from(seed);
      chunk.writeUInt32BE(index++, 0);
      this.push(chunk);
    },
  });
}

async function peakRss(): Promise<number> {
  const status = await readFile(`/proc/${server.process.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** Pushes with a single streamed POST, pulls back, and checks the bytes' digest. */
async function roundTrip(size: number): Promise<void> {
  const seed = randomBytes(CHUNK);
  const hash = createHash('sha256');
  for await (const chunk of content(seed, size)) hash.update(chunk as Buffer);
  const digest = `sha256:${hash.digest('hex')}`;
  const url = new URL(`${server.url}/v2/large/blob/blobs/uploads/?digest=${digest}`);
  const status = await new Promise<number>((resolve, reject) => {
    const upload = request(url, { method: 'POST', headers: { 'Content-Length': size } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', reject);
    content(seed, size).pipe(upload);
  });
  assert.equal(status, 201);
  const pulled = createHash('sha256');
  let bytes = 0;
  const download = await fetch(`${server.url}/v2/large/blob/blobs/${digest}`);
  for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
    pulled.update(chunk);
    bytes += chunk.length;
  }
  assert.equal(bytes, size);
  assert.equal(`sha256:${pulled.digest('hex')}`, digest);
}

it('pushes and pulls 1 GiB while the server memory grows by far less than the blob', async () => {
  await roundTrip(8 * CHUNK);
  const baseline = await peakRss();
  await roundTrip(1024 * CHUNK);
  const peak = await peakRss();
  console.log(`server peak RSS: ${(baseline / 1e6).toFixed(1)} MB after an 8 MiB round trip, ${(peak / 1e6).toFixed(1)} MB after 1 GiB`);
  // Holding the blob would add over 1,000 MB; streaming adds buffers and garbage only.
  assert.ok(peak - baseline < 100e6, `peak RSS grew by ${((peak - baseline) / 1e6).toFixed(1)} MB`);
});
