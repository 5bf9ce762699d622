/**
 * Blob GETs on S3 over plain HTTP (distribution-spec end-2, ranges per RFC 9110 §14): the object
 * comes on a connection of the driver's own and the kernel splices it into the client's socket.
 * Every byte arrives in order; anything but a plain 200/206 goes back to the SDK; S3 cutting the
 * body short fails the download rather than ending it early; clients hanging up leave nothing open.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PathNotFoundError } from '../../storage/driver.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { DirectObjectReader } from '../../storage/drivers/s3/s3-direct-reader.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { relayAvailable } from '../../storage/drivers/socket-target.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { randomBlob, type TestBlob } from '../helpers/content.ts';
import { body, downloadChecks, get } from '../helpers/download-checks.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { needsAddon } from '../helpers/peers.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

/** Many times a loopback socket's buffer and the relay's 1 MiB pipe, and less than a parallel read's two parts. */
const SIZE = 12 * 1024 * 1024;
const blob: TestBlob = randomBlob(SIZE);
const digest = `${blob.digest}`;
const path = `/v2/s3dl/blob/blobs/${digest}`;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('blob download from S3 over plain HTTP (splice)', { timeout: 120_000 }, () => {
  let s3: S3Server;
  let driver: S3Driver;
  let berth: RunningBerth;

  before(async () => {
    s3 = await startS3Server();
    driver = new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env));
    berth = await startBerth({ driver });
    await new RegistryAPI(berth.url).pushBlob('s3dl/blob', blob);
  });
  after(async () => {
    await berth?.stop();
    await driver?.close();
    await s3?.stop();
  });

  test('npm install built the splice addon, and a plain HTTP endpoint is read on a connection of its own', needsAddon(relayAvailable), async () => {
    assert.ok(relayAvailable, 'build/Release/splice.node is missing: `npm install` runs node-gyp (needs python3, make, g++)');
    const data = `docker/registry/v2/blobs/sha256/${blob.digest.hex.slice(0, 2)}/${blob.digest.hex}/data`;
    const large = await driver.reader(data, { start: 0, end: SIZE });
    assert.ok(large instanceof DirectObjectReader, 'a large range gets a reader of its own');
    large.destroy();
    const small = await driver.reader(data, { start: 0, end: 1000 });
    assert.ok(!(small instanceof DirectObjectReader), 'a small range is read through the SDK');
    small.destroy();
  });

  downloadChecks(() => `${berth.url}${path}`, blob);

  test('read as a stream (as layer analysis does), the reader gives the object', async () => {
    const chunks: Buffer[] = [];
    const reader = await driver.reader(`docker/registry/v2/blobs/sha256/${blob.digest.hex.slice(0, 2)}/${blob.digest.hex}/data`, { start: 5, end: 3_000_005 });
    await pipeline(
      reader,
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          chunks.push(chunk);
          done();
        },
      }),
    );
    assert.ok(Buffer.concat(chunks).equals(blob.bytes.subarray(5, 3_000_005)), 'the stream is bytes 5–3000004 of the object');
  });

  test('a missing object is PathNotFoundError, as through the SDK', async () => {
    await assert.rejects(driver.reader('docker/registry/v2/blobs/sha256/00/none/data'), PathNotFoundError);
  });
});

const MIB4 = 4 * 1024 * 1024;
const MIB16 = 16 * 1024 * 1024;

