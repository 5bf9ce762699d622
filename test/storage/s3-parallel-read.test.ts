/**
 * A large blob's read from S3 as ranged GETs side by side (distribution-spec end-2, a blob GET; the
 * ranges per RFC 9110 §14), and pushes as multipart uploads with parts in flight together: every byte
 * in order, whatever the part size, parallelism or range; memory bounded by the process's budget of
 * parts; a server that ignores ranges read with one GET; S3 failing mid-read fails the read.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { PathNotFoundError, type ByteRange } from '../../storage/driver.ts';
import { ParallelObjectReader, type RangeFetch } from '../../storage/drivers/s3/parallel-reader.ts';
import { PartBudget } from '../../storage/drivers/s3/part-budget.ts';
import { S3Bucket } from '../../storage/drivers/s3/s3-bucket.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { startLatencyProxy } from '../../peers/latency-proxy.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

const PART = 64 * 1024;
const object = randomBytes(16 * PART + 123);

/** Bucket, key and a fetch of ranges of the test object, counting the GETs it starts. */
function rangeFetch(bucket: S3Bucket, key: string): { fetch: RangeFetch; started: ByteRange[] } {
  const started: ByteRange[] = [];
  return {
    started,
    fetch: (range) => {
      started.push(range);
      return bucket.rangeReader(key, range);
    },
  };
}

describe('parallel ranged reads and part uploads on S3 (s3rver)', { timeout: 120_000 }, () => {
  let s3: S3Server;
  let bucket: S3Bucket;
  const key = 'parallel/object';

  before(async () => {
    s3 = await startS3Server();
    bucket = new S3Bucket(s3Settings(`s3://${s3.bucket}`, {}, s3.env));
    await bucket.putObject(key, object);
  });
  after(async () => {
    bucket?.close();
    await s3?.stop();
  });

  test('the bytes come in order, whole or any range, one part at a time or many', async () => {
    const ranges: ByteRange[] = [
      { start: 0, end: object.length },
      { start: 1, end: object.length - 1 },
      { start: PART - 1, end: PART + 1 },
      { start: 5 * PART + 7, end: 5 * PART + 9 },
      { start: 15 * PART, end: object.length },
    ];
    for (const parallel of [1, 3, 8]) {
      for (const range of ranges) {
        const budget = new PartBudget(16);
        const { fetch, started } = rangeFetch(bucket, key);
        const reader = (await ParallelObjectReader.open(fetch, range, { partSize: PART, parallel, budget }))!;
        const bytes = await buffer(reader);
        assert.ok(bytes.equals(object.subarray(range.start, range.end)), `bytes ${range.start}-${range.end} with ${parallel} at once`);
        assert.equal(started.length, Math.ceil((range.end - range.start) / PART), 'one GET per part');
        assert.equal(budget.inUse, 0, 'every part taken from the budget is given back');
      }
    }
  });

  test('with the budget spent by other reads, a read still goes on, one part at a time', async () => {
    const budget = new PartBudget(2);
    assert.equal(budget.takeUpTo(5), 2);
    const { fetch } = rangeFetch(bucket, key);
    const reader = (await ParallelObjectReader.open(fetch, { start: 0, end: object.length }, { partSize: PART, parallel: 4, budget }))!;
    assert.ok((await buffer(reader)).equals(object), 'the whole object');
    assert.equal(budget.inUse, 2, 'the read took nothing it did not give back');
  });

  test('a client that stops reading holds no more than the parts in flight; closing it gives their share back', async () => {
    const budget = new PartBudget(16);
    const { fetch, started } = rangeFetch(bucket, key);
    // Parts of several socket reads each, so that the first is not handed to the client's buffer whole.
    const reader = (await ParallelObjectReader.open(fetch, { start: 0, end: object.length }, { partSize: 4 * PART, parallel: 3, budget }))!;
    const first = await new Promise<Buffer>((resolve) => reader.once('data', resolve));
    reader.pause();
    assert.ok(first.equals(object.subarray(0, first.length)), "the first bytes are the object's");
    // Time for every part in flight to arrive: none beyond them may start while the client waits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(started.length, 3, 'three parts requested, no more');
    assert.equal(budget.inUse, 2, 'the two parts beyond the first hold the budget');
    reader.destroy();
    assert.equal(budget.inUse, 0);
  });

  test('a missing object rejects as a GET of it does; the driver says PathNotFoundError', async () => {
    const budget = new PartBudget(16);
    const { fetch } = rangeFetch(bucket, 'parallel/none');
    await assert.rejects(ParallelObjectReader.open(fetch, { start: 0, end: 4 * PART }, { partSize: PART, parallel: 4, budget }), (error: Error) =>
      ['NoSuchKey', 'NotFound'].includes(error.name),
    );
    assert.equal(budget.inUse, 0);
    const driver = new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env));
    try {
      await assert.rejects(driver.reader('docker/registry/v2/blobs/sha256/00/none/data', { start: 0, end: 64 << 20 }), PathNotFoundError);
    } finally {
      await driver.close();
    }
  });

  test('a 40 MiB blob written with parts in flight together reads back whole: from a bucket across a network in parallel parts, with one GET before the bucket has answered a small request', async () => {
    const large = randomBytes(40 << 20);
    // 20 ms a request, as a bucket in another region takes; loopback answers in well under 1 ms.
    const far = await startLatencyProxy(s3.endpoint, { latencyMs: 20 });
    // Near, far, and far with every request through the SDK (fast paths off), which must time its requests too.
    const drivers = [{ endpoint: s3.endpoint }, { endpoint: far.endpoint }, { endpoint: far.endpoint, fastPaths: false }].map(
      (section) => new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, section, s3.env)),
    );
    try {
      assert.equal(await drivers[0]!.write('large/data', Readable.from([large.subarray(0, 1 << 20), large.subarray(1 << 20)])), large.length);
      for (const [driver, parallel] of [
        [drivers[0]!, false],
        [drivers[1]!, true],
        [drivers[2]!, true],
      ] as const) {
        // Far: a small request first, as a blob GET's link read is, tells the driver how far the bucket is.
        if (parallel) await driver.stat('large/data');
        const reader = await driver.reader('large/data', { start: 0, end: large.length });
        assert.equal(reader instanceof ParallelObjectReader, parallel, parallel ? 'across a network, parallel parts' : 'distance unknown, one GET');
        assert.ok((await buffer(reader)).equals(large), 'the whole blob');
        const middle = await buffer(await driver.reader('large/data', { start: (9 << 20) + 3, end: (33 << 20) + 5 }));
        assert.ok(middle.equals(large.subarray((9 << 20) + 3, (33 << 20) + 5)), 'a range across parts');
      }
    } finally {
      await Promise.all(drivers.map((driver) => driver.close()));
      await far.stop();
    }
  });
});

