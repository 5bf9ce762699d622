import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readCredentials, writeCredentials } from '../../client/credentials.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
