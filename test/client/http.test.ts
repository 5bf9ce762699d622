import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readCredentials, writeCredentials } from '../../client/credentials.ts';
import { createHttp } from '../../client/http.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Digest } from '../../oci/digest.ts';
import { clientFor } from '../helpers/client-fixtures.ts';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const BLOB = Buffer.from('redirected blob content');
const DIGEST = Digest.of(BLOB);
const CREDENTIALS = { username: 'bob', password: 'builder' };
const BASIC = `Basic ${Buffer.from('bob:builder').toString('base64')}`;

describe('HTTP: Basic auth, and no Authorization across a redirect to another host', () => {
  let registry: { server: Server; host: string };
  let storage: { server: Server; host: string };
  const seenByStorage: (string | undefined)[] = [];

  before(async () => {
    storage = await listen((req, res) => {
      seenByStorage.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB);
    });
    registry = await listen((req, res) => {
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      res.writeHead(307, { location: `http://${storage.host}/data/${DIGEST.hex}` }).end();
    });
  });

  after(async () => {
    for (const { server } of [registry, storage]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('buffered and streamed blob reads answer Basic, follow the redirect and leave Authorization behind', async () => {
    const client = clientFor(registry.host, CREDENTIALS);
    assert.deepEqual(await client.getBlobBytes('repo', DIGEST), BLOB);
    const { status, body } = await client.openBlob('repo', DIGEST);
    assert.equal(status, 200);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), BLOB);
    assert.deepEqual(seenByStorage, [undefined, undefined]);
  });

  test('without credentials the registry error shows code and message', async () => {
    await assert.rejects(clientFor(registry.host).getBlobBytes('repo', DIGEST), /401 UNAUTHORIZED: authentication required/);
  });
});

describe('docker config.json', () => {
  test('reads `auths` entries with base64 auth and writes them back keeping other settings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
    const path = join(dir, 'config.json');
    try {
      await writeFile(
        path,
        JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') } }, credsStore: '' }),
      );
      assert.deepEqual(await readCredentials('docker.io', path), { username: 'hub', password: 'secret' });
      assert.equal(await readCredentials('registry.example:5000', path), undefined);
      await writeCredentials('registry.example:5000', { username: 'me', password: 'p:w' }, path);
      assert.deepEqual(await readCredentials('registry.example:5000', path), { username: 'me', password: 'p:w' });
      const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      assert.equal(written.credsStore, '');
      assert.deepEqual(await readCredentials('docker.io', path), { username: 'hub', password: 'secret' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the client HTTP layer (node:http: retries, timeouts)', () => {
  let server: Server;
  let base: string;
  /** Answers by path: /flaky 503 once, /locked 429 with a long Retry-After, /stall never answers, /upload 503 always. */
  const answered = new Map<string, number>();

  before(async () => {
    ({ server, host: base } = await listen((req, res) => {
      const count = (answered.get(req.url!) ?? 0) + 1;
      answered.set(req.url!, count);
      req.resume();
      if (req.url === '/flaky') return void (count === 1 ? res.writeHead(503, { 'retry-after': '0' }).end() : res.writeHead(200).end('ok'));
      if (req.url === '/locked') return void res.writeHead(429, { 'retry-after': '60' }).end();
      if (req.url === '/stall') return;
      if (req.url === '/upload') return void req.once('end', () => res.writeHead(503, { 'retry-after': '0' }).end());
      res.writeHead(404).end();
    }));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('a 503 to a GET is retried, and the retry is told before its wait', async () => {
    const notices: string[] = [];
    const http = createHttp({ onRetry: (notice) => notices.push(`${notice.method} ${notice.reason} ${notice.attempt}/${notice.limit} ${notice.delayMs}`) });
    const response = await http.request(`http://${base}/flaky`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.body.toString(), 'ok');
    assert.deepEqual(notices, ['GET 503 1/4 0']);
  });

  test('a Retry-After longer than MAX_RETRY_AFTER_MS is not waited for: the 429 is the answer', async () => {
    const response = await createHttp().request(`http://${base}/locked`);
    assert.equal(response.statusCode, 429);
    assert.equal(answered.get('/locked'), 1);
  });

  test('a streamed body is sent once whatever answers (the caller resumes from the registry offset)', async () => {
    const response = await createHttp().request(`http://${base}/upload`, { method: 'PUT', body: Readable.from([Buffer.from('bytes')]) });
    assert.equal(response.statusCode, 503);
    assert.equal(answered.get('/upload'), 1);
  });

  test('a server that goes silent fails the request with ETIMEDOUT after the idle timeout, and a GET is tried again', async () => {
    const started = answered.get('/stall') ?? 0;
    await assert.rejects(createHttp({ idleTimeoutMs: 200, retries: 1 }).request(`http://${base}/stall`), { code: 'ETIMEDOUT' });
    assert.equal(answered.get('/stall')! - started, 2);
  });
});