describe('answers a direct reader does not take', { timeout: 30_000 }, () => {
  const answers: Record<string, (res: ServerResponse) => void> = {
    '/missing': (res) => res.writeHead(404, { 'Content-Length': 9 }).end('not found'),
    '/chunked': (res) => {
      res.writeHead(206, { 'Transfer-Encoding': 'chunked' });
      res.end('abc');
    },
    '/unranged': (res) => res.writeHead(200, { 'Content-Length': 3 }).end('abc'),
    '/large': (res) => res.writeHead(206, { 'Content-Length': MIB16 }).end(Buffer.alloc(MIB16, 1)),
    '/bc': (res) => res.writeHead(206, { 'Content-Length': 2 }).end('bc'),
    '/wrong-length': (res) => res.writeHead(206, { 'Content-Length': 3 }).end('abc'),
    '/short': (res) => {
      res.writeHead(206, { 'Content-Length': MIB4 });
      res.write(Buffer.alloc(1024 * 1024, 7), () => res.socket?.destroy());
    },
  };
  let upstream: Server;
  let base: string;

  before(async () => {
    upstream = createServer((req, res) => answers[req.url!]!(res));
    base = await listen(upstream);
  });
  after(() => upstream.close());

  test('not found, a chunked body, a whole object or another length than the range asked, and no server are left to the SDK', async () => {
    for (const where of ['missing', 'chunked', 'unranged', 'wrong-length']) {
      assert.equal(await DirectObjectReader.open(new URL(`${base}/${where}`), { start: 1, end: 3 }, 5000), undefined, where);
    }
    assert.equal(await DirectObjectReader.open(new URL('http://127.0.0.1:9/down'), { start: 0, end: 3 }, 5000), undefined);
  });

  test('an endpoint given as an IPv6 literal is reached', async () => {
    const v6 = createServer((req, res) => answers[req.url!]!(res));
    await new Promise<void>((resolve, reject) => v6.once('error', reject).listen(0, '::1', resolve));
    try {
      const reader = (await DirectObjectReader.open(new URL(`http://[::1]:${(v6.address() as { port: number }).port}/bc`), { start: 1, end: 3 }, 5000))!;
      const chunks: Buffer[] = [];
      for await (const chunk of reader) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'bc');
    } finally {
      v6.close();
    }
  });

  // These two test the splice relay; without the addon a reader is piped, as the last test checks.
  test('a body cut short fails the relay, and the client sees a download that did not end', needsAddon(relayAvailable), async () => {
    const relay = createServer((_req, res) => {
      void (async () => {
        const reader = (await DirectObjectReader.open(new URL(`${base}/short`), { start: 0, end: MIB4 }, 5000))!;
        res.writeHead(206, { 'Content-Length': MIB4 });
        await reader.sendTo(res).catch((error: NodeJS.ErrnoException) => {
          failure = error.code;
          res.destroy();
        });
      })();
    });
    let failure: string | undefined;
    const url = await listen(relay);
    try {
      const response = await get(url);
      const received = await body(response).then(
        () => 'ended',
        () => 'aborted',
      );
      assert.equal(received, 'aborted');
      assert.equal(failure, 'EOF');
    } finally {
      relay.close();
    }
  });

  test('a response closed by the server mid-relay (its client stalled) stops the relay at once', needsAddon(relayAvailable), async () => {
    let failure!: Promise<string | undefined>;
    const relay = createServer((_req, res) => {
      failure = (async () => {
        const reader = (await DirectObjectReader.open(new URL(`${base}/large`), { start: 0, end: MIB16 }, 5000))!;
        res.writeHead(206, { 'Content-Length': MIB16 });
        setTimeout(() => res.destroy(), 300);
        return reader.sendTo(res).then(
          () => 'sent',
          (error: NodeJS.ErrnoException) => error.code,
        );
      })();
    });
    const url = await listen(relay);
    try {
      const response = await get(url);
      response.pause();
      const started = Date.now();
      assert.equal(await failure, 'ECANCELED');
      assert.ok(Date.now() - started < 5000, 'the relay waited for its idle timeout');
      response.destroy();
    } finally {
      relay.close();
    }
  });

  test('a body cut short errors a reader read as a stream', async () => {
    const reader = (await DirectObjectReader.open(new URL(`${base}/short`), { start: 0, end: MIB4 }, 5000))!;
    await assert.rejects(pipeline(reader, new Writable({ write: (_chunk, _encoding, done) => done() })), /S3 closed the connection/);
  });
});
