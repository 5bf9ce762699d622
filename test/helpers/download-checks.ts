import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import type { TestBlob } from './content.ts';

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The body of a response, read slowly when `pauseMs` is set (the socket fills while it waits). */
export async function body(response: IncomingMessage, pauseMs = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    if (pauseMs && chunks.length % 16 === 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return Buffer.concat(chunks);
}

export function get(url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(url, { headers, agent: false }, resolve).on('error', reject).end());
}

/** Descriptors and threads of this process: what a download left running would still hold. */
async function held(): Promise<{ descriptors: number; threads: number }> {
  const status = await readFile('/proc/self/status', 'utf8');
  return { descriptors: (await readdir('/proc/self/fd')).length, threads: Number(/^Threads:\s+(\d+)/m.exec(status)![1]) };
}

/**
 * The checks every way of sending a blob over plain HTTP must pass (distribution-spec end-2,
 * ranges per RFC 9110 §14), against the blob at `url()` on a registry in this process.
 */
export function downloadChecks(url: () => string, blob: TestBlob): void {
  const size = blob.bytes.length;
  const digest = `${blob.digest}`;

  test('a whole blob is the stored bytes', async () => {
    const response = await get(url());
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-length'], String(size));
    assert.equal(sha256(await body(response)), digest);
  });

  test('a slow reader gets every byte in order', async () => {
    assert.equal(sha256(await body(await get(url()), 2)), digest);
  });

  test('ranges from the middle, to the end, and a suffix are those bytes', async () => {
    const cases: [string, number, number][] = [
      ['bytes=1000-9999999', 1000, 10_000_000],
      [`bytes=${size - 5_000_000}-`, size - 5_000_000, size],
      ['bytes=-123456', size - 123_456, size],
    ];
    for (const [range, start, end] of cases) {
      const response = await get(url(), { Range: range });
      assert.equal(response.statusCode, 206, range);
      assert.equal(response.headers['content-range'], `bytes ${start}-${end - 1}/${size}`);
      assert.ok((await body(response)).equals(blob.bytes.subarray(start, end)), range);
    }
  });

  test('four downloads at once each get the whole blob', async () => {
    const digests = await Promise.all([1, 2, 3, 4].map(async () => sha256(await body(await get(url())))));
    assert.deepEqual(digests, [digest, digest, digest, digest]);
  });

  test('clients that hang up mid-blob leave no descriptor or thread behind, and the next download is whole', async () => {
    await body(await get(url()));
    const baseline = await held();
    for (let i = 0; i < 5; i++) {
      const response = await get(url());
      await new Promise((resolve) => response.once('data', resolve));
      response.destroy();
    }
    let now = await held();
    for (let wait = 0; (now.descriptors > baseline.descriptors || now.threads > baseline.threads) && wait < 50; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await held();
    }
    assert.ok(now.descriptors <= baseline.descriptors, `${now.descriptors - baseline.descriptors} descriptors still open`);
    assert.ok(now.threads <= baseline.threads, `${now.threads - baseline.threads} threads still running`);
    assert.equal(sha256(await body(await get(url()))), digest);
  });
}
