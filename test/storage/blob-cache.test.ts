/**
 * The local blob cache (storage/local-copies/blob-cache.ts): copies are kept only whole and verified against
 * their digest, a failed or abandoned download keeps nothing, and the least recently read copies
 * are evicted first.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { BlobCache, defaultCacheDirectory } from '../../storage/local-copies/blob-cache.ts';
import { BlobStore } from '../../storage/blob-store.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import type { UploadCopy } from '../../storage/local-copies.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';

const MiB = 1 << 20;
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-cache-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function openCache(name: string, maxBytes = 64 * MiB): Promise<BlobCache> {
  return BlobCache.open({ directory: join(scratch, name), maxBytes });
}

function blob(size: number): { bytes: Buffer; digest: Digest } {
  const bytes = randomBytes(size);
  return { bytes, digest: Digest.of(bytes) };
}

/** Storage's side of a download: the bytes in 64 KiB slices, optionally failing after `failAt` bytes. */
function storageStream(bytes: Buffer, failAt?: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (failAt !== undefined && offset >= failAt) return this.destroy(new Error('storage went away'));
      if (offset >= bytes.length) return this.push(null);
      this.push(bytes.subarray(offset, offset + 65536));
      offset += 65536;
    },
  });
}

/**
 * One client's whole download of a blob, straight from storage as `keepAfter` leaves it; `open` is
 * storage's side of a read for a copy. Resolves, once any copy is written, with whether it led to one.
 */
async function readWhole(cache: BlobCache, digest: Digest, bytes: Buffer, open = () => storageStream(bytes)): Promise<boolean> {
  let opened = false;
  const download = storageStream(bytes);
  cache.keepAfter(digest, bytes.length, download, () => {
    opened = true;
    return Promise.resolve(open());
  });
  assert.deepEqual(await buffer(download), bytes, "the client gets storage's bytes untouched");
  await cache.settled();
  return opened;
}

/** Two clients' whole downloads of a blob: the second leads to a copy, read with `open`. */
async function readTwice(cache: BlobCache, digest: Digest, bytes: Buffer, open = () => storageStream(bytes)): Promise<void> {
  await readWhole(cache, digest, bytes, open);
  await readWhole(cache, digest, bytes, open);
}

async function whole(cache: BlobCache, digest: Digest, size: number): Promise<Buffer | undefined> {
  const reader = await cache.reader(digest, size, { start: 0, end: size });
  return reader && buffer(reader);
}

async function entries(cache: BlobCache): Promise<string[]> {
  return readdir(join(cache.directory, 'sha256')).catch(() => []);
}

