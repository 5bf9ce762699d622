/**
 * Blob GETs (distribution-spec end-2, ranges per RFC 9110 §14) send exactly the stored bytes, on
 * plain HTTP where the kernel copies file pages into the socket (sendfile) and over TLS where
 * they go through buffers; a client hanging up mid-blob leaves nothing open behind it.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SocketTarget, zeroCopyAvailable } from '../../storage/drivers/socket-target.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { randomBlob, type TestBlob } from '../helpers/content.ts';
import { body, downloadChecks, get, sha256 } from '../helpers/download-checks.ts';
import { needs, needsAddon } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { selfSignedCertificate } from '../../peers/certificate.ts';

/** Larger than a loopback socket's buffer, so a download fills it many times over. */
const SIZE = 48 * 1024 * 1024;
const blob: TestBlob = randomBlob(SIZE);
const digest = `${blob.digest}`;
const path = `/v2/dl/blob/blobs/${digest}`;

/**
 * Serves one request on `server` (listening on a free port) whose handler hands the response's
 * SocketTarget (if any) to `probe`, sends `client` at it, and returns what the probe found.
 */
async function withProbe<T>(
  server: Server,
  client: (port: number) => Promise<unknown>,
  probe: (target: SocketTarget | undefined) => T | Promise<T>,
): Promise<T> {
  let found!: Promise<T>;
  server.on('request', (_req, res: ServerResponse) => {
    const target = SocketTarget.of(res);
    found = Promise.resolve(probe(target)).finally(() => {
      target?.release();
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await client((server.address() as { port: number }).port).catch(() => undefined);
    return await found;
  } finally {
    server.close();
  }
}

describe('blob download over plain HTTP (sendfile)', { timeout: 60_000 }, () => {
  let berth: RunningBerth;

  before(async () => {
    berth = await startBerth();
    await new RegistryAPI(berth.url).pushBlob('dl/blob', blob);
  });
  after(() => berth?.stop());

  test('npm install built the sendfile addon, and a plain HTTP response is a socket it can send to', needsAddon(zeroCopyAvailable), async () => {
    assert.ok(zeroCopyAvailable, 'build/Release/sendfile.node is missing: `npm install` runs node-gyp (needs python3, make, g++)');
    const chosen = await withProbe(
      createServer(),
      (port) => get(`http://127.0.0.1:${port}/`),
      (target) => target !== undefined,
    );
    assert.equal(chosen, true);
  });

  test(
    'a send to a client that hung up fails with the code Node gives it, so the server takes it for a client gone',
    needsAddon(zeroCopyAvailable),
    async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'berth-sendfile-')), 'data');
      await writeFile(file, blob.bytes);
      const fd = openSync(file, 'r');
      try {
        const code = await withProbe(
          createServer(),
          (port) =>
            new Promise<void>((resolve) =>
              connect(port, '127.0.0.1', function (this: Socket) {
                // write, not end: a half-closed request lets the server end the socket before any byte is sent.
                this.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
                this.once('data', () => this.resetAndDestroy());
                this.once('close', () => resolve());
              }),
            ),
          async (target) => {
            for (let attempt = 0; attempt < 1000; attempt++) {
              const failure = await target!.send(fd, 0, SIZE).then(
                () => undefined,
                (error: NodeJS.ErrnoException) => error.code,
              );
              if (failure) return failure;
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
            return 'no error';
          },
        );
        assert.ok(code === 'EPIPE' || code === 'ECONNRESET', `sendfile failed with ${code}`);
      } finally {
        closeSync(fd);
        await rm(dirname(file), { recursive: true, force: true });
      }
    },
  );

  downloadChecks(() => `${berth.url}${path}`, blob);
});

describe('blob download over TLS (buffers)', { timeout: 60_000, ...needs('openssl') }, () => {
  let dir: string;
  let berth: RunningBerth;
  let ca: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-tls-download-'));
    const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
    await selfSignedCertificate(cert, key);
    ca = await readFile(cert);
    berth = await startBerth({ tls: { cert, key } });
    const response = await fetch(`${berth.url}/v2/`).catch(() => undefined);
    assert.equal(response, undefined, 'fetch refuses the self-signed certificate: the server really speaks TLS');
    const upload = await new Promise<IncomingMessage>((resolve, reject) => {
      httpsRequest(`${berth.url}/v2/dl/blob/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', ca, headers: { 'Content-Length': SIZE } }, resolve)
        .on('error', reject)
        .end(blob.bytes);
    });
    assert.equal(upload.statusCode, 201);
    upload.resume();
  });
  after(async () => {
    await berth?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a TLS response is not a socket sendfile may write to (the bytes must be encrypted)', async () => {
    const server = createHttpsServer({ cert: ca, key: await readFile(join(dir, 'tls.key')) });
    const request = (port: number) =>
      new Promise<IncomingMessage>((resolve, reject) => httpsRequest(`https://127.0.0.1:${port}/`, { ca, agent: false }, resolve).on('error', reject).end());
    assert.equal(await withProbe(server, request, (target) => target !== undefined), false);
  });

  test('a whole blob and a range are the stored bytes', async () => {
    const download = (headers: Record<string, string>) =>
      new Promise<IncomingMessage>((resolve, reject) => httpsRequest(`${berth.url}${path}`, { ca, headers, agent: false }, resolve).on('error', reject).end());
    assert.equal(sha256(await body(await download({}))), digest);
    const ranged = await download({ Range: 'bytes=5-1048580' });
    assert.equal(ranged.statusCode, 206);
    assert.ok((await body(ranged)).equals(blob.bytes.subarray(5, 1_048_581)), 'the body is bytes 5–1048580 of the blob');
  });
});
