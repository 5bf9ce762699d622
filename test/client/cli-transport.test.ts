/**
 * How `berth` reaches a registry (issue 20, items 2 and 4): HTTPS first on loopback too, plain
 * HTTP only where HTTPS is not spoken; a registry that is down, a retry and a rate limit each said
 * at once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LayoutStore } from '../../client/layout-store.ts';
import { freePort } from '../../peers/processes.ts';
import { startAuthBerth, type AuthBerth } from '../helpers/auth-berth.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { needs } from '../helpers/peers.ts';
import { storeImage } from '../helpers/stored-image.ts';
import { selfSignedCertificate } from '../../peers/certificate.ts';

let scratch: string;
/** No stored credentials: the machine's ~/.docker/config.json must not change what the CLI does. */
let env: NodeJS.ProcessEnv;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-transport-'));
  env = { DOCKER_CONFIG: join(scratch, 'docker') };
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('a registry serving HTTPS on 127.0.0.1', { timeout: 60_000, ...needs('openssl') }, () => {
  let berth: RunningBerth;
  let cert: string;

  before(async () => {
    cert = join(scratch, 'tls.crt');
    const key = join(scratch, 'tls.key');
    await selfSignedCertificate(cert, key);
    berth = await startBerth({ tls: { cert, key } });
    assert.match(berth.url, /^https:/);
  });
  after(() => berth?.stop());

  test('is pushed to and listed over HTTPS when its CA is trusted (NODE_EXTRA_CA_CERTS), and --verbose says so', async () => {
    const store = await LayoutStore.open(join(scratch, 'store-tls'));
    await storeImage(store, 'app');
    const trusted = { ...env, NODE_EXTRA_CA_CERTS: cert };
    const pushed = await runBerth(['push', `${berth.host}/r:v1`, '--from', 'app', '--store', store.dir], '', trusted);
    assert.equal(pushed.code, 0, pushed.stderr);
    const tags = await runBerth(['tags', `${berth.host}/r`, '--verbose'], '', trusted);
    assert.equal(tags.code, 0, tags.stderr);
    assert.equal(tags.stdout, 'v1\n');
    assert.match(tags.stderr, new RegExp(`using HTTPS \\(https://${berth.host}\\)`));
  });

  test('an untrusted certificate is an error that says so, never a fall back to plain HTTP; --insecure skips the check', async () => {
    const refused = await runBerth(['tags', `${berth.host}/r`], '', env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /TLS certificate .* is not trusted: self-signed certificate/);
    assert.match(refused.stderr, /hint: trust its CA with NODE_EXTRA_CA_CERTS/);
    const insecure = await runBerth(['tags', `${berth.host}/r`, '--insecure'], '', env);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.equal(insecure.stdout, 'v1\n');
  });
});

describe('a registry serving plain HTTP on 127.0.0.1', () => {
  let berth: RunningBerth;
  before(async () => {
    berth = await startBerth();
  });
  after(() => berth?.stop());

  test('is still reached, over plain HTTP once HTTPS is found not spoken there, and --verbose says why', async () => {
    const store = await LayoutStore.open(join(scratch, 'store-plain'));
    await storeImage(store, 'app');
    assert.equal((await runBerth(['push', `${berth.host}/r:v1`, '--from', 'app', '--store', store.dir], '', env)).code, 0);
    const tags = await runBerth(['tags', `${berth.host}/r`, '-v'], '', env);
    assert.equal(tags.code, 0, tags.stderr);
    assert.equal(tags.stdout, 'v1\n');
    assert.match(tags.stderr, new RegExp(`using plain HTTP \\(http://${berth.host}\\): HTTPS is not spoken there`));
  });
});

describe('failures said at once', { timeout: 30_000 }, () => {
  test('a registry that is down: "not reachable" at once, no retries (today: 15 s of silence, then connect ECONNREFUSED)', { timeout: 8_000 }, async () => {
    const port = await freePort();
    const down = await runBerth(['tags', `127.0.0.1:${port}/r`], '', env);
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      `berth: 127.0.0.1:${port} is not reachable: connection refused (https://127.0.0.1:${port})\nhint: is the registry running, and on that port?\n`,
    );
  });

  test('a retry is shown when it happens: the request, what answered, and the wait', async () => {
    let tagLists = 0;
    const flaky: Server = createServer((req, res) => {
      if (req.url?.includes('/tags/list') && tagLists++ === 0) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/v2/' ? '{}' : JSON.stringify({ name: 'r', tags: ['v1'] }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    try {
      const tags = await runBerth(['tags', `${host}/r`], '', env);
      assert.equal(tags.code, 0, tags.stderr);
      assert.equal(tags.stdout, 'v1\n');
      assert.match(tags.stderr, new RegExp(`^berth: GET http://${host}/v2/r/tags/list\\?n=1000: 503; retry 1 of 4 in \\d+\\.\\d s\\n$`));
    } finally {
      flaky.close();
    }
  });

  describe('a login locked out after failed attempts (429 with Retry-After)', () => {
    let berth: AuthBerth;
    before(async () => {
      berth = await startAuthBerth('htpasswd', { rateLimit: { attempts: 1, windowSeconds: 60 } });
    });
    after(() => berth?.stop());

    test('is reported as rate-limited with the wait at once, not slept through and called a bad password', { timeout: 15_000 }, async () => {
      const login = (password: string) => runBerth(['login', berth.host, '-u', 'alice', '--password-stdin'], `${password}\n`, env);
      const wrong = await login('guess');
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /credentials refused: 401/);
      const locked = await login('wonderland');
      assert.equal(locked.code, 1);
      assert.match(
        locked.stderr,
        new RegExp(`^berth: ${berth.host}: rate-limited, try again in (5\\d|60) s: 429 TOOMANYREQUESTS: too many failed logins for alice`),
      );
    });
  });
});
