/**
 * A request body's chunks are freed as soon as local disk has stored them, instead of at V8's next
 * collection (storage/chunk-ownership.ts, issue 29): only chunks handed over, only whole buffers,
 * and never while a local copy still writes them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { chunksHandedOver, handOverChunks } from '../../storage/chunk-ownership.ts';
import { DelegatingDriver } from '../../storage/delegating-driver.ts';
import { DirectSink, directWritesAvailable } from '../../storage/drivers/fs/direct-sink.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { BlobCache } from '../../storage/local-copies/blob-cache.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { startBerth } from '../helpers/berth.ts';
import { needsAddon } from '../helpers/peers.ts';

const MiB = 1 << 20;
const direct = needsAddon(directWritesAvailable);

/** Chunks as Node's HTTP parser gives them: each a buffer of its own. */
function ownChunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, () => Buffer.from(randomBytes(size)));
}

const freed = (chunk: Buffer) => chunk.buffer.byteLength === 0;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chunk-ownership-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('chunks handed over', () => {
  it('are freed by the direct sink once stored, and only chunks that are all of their buffer', direct, async () => {
    const whole = ownChunks(3, 300_000);
    const shared = randomBytes(2 * MiB);
    const slice = shared.subarray(MiB, MiB + 100_000);
    // From Node's shared pool: freeing its buffer would empty every other small Buffer of the process.
    const pooled = Buffer.from('a small chunk');
    const chunks = [whole[0]!, slice, whole[1]!, pooled, whole[2]!];
    const expected = Buffer.concat(chunks);
    const path = join(root, 'sink');
    const file = await open(path, 'w+');
    try {
      await pipeline(Readable.from(chunks), (await DirectSink.open(path, file.fd, 0, true))!);
    } finally {
      await file.close();
    }
    assert.deepEqual(await readFile(path), expected);
    assert.ok(whole.every(freed), 'each chunk that was all of its buffer is freed');
    assert.equal(slice.length, 100_000, 'a slice of a larger buffer is left alone');
    assert.equal(pooled.toString(), 'a small chunk', 'a chunk of the shared pool is left alone');
  });

  it('are kept where the source does not hand them over', direct, async () => {
    const chunks = ownChunks(3, 300_000);
    const path = join(root, 'kept');
    const file = await open(path, 'w+');
    try {
      await pipeline(Readable.from(chunks), (await DirectSink.open(path, file.fd, 0))!);
    } finally {
      await file.close();
    }
    assert.ok(!chunks.some(freed), 'no chunk is freed');
    assert.deepEqual(await readFile(path), Buffer.concat(chunks));
  });

  it('are freed through an upload in one request and a chunked one, and the blobs are whole', direct, async () => {
    const store = new Store(new FsDriver(join(root, 'uploads')));
    const single = ownChunks(4, 256 * 1024);
    const singleDigest = Digest.of(Buffer.concat(single));
    await store.uploads.ingest('team/app', handOverChunks(Readable.from(single)), singleDigest);
    assert.ok(single.every(freed), 'each chunk of the upload in one request is freed');

    const chunked = ownChunks(4, 256 * 1024);
    const chunkedDigest = Digest.of(Buffer.concat(chunked));
    const { id } = await store.uploads.start('team/app');
    await store.uploads.append('team/app', id, handOverChunks(Readable.from(chunked.slice(0, 2))), 0);
    await store.uploads.append('team/app', id, handOverChunks(Readable.from(chunked.slice(2))), 512 * 1024);
    await store.uploads.complete('team/app', id, chunkedDigest);
    assert.ok(chunked.every(freed), 'each chunk of the chunked upload is freed');

    for (const digest of [singleDigest, chunkedDigest])
      assert.ok(Digest.of(await readFile(join(root, 'uploads', paths.blobData(digest)))).equals(digest), `${digest} is stored whole`);
  });

  it('are kept while a local copy of the upload writes them too, and the copy is whole', direct, async () => {
    const cache = await BlobCache.open({ directory: join(root, 'copies'), maxBytes: 64 * MiB });
    const store = new Store(new FsDriver(join(root, 'copied')), cache);
    const chunks = ownChunks(4, 512 * 1024);
    const bytes = Buffer.concat(chunks);
    const digest = Digest.of(bytes);
    await store.uploads.ingest('team/app', handOverChunks(Readable.from(chunks)), digest);
    assert.ok(!chunks.some(freed), 'no chunk is freed while the copy holds it');
    await cache.settled();
    const copy = await cache.reader(digest, bytes.length, { start: 0, end: bytes.length });
    assert.ok(copy, 'the local copy is kept');
    assert.deepEqual(await buffer(copy), bytes);
  });
});

/** Records, for each write and append, whether its source handed its chunks over. */
class HandOverRecorder extends DelegatingDriver {
  readonly seen: boolean[] = [];

  override write(path: string, source: Readable): Promise<number> {
    this.seen.push(chunksHandedOver(source));
    return super.write(path, source);
  }

  override append(path: string, source: Readable, offset: number): Promise<number> {
    this.seen.push(chunksHandedOver(source));
    return super.append(path, source, offset);
  }
}

describe('a request body', () => {
  it('hands its chunks over to storage in a monolithic and a chunked upload', async () => {
    const recorder = new HandOverRecorder(new FsDriver(join(root, 'served')));
    const berth = await startBerth({ driver: recorder });
    try {
      const bytes = randomBytes(MiB);
      const digest = Digest.of(bytes);
      const single = await fetch(`${berth.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
      assert.equal(single.status, 201);
      const started = await fetch(`${berth.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      const location = new URL(started.headers.get('location')!, berth.url);
      const patched = await fetch(location, { method: 'PATCH', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(patched.status, 202);
      const done = new URL(patched.headers.get('location')!, berth.url);
      done.searchParams.set('digest', `${digest}`);
      assert.equal((await fetch(done, { method: 'PUT' })).status, 201);
      assert.deepEqual(recorder.seen, [true, true]);
    } finally {
      await berth.stop();
    }
  });
});
