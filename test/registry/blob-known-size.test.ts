/**
 * Blob GETs once this process knows a blob's size (distribution-spec end-2): the bytes are asked
 * for while the repository's link is checked, so what a client sees must not change. A repository
 * that does not link the blob still answers BLOB_UNKNOWN and leaves nothing open, and a blob whose
 * bytes went missing answers BLOB_UNKNOWN rather than a server error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const blob = randomBlob(3 * 1024 * 1024);
const openFiles = async () => (await readdir('/proc/self/fd')).length;

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { errors?: { code: string }[] }).errors?.[0]?.code;
}

describe('blob GETs of a blob whose size this process knows', () => {
  let berth: RunningBerth;
  let url: string;

  before(async () => {
    berth = await startBerth();
    await new RegistryAPI(berth.url).pushBlob('known/size', blob);
    url = `${berth.url}/v2/known/size/blobs/${blob.digest}`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    assert.ok(Buffer.from(await first.arrayBuffer()).equals(blob.bytes), 'the first GET sends the blob');
  });
  after(() => berth.stop());

  test('send the whole blob, a range and a suffix range as stored', async () => {
    const whole = await fetch(url);
    assert.equal(whole.headers.get('content-length'), String(blob.bytes.length));
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(blob.bytes), 'the whole blob');
    const ranged = await fetch(url, { headers: { Range: 'bytes=7-70006' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 7-70006/${blob.bytes.length}`);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(blob.bytes.subarray(7, 70_007)), 'bytes 7–70006');
    const suffix = await fetch(url, { headers: { Range: 'bytes=-10' } });
    assert.equal(suffix.status, 206);
    assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(blob.bytes.subarray(-10)), 'the last 10 bytes');
    const outside = await fetch(url, { headers: { Range: `bytes=${blob.bytes.length}-` } });
    assert.equal(outside.status, 416);
  });

  test('a repository that does not link the blob answers BLOB_UNKNOWN, and the bytes opened meanwhile are closed', async () => {
    const before = await openFiles();
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${berth.url}/v2/other/repo/blobs/${blob.digest}`);
      assert.equal(response.status, 404);
      assert.equal(await errorCode(response), 'BLOB_UNKNOWN');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok((await openFiles()) <= before + 2, `open files went from ${before} to ${await openFiles()}`);
  });

  test('a linked blob whose bytes are gone answers BLOB_UNKNOWN, not a server error', async () => {
    await rm(join(berth.root, paths.blobData(blob.digest)));
    const response = await fetch(url);
    assert.equal(response.status, 404);
    assert.equal(await errorCode(response), 'BLOB_UNKNOWN');
  });
});

describe('a blob this process stored', () => {
  test('has its size known before any GET, so that its first download opens the bytes at once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-known-'));
    try {
      const store = new Store(new FsDriver(root));
      assert.equal(store.blobs.knownSize(blob.digest), undefined);
      await store.uploads.ingest('known/pushed', Readable.from([blob.bytes]), blob.digest);
      assert.equal(store.blobs.knownSize(blob.digest), blob.bytes.length);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
