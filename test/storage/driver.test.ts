/**
 * The contract every Driver must pass (storage/driver.ts), run against the filesystem driver and the
 * S3 driver (s3rver): with and without the page cache, the S3 fast paths and S3's optional operations.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { OffsetMismatchError, PathNotFoundError, type Driver } from '../../storage/driver.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

const run = promisify(execFile);

/** A stream that fails after sending some bytes, as a client cut off mid-upload does. */
function failingStream(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return this.destroy(new Error('client went away'));
      sent = true;
      this.push(randomBytes(1000));
    },
  });
}

interface DriverFixture {
  name: string;
  /** Opens a driver on the fixture's store; a second call stands for another replica. */
  open(): Driver;
}

let s3: S3Server;
/** A server lacking every optional operation the driver uses, so each fallback runs. */
let minimalS3: S3Server;
let fsRoot: string;
before(async () => {
  // Listing pages of 250 entries (S3: up to 1,000), so that a few hundred objects span pages.
  const pageSize = 250;
  [s3, minimalS3] = await Promise.all([
    startS3Server('berth-test', [], { pageSize }),
    startS3Server('minimal', ['CopyObject', 'UploadPartCopy', 'DeleteObjects'], { pageSize }),
  ]);
  fsRoot = await mkdtemp(join(tmpdir(), 'driver-'));
});
after(async () => {
  await Promise.all([s3.stop(), minimalS3.stop()]);
  await rm(fsRoot, { recursive: true, force: true });
});

/** Redirects on, so that the contract's case for `redirectURL` fetches what it gives. */
function onS3(server: () => S3Server, prefix: string, section: Record<string, unknown> = {}): () => Driver {
  return () => new S3Driver(s3Settings(`s3://${server().bucket}/${prefix}`, { redirect: true, ...section }, server().env));
}

const fixtures: DriverFixture[] = [
  { name: 'fs', open: () => new FsDriver(fsRoot) },
  // Where O_DIRECT is not to be had, uploads take the page-cache path.
  { name: 'fs through the page cache', open: () => new FsDriver(join(fsRoot, 'page-cache'), { directWrites: false }) },
  // As `berth gc` and `berth analyze` open it: stat, getContent and list on the calling thread.
  { name: 'fs with blocking reads', open: () => new FsDriver(join(fsRoot, 'blocking-reads'), { blockingReads: true }) },
  { name: 's3', open: onS3(() => s3, 'some/prefix') },
  // Every call through the AWS SDK: no requests Berth signs itself, no spliced reads, no shared reads.
  { name: 's3 with fast paths off', open: onS3(() => s3, 'plain', { fastPaths: false }) },
  { name: 's3 without CopyObject, UploadPartCopy and DeleteObjects', open: onS3(() => minimalS3, 'some/prefix') },
];