describe('a server that ignores ranges', { timeout: 60_000 }, () => {
  let s3: S3Server;
  let proxy: Server;
  let driver: S3Driver;
  const large = randomBytes(20 << 20);

  before(async () => {
    s3 = await startS3Server();
    const upstream = new URL(s3.endpoint);
    // Forwards every request without its Range header: the whole object comes back, 200.
    proxy = createServer((req, res) => {
      const headers = { ...req.headers };
      delete headers.range;
      const forwarded = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    driver = new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, { endpoint }, { ...s3.env, AWS_ENDPOINT_URL_S3: endpoint }));
    await driver.write('large/data', Readable.from([large]));
  });
  after(async () => {
    await driver?.close();
    proxy?.close();
    await s3?.stop();
  });

  test('a parallel read is not opened; the blob comes whole from one GET', async () => {
    const bucket = new S3Bucket(
      s3Settings(`s3://${s3.bucket}/registry`, {}, { ...s3.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` }),
    );
    try {
      assert.equal(await bucket.rangeReader(bucket.key('large/data'), { start: 0, end: 8 << 20 }), undefined, 'a 200 for a ranged GET is no part');
    } finally {
      bucket.close();
    }
    const reader = await driver.reader('large/data', { start: 0, end: large.length });
    assert.ok(!(reader instanceof ParallelObjectReader), 'one GET');
    assert.ok((await buffer(reader)).equals(large), 'the whole blob');
  });
});

describe('S3 gone in the middle of a parallel read', { timeout: 60_000 }, () => {
  let s3: S3Server;
  let bucket: S3Bucket;

  before(async () => {
    s3 = await startS3Server();
    bucket = new S3Bucket(s3Settings(`s3://${s3.bucket}`, {}, s3.env));
    await bucket.putObject('cut/object', object);
  });
  after(async () => {
    bucket?.close();
    await s3?.stop();
  });

  test('the read fails instead of ending early or hanging, and gives its budget back', async () => {
    const budget = new PartBudget(16);
    const { fetch } = rangeFetch(bucket, 'cut/object');
    const reader = (await ParallelObjectReader.open(fetch, { start: 0, end: object.length }, { partSize: PART, parallel: 2, budget }))!;
    let received = 0;
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        // The first bytes in, S3 goes away: the parts not yet asked for cannot be.
        if (received === chunk.length) void s3.kill().then(() => done());
        else done();
      },
    });
    await assert.rejects(pipeline(reader, sink));
    assert.ok(received < object.length, `the read stopped short (${received} of ${object.length} bytes)`);
    assert.equal(budget.inUse, 0);
  });
});
