/** Uploads to local disk write their block-aligned middle with O_DIRECT (storage/drivers/fs/direct-sink.ts). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { DirectSink, IN_USE_LIMIT, directWritesAvailable } from '../../storage/drivers/fs/direct-sink.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { needsAddon } from '../helpers/peers.ts';

const MiB = 1 << 20;

/** The bytes cut into pieces of the given sizes, the last piece taking what is left. */
function pieces(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= bytes.length) break;
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < bytes.length) out.push(bytes.subarray(offset));
  return out;
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'direct-sink-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('DirectSink', () => {
  /** For the tests of direct writes themselves; the others check the page-cache fallback too. */
  const direct = needsAddon(directWritesAvailable);

  it('is available here: the addon is built and the temp directory takes O_DIRECT', direct, async () => {
    assert.ok(directWritesAvailable, 'build/Release/aligned-memory.node is missing: `npm install` runs node-gyp (needs python3, make, g++)');
    const file = await open(join(root, 'probe'), 'w+');
    try {
      const sink = await DirectSink.open(join(root, 'probe'), file.fd, 0);
      assert.ok(sink, `${root} refused O_DIRECT`);
      await pipeline(Readable.from([Buffer.from('x')]), sink);
    } finally {
      await file.close();
    }
  });

  it('writes the block-aligned middle directly and only the head and tail through the page cache', direct, async () => {
    const path = join(root, 'middle');
    const data = randomBytes(3 * MiB);
    const start = 10_000;
    const file = await open(path, 'w+');
    try {
      await file.write(Buffer.alloc(start), 0, start, 0);
      const sink = await DirectSink.open(path, file.fd, start);
      assert.ok(sink, 'the temp directory takes O_DIRECT');
      await pipeline(Readable.from(pieces(data, [1000, 65_536, 4097, MiB])), sink);
      const head = 4096 * 3 - start;
      const tail = (start + data.length) % 4096;
      assert.equal(sink.bytesWritten, data.length);
      assert.equal(sink.directBytes, data.length - head - tail);
      assert.deepEqual((await readFile(path)).subarray(start), data);
    } finally {
      await file.close();
    }
  });

  it('writes every byte where it belongs, from aligned and unaligned offsets, in pieces of every size', async () => {
    const driver = new FsDriver(root);
    const data = randomBytes(5 * MiB + 12_345);
    // Appends the way chunked uploads do: each one starts where the last ended, at any alignment.
    const appends = [1, 4095, 4096, 100_000, 2 * MiB + 17, MiB, 3];
    let offset = 0;
    for (const [index, size] of appends.entries()) {
      const chunk = data.subarray(offset, index === appends.length - 1 ? data.length : offset + size);
      const body = Readable.from(pieces(chunk, [7, 65_536, 4089, MiB, 300_000]));
      offset = await driver.append('uploads/u/data', body, offset);
    }
    assert.equal(offset, data.length);
    assert.deepEqual(await readFile(join(root, 'uploads/u/data')), data);
  });

  for (const directWrites of [true, false]) {
    it(`keeps the bytes that arrived before an upload was cut off, so that the client can resume from the size on disk (${directWrites ? 'O_DIRECT' : 'page cache'})`, async () => {
      const driver = new FsDriver(root, { directWrites });
      const arrived = randomBytes(MiB + 500_000);
      const parts = [arrived.subarray(0, MiB / 2), arrived.subarray(MiB / 2)];
      const cut = new Readable({
        read() {
          const next = parts.shift();
          if (next) this.push(next);
          else setTimeout(() => this.destroy(new Error('client went away')), 20);
        },
      });
      const path = `uploads/cut-${directWrites}/data`;
      await assert.rejects(driver.append(path, cut, 0), /client went away/);
      assert.deepEqual(await readFile(join(root, path)), arrived);
    });
  }

  it('finishes through the page cache when a direct write fails, and counts each byte once', async () => {
    const path = join(root, 'fallback');
    const data = randomBytes(3 * MiB + 5);
    const file = await open(path, 'w+');
    try {
      // Open for reading only, so every direct write fails (EBADF); the sink closes it.
      const sink = new DirectSink(file.fd, openSync(path, constants.O_RDONLY), 0);
      await pipeline(Readable.from(pieces(data, [MiB / 2, MiB, 3])), sink);
      assert.equal(sink.bytesWritten, data.length);
      assert.deepEqual(await readFile(path), data);
    } finally {
      await file.close();
    }
  });

  it('asks its source to wait after each chunk rather than queue a slice of them in front of its slices (issue 29)', async () => {
    const path = join(root, 'one-at-a-time');
    const file = await open(path, 'w+');
    try {
      const sink = new DirectSink(file.fd, openSync(path, constants.O_RDONLY), 0);
      const chunk = randomBytes(64 * 1024);
      assert.equal(sink.write(chunk), false, 'a 64 KiB socket read is as much as the sink takes before its source waits');
      await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
      assert.deepEqual(await readFile(path), chunk);
    } finally {
      await file.close();
    }
  });

  it('fails the write, without an unhandled rejection, when the file takes no bytes at all', async () => {
    const path = join(root, 'refused');
    await open(path, 'w').then((handle) => handle.close());
    const file = await open(path, 'r');
    try {
      const sink = new DirectSink(file.fd, openSync(path, constants.O_RDONLY), 0);
      await assert.rejects(pipeline(Readable.from(pieces(randomBytes(3 * MiB), [MiB])), sink), { code: 'EBADF' });
      assert.equal((await readFile(path)).length, 0);
    } finally {
      await file.close();
    }
  });

  it('writes through the page cache, rather than hold more memory, while the process holds all the slices it may', direct, async () => {
    const files = await Promise.all(Array.from({ length: IN_USE_LIMIT + 2 }, (_, index) => open(join(root, `many-${index}`), 'w+')));
    try {
      const sinks = await Promise.all(files.map((file, index) => DirectSink.open(join(root, `many-${index}`), file.fd, 0)));
      const holders = sinks.slice(0, IN_USE_LIMIT).map((sink) => sink!);
      // One byte each: every one of these holds a slice until it ends.
      await Promise.all(
        holders.map((sink) => new Promise<void>((resolve, reject) => sink.write(Buffer.from('x'), (error) => (error ? reject(error) : resolve())))),
      );
      const data = randomBytes(2 * MiB);
      const starved = sinks[IN_USE_LIMIT]!;
      await pipeline(Readable.from(pieces(data, [MiB / 4])), starved);
      assert.equal(starved.directBytes, 0, 'no slice was to be had');
      assert.deepEqual(await readFile(join(root, `many-${IN_USE_LIMIT}`)), data);
      await Promise.all(holders.map((sink) => pipeline(Readable.from([]), sink)));
      const later = sinks[IN_USE_LIMIT + 1]!;
      await pipeline(Readable.from(pieces(data, [MiB / 4])), later);
      assert.equal(later.directBytes, data.length, 'slices are free again once the other uploads end');
      assert.deepEqual(await readFile(join(root, `many-${IN_USE_LIMIT + 1}`)), data);
    } finally {
      await Promise.all(files.map((file) => file.close()));
    }
  });
});