for (const fixture of fixtures) {
  describe(`${fixture.name} driver`, () => {
    let driver: Driver;
    before(async () => {
      driver = fixture.open();
      await driver.check();
    });

    it('puts and gets small content, and stats it', async () => {
      await driver.putContent('a/b/link', 'sha256:abc');
      assert.equal((await driver.getContent('a/b/link')).toString(), 'sha256:abc');
      assert.equal((await driver.stat('a/b/link'))?.size, 10);
      await driver.putContent('a/b/link', 'replaced');
      assert.equal((await driver.getContent('a/b/link')).toString(), 'replaced');
    });

    it('reports missing paths: stat undefined, reads PathNotFoundError', async () => {
      assert.equal(await driver.stat('no/such/file'), undefined);
      await assert.rejects(driver.getContent('no/such/file'), PathNotFoundError);
      await assert.rejects(driver.reader('no/such/file'), PathNotFoundError);
      // Large ranges take other paths on S3 (a connection of their own where the splice relay is).
      await assert.rejects(driver.reader('no/such/file', { start: 0, end: 4 << 20 }), PathNotFoundError);
      await assert.rejects(driver.reader('r/_uploads/none/data'), PathNotFoundError);
      await assert.rejects(driver.move('no/such/file', 'x/y'), PathNotFoundError);
      await assert.rejects(driver.move('r/_uploads/none/data', 'x/y'), PathNotFoundError);
      assert.equal(await driver.stat('x/y'), undefined, 'a failed move creates nothing');
      assert.deepEqual(await driver.list('no/such/dir'), []);
    });

    it('writes a stream atomically and reads byte ranges back', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      assert.equal(await driver.write('blobs/one/data', Readable.from([data.subarray(0, 1000), data.subarray(1000)])), data.length);
      assert.deepEqual(await buffer(await driver.reader('blobs/one/data')), data);
      assert.deepEqual(await buffer(await driver.reader('blobs/one/data', { start: 10, end: 20 })), data.subarray(10, 20));
      assert.deepEqual(await buffer(await driver.reader('blobs/one/data', { start: 5, end: 5 })), Buffer.alloc(0));
    });

    it('leaves nothing at the path when the source stream fails', async () => {
      await assert.rejects(driver.write('blobs/failed/data', failingStream()));
      assert.equal(await driver.stat('blobs/failed/data'), undefined);
    });

    it('lists direct children, files and directories, across many pages', async () => {
      // In batches: 600 requests at once can outwait a loaded test server's connect timeout.
      for (let i = 0; i < 600; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => driver.putContent(`many/tag${i + j}/current/link`, `${i + j}`)));
      }
      await driver.putContent('many/file', 'x');
      const children = await driver.list('many');
      assert.equal(children.length, 601);
      assert.ok(children.includes('tag599') && children.includes('file'), 'the listing has tag599 and file');
      if (driver.listCommonPrefixes) assert.equal((await driver.listCommonPrefixes('many', '/current')).length, 600);
      await driver.delete('many');
      assert.deepEqual(await driver.list('many'), [], 'a prefix of more than a listing page deleted whole');
    });

    it('moves an object over another and deletes whole prefixes', async () => {
      await driver.putContent('move/from', 'new');
      await driver.putContent('move/to', 'old');
      await driver.move('move/from', 'move/to');
      assert.equal((await driver.getContent('move/to')).toString(), 'new');
      assert.equal(await driver.stat('move/from'), undefined);
      await driver.putContent('tree/a/b', '1');
      await driver.putContent('tree/c', '2');
      await driver.delete('tree');
      assert.deepEqual(await driver.list('tree'), []);
      await driver.delete('tree');
    });

    // Appends go to an upload's data (`…/_uploads/<id>/data`): only there does `stat` look for appended parts.
    it('appends chunks of every size, refuses a wrong offset, and moves the result into place', async () => {
      const sizes = [10, 1, 6 * 1024 * 1024, 100, 5 * 1024 * 1024 + 3, 7];
      const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
      let offset = 0;
      for (const size of sizes) {
        const next = await driver.append('r/_uploads/u1/data', Readable.from([data.subarray(offset, offset + size)]), offset);
        assert.equal(next, offset + size);
        offset = next;
        assert.equal((await driver.stat('r/_uploads/u1/data'))?.size, offset);
      }
      await assert.rejects(driver.append('r/_uploads/u1/data', Readable.from([Buffer.from('x')]), 5), OffsetMismatchError);
      await assert.rejects(driver.append('r/_uploads/u2/data', Readable.from([Buffer.from('x')]), 3), OffsetMismatchError);
      assert.deepEqual(await buffer(await driver.reader('r/_uploads/u1/data')), data);
      await driver.move('r/_uploads/u1/data', 'blobs/appended/data');
      assert.deepEqual(await buffer(await driver.reader('blobs/appended/data')), data);
      assert.equal(await driver.stat('r/_uploads/u1/data'), undefined);
    });

    it('lets one of concurrent appends at an offset write, and refuses the others (OffsetMismatchError)', async () => {
      const chunks = Array.from({ length: 4 }, () => randomBytes(256 * 1024));
      const appends = await Promise.allSettled(chunks.map((chunk) => driver.append('r/_uploads/race/data', Readable.from([chunk]), 0)));
      const won = appends.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1, `one append wins, not ${won.length}`);
      for (const result of appends) if (result.status === 'rejected') assert.ok(result.reason instanceof OffsetMismatchError, `refused: ${result.reason}`);
      const winner = chunks[won[0]!]!;
      assert.equal(await driver.stat('r/_uploads/race/data').then((info) => info?.size), winner.length);
      assert.deepEqual(await buffer(await driver.reader('r/_uploads/race/data')), winner, "the winner's bytes, unmixed");
      const next = randomBytes(1000);
      const again = await Promise.allSettled(
        [winner.length, winner.length, winner.length].map((at) => driver.append('r/_uploads/race/data', Readable.from([next]), at)),
      );
      assert.equal(again.filter((result) => result.status === 'fulfilled').length, 1, 'one wins at the next offset too');
      assert.deepEqual(await buffer(await driver.reader('r/_uploads/race/data')), Buffer.concat([winner, next]));
      await driver.delete('r/_uploads/race');
    });

    it('continues an append on a second driver instance (another replica)', async () => {
      const data = randomBytes(6 * 1024 * 1024 + 11);
      const half = 6 * 1024 * 1024;
      await driver.append('r/_uploads/u3/data', Readable.from([data.subarray(0, half)]), 0);
      const other = fixture.open();
      assert.equal((await other.stat('r/_uploads/u3/data'))?.size, half);
      await other.append('r/_uploads/u3/data', Readable.from([data.subarray(half)]), half);
      await other.move('r/_uploads/u3/data', 'blobs/replica/data');
      const stored = await buffer(await driver.reader('blobs/replica/data'));
      assert.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(data).digest('hex'));
      await driver.delete('r/_uploads/u3');
      assert.equal(await driver.stat('r/_uploads/u3/data'), undefined);
    });

    it('purges only the leftovers of unfinished writes: finished objects, uploads in progress and failed writes leave none', async () => {
      await driver.putContent('purge/link', 'x');
      await driver.write('purge/blob/data', Readable.from([randomBytes(6 * 1024 * 1024)]));
      await driver.append('purge/_uploads/u/data', Readable.from([randomBytes(1000)]), 0);
      await assert.rejects(driver.write('purge/failed/data', failingStream()));
      const everything = new Date(Date.now() + 60_000);
      assert.deepEqual(await driver.purgeStale?.('purge', everything), { count: 0, bytes: 0 });
      assert.equal((await driver.getContent('purge/link')).toString(), 'x');
      assert.equal((await driver.stat('purge/blob/data'))?.size, 6 * 1024 * 1024);
      assert.equal((await driver.stat('purge/_uploads/u/data'))?.size, 1000);
    });

    it('prunes a directory only when it is empty, where it has directories', async (t) => {
      if (!driver.pruneEmpty) return t.skip(`${fixture.name} has no directories: pruneEmpty is left out`);
      await driver.putContent('prune/full/link', 'x');
      await driver.putContent('prune/emptied/link', 'x');
      await driver.delete('prune/emptied/link');
      assert.deepEqual((await driver.list('prune')).sort(), ['emptied', 'full']);
      await driver.pruneEmpty('prune/emptied');
      await driver.pruneEmpty('prune/full');
      await driver.pruneEmpty('prune/never');
      assert.deepEqual(await driver.list('prune'), ['full'], 'the empty directory went, the full one stayed');
      assert.equal((await driver.getContent('prune/full/link')).toString(), 'x');
    });

    // gc prunes empty directories while pushes write into them (storage/gc/gc.ts): a write must not
    // fail because the directory it made was pruned before its entry landed.
    it('puts, writes and moves into directories pruned concurrently, where it has directories', async (t) => {
      const prune = driver.pruneEmpty?.bind(driver);
      if (!prune) return t.skip(`${fixture.name} has no directories: pruneEmpty is left out`);
      await driver.putContent('race/source/link', 'x');
      for (let i = 0; i < 200; i++) {
        const pruning = (async () => {
          for (let n = 0; n < 20; n++) {
            await Promise.all([prune(`race/put/${i}`), prune(`race/write/${i}`), prune(`race/moved/${i}`)]);
          }
        })();
        await driver.putContent(`race/moving/${i}`, `${i}`);
        await Promise.all([
          driver.putContent(`race/put/${i}/link`, `${i}`),
          driver.write(`race/write/${i}/data`, Readable.from([Buffer.from(`${i}`)])),
          driver.move(`race/moving/${i}`, `race/moved/${i}/data`),
          pruning,
        ]);
        for (const path of [`race/put/${i}/link`, `race/write/${i}/data`, `race/moved/${i}/data`]) {
          assert.equal((await driver.getContent(path)).toString(), `${i}`, path);
        }
      }
    });

    it('gives a URL a plain HTTP client fetches the object from, where it offers redirects', async (t) => {
      const data = randomBytes(100_000);
      await driver.write('redirect/blob/data', Readable.from([data]));
      const url = await driver.redirectURL?.('redirect/blob/data');
      if (!url) return t.skip(`${fixture.name} serves every byte itself: no redirect URL`);
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), data);
    });
  });
}