describe('BlobCache', () => {
  it('keeps a copy after the second read, not the first, and serves it whole or in ranges', async () => {
    const cache = await openCache('kept');
    const { bytes, digest } = blob(3 * MiB + 17);
    assert.equal(await whole(cache, digest, bytes.length), undefined, 'nothing cached before the first download');
    assert.equal(await readWhole(cache, digest, bytes), false, 'the first read makes no copy');
    assert.equal(await whole(cache, digest, bytes.length), undefined, 'nothing cached after the first download');
    assert.equal(await readWhole(cache, digest, bytes), true, 'the second read makes the copy');
    assert.deepEqual(await whole(cache, digest, bytes.length), bytes);
    const ranged = await cache.reader(digest, bytes.length, { start: MiB, end: 2 * MiB + 5 });
    assert.ok(ranged, 'a range of a kept copy is served from it');
    assert.deepEqual(await buffer(ranged), bytes.subarray(MiB, 2 * MiB + 5));
    assert.deepEqual(await entries(cache), [digest.hex], 'one file, no temp left');
  });

  it("counts the reads of every process sharing the directory: the second read may be another worker's", async () => {
    const [one, other] = [await openCache('workers'), await openCache('workers')];
    const { bytes, digest } = blob(2 * MiB);
    assert.equal(await readWhole(one, digest, bytes), false);
    assert.equal(await readWhole(other, digest, bytes), true, 'the second read, in the other process, makes the copy');
    assert.deepEqual(await whole(one, digest, bytes.length), bytes, 'and both serve it');
  });

  it('forgets a read after a day, even where no copy is ever made', async () => {
    const cache = await openCache('marks');
    const [old, fresh] = [blob(2 * MiB), blob(2 * MiB)];
    const mark = join(cache.directory, 'reads', `sha256-${old.digest.hex}`);
    await writeFile(mark, '');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    await utimes(mark, twoDaysAgo, twoDaysAgo);
    // Any read sweeps the marks, at most hourly; this process has not swept yet.
    assert.equal(await readWhole(cache, fresh.digest, fresh.bytes), false);
    assert.deepEqual(await readdir(join(cache.directory, 'reads')), [`sha256-${fresh.digest.hex}`], 'the day-old mark is gone');
    assert.equal(await readWhole(cache, old.digest, old.bytes), false, 'so a read of that blob is its first again');
  });

  it('keeps nothing when storage hands back bytes that do not match the digest', async () => {
    const cache = await openCache('mismatch');
    const { bytes, digest } = blob(2 * MiB);
    const tampered = Buffer.from(bytes);
    tampered[12345] = tampered[12345]! ^ 1;
    await readTwice(cache, digest, bytes, () => storageStream(tampered));
    assert.equal(await whole(cache, digest, bytes.length), undefined);
    assert.deepEqual(await entries(cache), []);
  });

  it('keeps nothing when storage fails midway or cannot be read, and copies whether or not the client read to the end', async () => {
    const cache = await openCache('partial');
    const failing = blob(4 * MiB);
    await readTwice(cache, failing.digest, failing.bytes, () => storageStream(failing.bytes, 2 * MiB));
    const unreadable = blob(2 * MiB);
    for (let read = 0; read < 2; read++) {
      const download = storageStream(unreadable.bytes);
      cache.keepAfter(unreadable.digest, unreadable.bytes.length, download, () => Promise.reject(new Error('gone from storage')));
      await buffer(download);
    }
    await cache.settled();
    assert.equal(await whole(cache, failing.digest, failing.bytes.length), undefined);
    assert.equal(await whole(cache, unreadable.digest, unreadable.bytes.length), undefined);
    assert.deepEqual(await entries(cache), [], 'no temp file left behind');
    const abandoned = blob(4 * MiB);
    for (let read = 0; read < 2; read++) {
      const download = storageStream(abandoned.bytes);
      cache.keepAfter(abandoned.digest, abandoned.bytes.length, download, () => Promise.resolve(storageStream(abandoned.bytes)));
      await new Promise<void>((resolve) => download.once('data', () => resolve()));
      download.destroy();
    }
    await cache.settled();
    assert.deepEqual(await whole(cache, abandoned.digest, abandoned.bytes.length), abandoned.bytes, 'the copy reads storage on its own');
  });

  it('leaves blobs under 1 MiB and over a quarter of its size to storage', async () => {
    const cache = await openCache('sizes', 16 * MiB);
    for (const size of [MiB - 1, 4 * MiB + 1]) {
      const { bytes, digest } = blob(size);
      assert.deepEqual([await readWhole(cache, digest, bytes), await readWhole(cache, digest, bytes)], [false, false], `a ${size}-byte blob is not copied`);
    }
    assert.deepEqual(await entries(cache), []);
  });

  it('writes at most a quarter of its size in copies at once', async () => {
    const cache = await openCache('in-flight', 16 * MiB);
    const [first, second] = [blob(3 * MiB), blob(3 * MiB)];
    /** Two whole downloads of `target`; `open` is storage's side of the copy, if one is made. */
    const readBoth = async (target: typeof first, open: () => Readable) => {
      for (let read = 0; read < 2; read++) {
        const download = storageStream(target.bytes);
        cache.keepAfter(target.digest, target.bytes.length, download, () => Promise.resolve(open()));
        await buffer(download);
      }
    };
    // The first copy reads storage until released: it stays in flight meanwhile.
    const held = new PassThrough();
    await readBoth(first, () => held);
    let opened = 0;
    await readBoth(second, () => {
      opened++;
      return storageStream(second.bytes);
    });
    assert.equal(opened, 0, 'a second copy would pass 4 MiB in flight');
    held.end(first.bytes);
    await cache.settled();
    assert.deepEqual(await entries(cache), [first.digest.hex]);
    await readTwice(cache, second.digest, second.bytes);
    assert.deepEqual((await entries(cache)).sort(), [first.digest.hex, second.digest.hex].sort(), 'once the first is written, the second is copied');
  });

  it('copies only downloads that are served: ones answered BLOB_UNKNOWN do not count toward a copy', async () => {
    const cache = await openCache('served');
    const blobs = new BlobStore(new FsDriver(join(scratch, 'storage')), cache);
    const { bytes, digest } = blob(2 * MiB);
    await new FsDriver(join(scratch, 'storage')).putContent(paths.blobData(digest), bytes);
    // With its size known, a blob is opened while the link is checked: unserved downloads are opened too.
    blobs.remember(digest, bytes.length);
    const whole = () => ({ start: 0, end: bytes.length });
    const read = async (served: boolean) => {
      const opened = await blobs.open(digest, Promise.resolve(served), whole);
      if (served) assert.deepEqual(await buffer(opened!.body!), bytes);
      else assert.equal(opened, undefined);
      await cache.settled();
    };
    await read(false);
    await read(false);
    await read(true);
    assert.deepEqual(await entries(cache), [], 'two unserved downloads and one served: no copy yet');
    await read(true);
    assert.deepEqual(await entries(cache), [digest.hex], 'the second served download makes the copy');
  });

  it('drops a copy whose size is not the blob size instead of serving it', async () => {
    const cache = await openCache('truncated');
    const { bytes, digest } = blob(2 * MiB);
    await mkdir(join(cache.directory, 'sha256'), { recursive: true });
    await writeFile(join(cache.directory, 'sha256', digest.hex), bytes.subarray(0, MiB));
    assert.equal(await whole(cache, digest, bytes.length), undefined);
    assert.deepEqual(await entries(cache), []);
  });

  it('evicts the least recently read copies once it holds more than its size', async () => {
    const cache = await openCache('eviction', 8 * MiB);
    const blobs = [blob(2 * MiB), blob(2 * MiB), blob(2 * MiB), blob(2 * MiB)];
    for (const [index, { bytes, digest }] of blobs.entries()) {
      await readTwice(cache, digest, bytes);
      // Read long ago, in this order: the first the longest ago.
      const at = new Date(Date.now() - (10 - index) * 3_600_000);
      await utimes(join(cache.directory, 'sha256', digest.hex), at, at);
    }
    assert.equal((await entries(cache)).length, 4, 'all four fit in 8 MiB');
    const reread = await cache.reader(blobs[0]!.digest, 2 * MiB, { start: 0, end: 1 });
    assert.ok(reread, 'the first copy is read again');
    reread.destroy();
    const newest = blob(2 * MiB);
    await readTwice(cache, newest.digest, newest.bytes);
    await cache.settled();
    const expected = [blobs[0]!, blobs[2]!, blobs[3]!, newest].map(({ digest }) => digest.hex);
    assert.deepEqual((await entries(cache)).sort(), expected.sort(), 'the second copy, now the least recently read, is gone');
  });

  it('refuses a directory others may write to, and a link', async () => {
    const open = join(scratch, 'shared');
    await mkdir(open);
    await chmod(open, 0o777);
    await assert.rejects(BlobCache.open({ directory: open }), /must be a directory \(not a link\) that belongs to this user and is writable by no one else/);
    await assert.rejects(BlobCache.openOrSkip({ directory: open }), /belongs to this user/, 'a directory given in the config must work');
    const link = join(scratch, 'link');
    await mkdir(join(scratch, 'elsewhere'), { mode: 0o700 });
    await symlink(join(scratch, 'elsewhere'), link);
    await assert.rejects(BlobCache.open({ directory: link }), /not a link/);
  });

  it('turns copies off, saying why, when the default directory is unusable', async () => {
    const temp = join(scratch, 'temp');
    await mkdir(temp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    try {
      const planted = defaultCacheDirectory();
      assert.ok(planted.startsWith(temp), `the default lies in the temp directory: ${planted}`);
      await mkdir(planted, { mode: 0o777 });
      await chmod(planted, 0o777);
      const { cache, skipped } = await BlobCache.openOrSkip({});
      assert.equal(cache, undefined);
      assert.match(skipped ?? '', /belongs to this user and is writable by no one else/);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('turns copies off when the default directory is in memory (tmpfs), and keeps them in a tmpfs directory given in the config', async () => {
    const shm = await mkdtemp('/dev/shm/berth-cache-');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = shm;
    try {
      const { cache, skipped } = await BlobCache.openOrSkip({});
      assert.equal(cache, undefined);
      assert.match(skipped ?? '', /in memory \(tmpfs\): set storage\.localCache\.path/);
      const chosen = await BlobCache.openOrSkip({ directory: join(shm, 'chosen') });
      assert.ok(chosen.cache, 'a tmpfs directory someone chose is used');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe('BlobCache copies of uploads', () => {
  /** Feeds `bytes` to `copy` in appends of `sizes`, as an upload's PATCH requests would, and returns what passed through. */
  async function upload(copy: UploadCopy, bytes: Buffer, sizes: number[]): Promise<Buffer> {
    const passed: Buffer[] = [];
    let offset = 0;
    for (const size of sizes) {
      const part = bytes.subarray(offset, offset + size);
      passed.push(await buffer(copy.tee(offset, storageStream(part))));
      offset += part.length;
    }
    return Buffer.concat(passed);
  }

  it('keeps the copy of an upload fed in order once it is committed, and passes the bytes on unchanged', async () => {
    const cache = await openCache('uploads-kept');
    const { bytes, digest } = blob(3 * MiB + 5);
    const copy = cache.startUpload();
    assert.deepEqual(await upload(copy, bytes, [MiB, 2 * MiB, 5]), bytes);
    await copy.keep(digest, bytes.length);
    assert.deepEqual(await whole(cache, digest, bytes.length), bytes);
    assert.deepEqual(await readdir(join(cache.directory, 'uploads')), []);
  });

  it('keeps nothing of an upload with a gap, one of the wrong size, a small one, or one larger than a quarter of the cache', async () => {
    const cache = await openCache('uploads-dropped', 16 * MiB);
    const gap = blob(2 * MiB);
    const gapCopy = cache.startUpload();
    await buffer(gapCopy.tee(0, storageStream(gap.bytes.subarray(0, MiB))));
    // The next append arrived at another process: this one sees the one after.
    await buffer(gapCopy.tee(1.5 * MiB, storageStream(gap.bytes.subarray(1.5 * MiB))));
    await gapCopy.keep(gap.digest, gap.bytes.length);
    const sized = blob(2 * MiB);
    const sizedCopy = cache.startUpload();
    await upload(sizedCopy, sized.bytes, [2 * MiB]);
    await sizedCopy.keep(sized.digest, sized.bytes.length + 1);
    const small = blob(MiB - 1);
    const smallCopy = cache.startUpload();
    await upload(smallCopy, small.bytes, [MiB]);
    await smallCopy.keep(small.digest, small.bytes.length);
    const large = blob(4 * MiB + 1);
    const largeCopy = cache.startUpload();
    assert.deepEqual(await upload(largeCopy, large.bytes, [4 * MiB + 1]), large.bytes, "the client's bytes still pass");
    await largeCopy.keep(large.digest, large.bytes.length);
    for (const { digest, bytes } of [gap, sized, small, large]) assert.equal(await whole(cache, digest, bytes.length), undefined, `no copy of ${digest}`);
    assert.deepEqual(await entries(cache), []);
    assert.deepEqual(await readdir(join(cache.directory, 'uploads')), []);
  });

  it('drops the copy of an upload whose commit fails after its digest was checked', async () => {
    const cache = await openCache('uploads-commit-fails');
    const driver = Object.assign(new FsDriver(join(scratch, 'failing-storage')), {
      move: () => Promise.reject(new Error('storage refused the move')),
    });
    const store = new Store(driver, cache);
    const { bytes, digest } = blob(2 * MiB);
    const { id } = await store.uploads.start('repo');
    await store.uploads.append('repo', id, Readable.from([bytes]), 0);
    assert.equal((await readdir(join(cache.directory, 'uploads'))).length, 1, 'the copy waits for the commit');
    await assert.rejects(store.uploads.complete('repo', id, digest), /storage refused the move/);
    for (let waited = 0; (await readdir(join(cache.directory, 'uploads'))).length > 0; waited += 20) {
      assert.ok(waited < 5000, 'the copy of the failed commit is removed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await whole(cache, digest, bytes.length), undefined);
  });

  it('drops the copies of uploads still in progress when the process settles', async () => {
    const cache = await openCache('uploads-settled');
    const { bytes } = blob(2 * MiB);
    await upload(cache.startUpload(), bytes, [MiB]);
    assert.equal((await readdir(join(cache.directory, 'uploads'))).length, 1, 'the copy waits for the upload to end');
    await cache.settled();
    assert.deepEqual(await readdir(join(cache.directory, 'uploads')), []);
  });
});
