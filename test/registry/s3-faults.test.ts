/**
 * The bucket goes away in the middle of an upload and of a download (s3rver stopped), then comes
 * back: requests get 503 UNAVAILABLE or a cut connection, never a hang, and the upload resumes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

/** A liveness bound, not a timing: past it the request counts as left hanging. */
const ANSWER_WITHIN_MS = 20_000;

let s3: S3Server;
let berth: BerthProcess;
let api: RegistryAPI;
let scratch: string;

before(async () => {
  s3 = await startS3Server('faults');
  scratch = await mkdtemp(join(tmpdir(), 'berth-s3-faults-'));
  // No local copies: every download reads the bucket.
  const config = join(scratch, 'berth.yml');
  await writeFile(config, `storage:\n  url: s3://${s3.bucket}/registry\n  localCache:\n    size: 0\n`);
  berth = await startBerthProcess(['--config', config, '--workers', '1'], s3.env);
  api = new RegistryAPI(berth.url);
});
after(async () => {
  await berth?.stop();
  await s3?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function bounded(method: string, path: string | null, init?: Parameters<RegistryAPI['request']>[2]): Promise<Response> {
  return Promise.race([
    api.request(method, path, init),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${method} ${path} got no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS).unref(),
    ),
  ]);
}

async function assertUnavailable(response: Response, what: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 503, `${what}: ${text}`);
  assert.equal((JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code, 'UNAVAILABLE', what);
}

describe('the bucket goes away and comes back', { timeout: 180_000 }, () => {
  it('mid-upload: a chunk is answered 503, and the upload resumes where storage says it stands', async () => {
    const blob = randomBlob(3 * 1024 * 1024);
    const half = 1024 * 1024;
    const start = await bounded('POST', '/v2/s3faults/upload/blobs/uploads/');
    assert.equal(start.status, 202);
    const first = await bounded('PATCH', start.headers.get('location'), {
      body: blob.bytes.subarray(0, half),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${half - 1}` },
    });
    assert.equal(first.status, 202, await first.text());
    const location = first.headers.get('location');

    await s3.kill();
    await assertUnavailable(
      await bounded('PATCH', location, {
        body: blob.bytes.subarray(half),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${half}-${blob.bytes.length - 1}` },
      }),
      'PATCH while the bucket is down',
    );
    await assertUnavailable(
      await bounded('POST', `/v2/s3faults/upload/blobs/uploads/?digest=${blob.digest}`, {
        body: blob.bytes,
        headers: { 'Content-Type': 'application/octet-stream' },
      }),
      'monolithic POST while the bucket is down',
    );
    await s3.restart();

    const status = await bounded('GET', location);
    assert.equal(status.status, 204);
    const stored = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.equal(stored, half, 'the chunk acknowledged before the outage is still there, and nothing of the refused one');
    const rest = await bounded('PATCH', location, {
      body: blob.bytes.subarray(stored),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stored}-${blob.bytes.length - 1}` },
    });
    assert.equal(rest.status, 202, await rest.text());
    const next = rest.headers.get('location')!;
    const closed = await bounded('PUT', `${next}${next.includes('?') ? '&' : '?'}digest=${blob.digest}`);
    assert.equal(closed.status, 201, await closed.text());
    const back = Buffer.from(await (await bounded('GET', `/v2/s3faults/upload/blobs/${blob.digest}`)).arrayBuffer());
    assert.ok(Digest.of(back).equals(blob.digest), 'the resumed upload hashes to its digest');
  });

  it('mid-download: the transfer ends instead of hanging, a new GET is answered 503, and downloads work once it is back', async () => {
    const blob = randomBlob(24 * 1024 * 1024);
    await api.pushBlob('s3faults/download', blob);
    const response = await bounded('GET', `/v2/s3faults/download/blobs/${blob.digest}`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    await reader.read();
    await s3.kill();
    const drained = (async () => {
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return received;
        received += value.length;
      }
    })();
    // Either the bytes already in flight complete it, or the connection is cut: both end, neither hangs.
    await Promise.race([
      drained.catch(() => undefined),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the download neither ended nor failed')), ANSWER_WITHIN_MS).unref()),
    ]);
    await assertUnavailable(await bounded('GET', `/v2/s3faults/download/blobs/${blob.digest}`), 'GET while the bucket is down');
    await s3.restart();
    const again = Buffer.from(await (await bounded('GET', `/v2/s3faults/download/blobs/${blob.digest}`)).arrayBuffer());
    assert.ok(Digest.of(again).equals(blob.digest), 'the blob downloads whole once the bucket is back');
  });

  it('counts the attempts the S3 SDK made again while the bucket was away (berth_s3_retries_total)', async () => {
    const retries = async () => {
      const scrape = await (await bounded('GET', '/metrics')).text();
      return Number(/^berth_s3_retries_total (\d+)$/m.exec(scrape)?.[1]);
    };
    const before = await retries();
    await s3.kill();
    try {
      // A monolithic push ends in a PutObject through the SDK, which tries three times.
      const blob = randomBlob(1000);
      const response = await bounded('POST', `/v2/s3faults/retries/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
      assert.equal(response.status, 503, await response.text());
    } finally {
      await s3.restart();
    }
    assert.ok((await retries()) >= before + 2, `retries counted: ${before} before, ${await retries()} after`);
  });
});
