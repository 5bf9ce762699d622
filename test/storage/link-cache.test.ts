/**
 * LinkCache (storage.s3.redis): replicas share link and blob lookups through a real redis-server,
 * over a real s3rver behind the latency proxy that counts what reaches the bucket. What one replica
 * changes, every other sees at once (README "Consistency").
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { randomContent } from '../../conformance/content.ts';
import { startLatencyProxy, type LatencyProxy } from '../../peers/latency-proxy.ts';
import { startRedisServer, type RedisServer } from '../../peers/redis-server.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import type { Driver, FileInfo } from '../../storage/driver.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { LinkCache } from '../../storage/link-cache.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { needs } from '../helpers/peers.ts';

describe('LinkCache: replicas sharing lookups through Redis', { timeout: 60_000, ...needs('redis-server') }, () => {
  let s3: S3Server;
  let proxy: LatencyProxy;
  let redis: RedisServer;
  let prefixes = 0;
  const opened: Driver[] = [];

  before(async () => {
    [s3, redis] = await Promise.all([startS3Server('link-cache'), startRedisServer()]);
    proxy = await startLatencyProxy(s3.endpoint, { latencyMs: 1 });
  });

  after(async () => {
    await Promise.all(opened.map((driver) => driver.close?.()));
    await proxy?.stop();
    await Promise.all([s3?.stop(), redis?.stop()]);
  });

  let location: string;
  beforeEach(() => {
    location = `s3://${s3.bucket}/replicas-${++prefixes}`;
  });

  /** A replica on the test's storage: its own S3 driver (through the proxy) and its own Redis client. */
  async function replica(inner?: (driver: Driver) => Driver): Promise<Store> {
    const s3Driver = new S3Driver(s3Settings(location, {}, { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }));
    const driver = await LinkCache.open(inner ? inner(s3Driver) : s3Driver, redis.url);
    opened.push(driver);
    return new Store(driver);
  }

  async function pushBlob(store: Store, name: string) {
    const blob = randomContent(100);
    await store.uploads.ingest(name, Readable.from([blob.bytes]), blob.digest);
    return blob.digest;
  }

  it('answers a repeated lookup of a link, a blob and a tag without asking the bucket', async () => {
    const store = await replica();
    const digest = await pushBlob(store, 'app');
    await store.repositories.tag('app', 'v1', digest);
    const lookups = () => Promise.all([store.repositories.holdsBlob('app', digest), store.blobs.stat(digest), store.repositories.resolveTag('app', 'v1')]);
    const first = (await lookups()).map(String);
    proxy.reset();
    assert.deepEqual((await lookups()).map(String), first);
    assert.equal(proxy.requests.length, 0, `S3 asked: ${proxy.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  });

  it('shows a delete through one replica on the other at once: a blob link, a tag, a blob (distribution-spec end-9, end-10)', async () => {
    const [a, b] = [await replica(), await replica()];
    const digest = await pushBlob(a, 'app');
    await a.repositories.tag('app', 'v1', digest);
    assert.equal(await a.repositories.holdsBlob('app', digest), true);
    assert.equal(`${await a.repositories.resolveTag('app', 'v1')}`, `${digest}`);
    assert.ok(await a.blobs.stat(digest), 'the blob is stored before the delete');

    assert.equal(await b.repositories.unlinkBlob('app', digest), true);
    assert.equal(await b.repositories.deleteTag('app', 'v1'), true);
    await b.driver.delete(paths.blobData(digest));
    assert.equal(await a.repositories.holdsBlob('app', digest), false);
    assert.equal(await a.repositories.resolveTag('app', 'v1'), undefined);
    assert.equal(await a.blobs.stat(digest), undefined);
  });

  it('shows a tag moved through one replica on the other at once (end-7)', async () => {
    const [a, b] = [await replica(), await replica()];
    const [first, second] = [await pushBlob(a, 'app'), await pushBlob(a, 'app')];
    await a.repositories.tag('app', 'v1', first);
    assert.equal(`${await a.repositories.resolveTag('app', 'v1')}`, `${first}`);
    await b.repositories.tag('app', 'v1', second);
    assert.equal(`${await a.repositories.resolveTag('app', 'v1')}`, `${second}`);
  });

  it('clears a whole repository deleted at once', async () => {
    const [a, b] = [await replica(), await replica()];
    const digest = await pushBlob(a, 'team/app');
    assert.equal(await a.repositories.holdsBlob('team/app', digest), true);
    await b.driver.delete(`${paths.repositoriesRoot}/team`);
    assert.equal(await a.repositories.holdsBlob('team/app', digest), false);
  });

  it('never caches a lookup that read the bucket before a delete and would fill the cache after it', async () => {
    let release: (() => void) | undefined;
    let reading: (() => void) | undefined;
    const readStarted = new Promise<void>((resolve) => (reading = resolve));
    // A replica whose next stat reads the bucket, then waits: the delete on the other replica lands meanwhile.
    const slow = await replica(
      (driver) =>
        new Proxy(driver, {
          get(target, property, receiver) {
            if (property !== 'stat' || !reading) return Reflect.get(target, property, receiver) as unknown;
            return async (path: string): Promise<FileInfo | undefined> => {
              const info = await target.stat(path);
              reading?.();
              reading = undefined;
              await new Promise<void>((resolve) => (release = resolve));
              return info;
            };
          },
        }),
    );
    const other = await replica();
    const digest = await pushBlob(other, 'app');
    // Blob data is what an upload moves in: no writer filled its entry, so the slow replica reads the bucket.
    const stale = slow.blobs.stat(digest);
    await readStarted;
    await other.driver.delete(paths.blobData(digest));
    release!();
    assert.ok(await stale, 'the read began before the delete');
    assert.equal(await slow.blobs.stat(digest), undefined);
    assert.equal(await other.blobs.stat(digest), undefined);
  });

  it('reads the bucket when Redis is down, and refuses to start when it cannot reach it', async () => {
    const own = await startRedisServer();
    const driver = await LinkCache.open(new S3Driver(s3Settings(location, {}, s3.env)), own.url);
    const store = new Store(driver);
    const digest = await pushBlob(store, 'app');
    await own.stop();
    assert.equal(await store.repositories.holdsBlob('app', digest), true);
    await driver.close();
    await assert.rejects(LinkCache.open(new S3Driver(s3Settings(location, {}, s3.env)), own.url), /storage\.s3\.redis: cannot reach redis:/);
  });

  it('reads the bucket when Redis hangs with its connection open, instead of waiting on it', async () => {
    const own = await startRedisServer();
    const driver = await LinkCache.open(new S3Driver(s3Settings(location, {}, s3.env)), own.url);
    try {
      const store = new Store(driver);
      const digest = await pushBlob(store, 'hung');
      own.pause(true);
      assert.equal(await store.repositories.holdsBlob('hung', digest), true, 'answered from the bucket');
    } finally {
      own.pause(false);
      await driver.close();
      await own.stop();
    }
  });
});