describe('s3 driver specifics', () => {
  it('lists common prefixes up to a delimiter in one paged listing, however deep the keys below', async () => {
    const driver = new S3Driver(s3Settings(`s3://${s3.bucket}/prefixes`, {}, s3.env));
    for (const name of ['a', 'b/c', 'b/c-d', 'e_f/g']) {
      await driver.putContent(`repos/${name}/_manifests/tags/x/current/link`, 'x');
      await driver.putContent(`repos/${name}/_layers/sha256/0/link`, 'x');
    }
    assert.deepEqual((await driver.listCommonPrefixes('repos', '/_')).sort(), ['a', 'b/c', 'b/c-d', 'e_f/g']);
  });

  it('fails check() with one clear line for a missing bucket and for an endpoint that is down', async () => {
    const missing = new S3Driver(s3Settings('s3://no-such-bucket', {}, s3.env));
    await assert.rejects(missing.check(), /bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/);
    const down = new S3Driver(s3Settings('s3://berth', { endpoint: 'http://127.0.0.1:9' }, s3.env));
    const started = Date.now();
    await assert.rejects(down.check(), /cannot reach bucket "berth" at http:\/\/127\.0\.0\.1:9/);
    assert.ok(Date.now() - started < 20_000, 'an endpoint that is down fails check() without retrying for long');
  });

  it('presigns URLs a plain HTTP client can download from when redirect is on', async () => {
    const driver = new S3Driver(s3Settings(`s3://${s3.bucket}`, { redirect: true }, s3.env));
    await driver.putContent('presigned/object', 'straight from S3');
    const url = await driver.redirectURL('presigned/object');
    assert.ok(url, 'a presigned URL');
    assert.equal(await (await fetch(url)).text(), 'straight from S3');
  });

  it('reads settings from the URL, the config section and the AWS environment', () => {
    const settings = s3Settings('s3://bucket/a/b/', { region: 'eu-west-1' }, { AWS_ENDPOINT_URL: 'http://minio:9000', AWS_ACCESS_KEY_ID: 'k' });
    assert.equal(settings.bucket, 'bucket');
    assert.equal(settings.prefix, 'a/b');
    assert.equal(settings.region, 'eu-west-1');
    assert.equal(settings.endpoint, 'http://minio:9000');
    assert.equal(settings.forcePathStyle, true);
    assert.equal(settings.accessKeyId, 'k');
    assert.equal(s3Settings('s3://bucket', {}, {}).forcePathStyle, false);
    assert.throws(() => s3Settings('s3://', {}, {}), /invalid S3 storage URL/);
  });
});

describe('opening a driver', () => {
  /** Which drivers a fresh process ends up with, and whether it loaded the AWS SDK to get there. */
  async function openInFreshProcess(storage: string): Promise<{ driver: string; sdkLoaded: boolean }> {
    const script = `
      const { openDriver } = await import(${JSON.stringify(join(import.meta.dirname, '../../storage/open-driver.ts'))});
      const { createRequire } = await import('node:module');
      const driver = await openDriver(${JSON.stringify(storage)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ driver: driver.constructor.name, sdkLoaded: loaded.some((path) => path.includes('@aws-sdk')) }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    return JSON.parse(stdout) as { driver: string; sdkLoaded: boolean };
  }

  it('loads the AWS SDK only for S3 storage (it costs each process some 16 MB)', async () => {
    assert.deepEqual(await openInFreshProcess(join(tmpdir(), 'never-created')), { driver: 'FsDriver', sdkLoaded: false });
    assert.deepEqual(await openInFreshProcess('s3://bucket/prefix'), { driver: 'S3Driver', sdkLoaded: true });
  });
});
