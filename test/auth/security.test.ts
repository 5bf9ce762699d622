/** The security cases of token and htpasswd mode, each over real HTTP against Berth. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, importPKCS8 } from 'jose';
import { parseChallenge } from '../../client/challenge.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { blobOf, imageManifest } from '../helpers/content.ts';
import { basic, fetchToken, startAuthBerth, type AuthBerth } from '../helpers/auth-berth.ts';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const layer = blobOf(Buffer.from('layer of team/app'));
const config = blobOf(Buffer.from('{}'));
const manifest = imageManifest(config, [layer]);

/** Every endpoint of the API, with the scope its challenge must name. */
const ENDPOINTS: [method: string, path: string, scope: string | undefined][] = [
  ['GET', '/v2/', undefined],
  ['GET', '/v2/_catalog', 'registry:catalog:*'],
  ['GET', '/v2/team/app/tags/list', 'repository:team/app:pull'],
  ['GET', '/v2/team/app/manifests/v1', 'repository:team/app:pull'],
  ['HEAD', '/v2/team/app/manifests/v1', 'repository:team/app:pull'],
  ['PUT', '/v2/team/app/manifests/v1', 'repository:team/app:pull,push'],
  ['DELETE', '/v2/team/app/manifests/v1', 'repository:team/app:delete'],
  ['GET', `/v2/team/app/blobs/${layer.digest}`, 'repository:team/app:pull'],
  ['HEAD', `/v2/team/app/blobs/${layer.digest}`, 'repository:team/app:pull'],
  ['DELETE', `/v2/team/app/blobs/${layer.digest}`, 'repository:team/app:delete'],
  ['POST', '/v2/team/app/blobs/uploads/', 'repository:team/app:pull,push'],
  ['PATCH', `/v2/team/app/blobs/uploads/${randomUUID()}`, 'repository:team/app:pull,push'],
  ['PUT', `/v2/team/app/blobs/uploads/${randomUUID()}?digest=${layer.digest}`, 'repository:team/app:pull,push'],
  ['GET', `/v2/team/app/blobs/uploads/${randomUUID()}`, 'repository:team/app:pull,push'],
  ['DELETE', `/v2/team/app/blobs/uploads/${randomUUID()}`, 'repository:team/app:pull,push'],
  ['GET', `/v2/team/app/referrers/${layer.digest}`, 'repository:team/app:pull'],
];

/** Pushes `manifest` to `name` with `headers` and answers the manifest PUT's status. */
async function pushImage(api: RegistryAPI, name: string, headers: Record<string, string>): Promise<number> {
  for (const blob of [layer, config]) {
    const response = await api.request('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes, headers });
    if (response.status !== 201) return response.status;
  }
  const response = await api.request('PUT', `/v2/${name}/manifests/v1`, {
    body: manifest.bytes,
    headers: { ...headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  return response.status;
}

describe('token mode', () => {
  let berth: AuthBerth;
  let api: RegistryAPI;
  let signingKey: CryptoKey;

  /** A token signed with `key` (Berth's own by default) carrying `claims` over sane defaults. */
  async function forge(claims: Record<string, unknown>, key: CryptoKey = signingKey, alg = 'ES256'): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'berth', sub: 'alice', aud: 'berth', iat: now, nbf: now, exp: now + 300, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg })
      .sign(key);
  }
  const teamPull = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];

  before(async () => {
    berth = await startAuthBerth('token');
    api = new RegistryAPI(berth.url);
    signingKey = await importPKCS8(await readFile(join(berth.secrets, 'token-key.pem'), 'utf8'), 'ES256');
    const token = await fetchToken(berth.url, ['repository:team/app:pull,push'], 'alice');
    assert.equal(await pushImage(api, 'team/app', bearer(token)), 201);
    const publicToken = await fetchToken(berth.url, ['repository:public/base:pull,push'], 'alice');
    assert.equal(await pushImage(api, 'public/base', bearer(publicToken)), 403, 'alice may only pull public/**');
    const bobToken = await fetchToken(berth.url, ['repository:bob/tool:pull,push'], 'bob');
    assert.equal(await pushImage(api, 'bob/tool', bearer(bobToken)), 201);
  });
  after(() => berth.stop());

  it('answers every endpoint without credentials with 401 and a Bearer challenge naming exactly the scope it needs', async () => {
    for (const [method, path, scope] of ENDPOINTS) {
      const response = await api.request(method, path);
      assert.equal(response.status, 401, `${method} ${path}`);
      const expected = `Bearer realm="${berth.url}/token",service="berth"${scope ? `,scope="${scope}"` : ''}`;
      assert.equal(response.headers.get('www-authenticate'), expected, `${method} ${path}`);
      if (method !== 'HEAD') assert.deepEqual(await RegistryAPI.errorCodes(response), ['UNAUTHORIZED']);
    }
  });

  it('names the mount source in the challenge of a cross-repository mount', async () => {
    const response = await api.request('POST', `/v2/team/app/blobs/uploads/?mount=${layer.digest}&from=public/base`);
    assert.match(response.headers.get('www-authenticate') ?? '', /scope="repository:team\/app:pull,push repository:public\/base:pull"/);
  });

  it('issues a JWT with every claim, granting the intersection of asked and allowed', async () => {
    const token = await fetchToken(berth.url, ['repository:readonly/x:pull,push', 'repository:team/app:*', 'repository:bob/tool:pull'], 'alice');
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    assert.equal(header!.alg, 'ES256');
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) assert.ok(payload![claim] !== undefined, claim);
    assert.equal(payload!.sub, 'alice');
    assert.deepEqual(payload!.access, [
      { type: 'repository', name: 'readonly/x', actions: ['pull'] },
      { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
    ]);
  });

  it('refuses a wrong password at the token endpoint with 401, on GET and on the OAuth2 POST', async () => {
    const get = await fetch(`${berth.url}/token?service=berth&scope=repository:team/app:pull`, { headers: { Authorization: basic('alice', 'nope') } });
    assert.equal(get.status, 401);
    const post = await fetch(`${berth.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'nope', service: 'berth', client_id: 'test' }),
    });
    assert.equal(post.status, 401);
  });

  it('serves the OAuth2 POST form: password grant with a refresh token, then a refresh_token grant', async () => {
    const first = await fetch(`${berth.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'alice',
        password: 'wonderland',
        service: 'berth',
        client_id: 'test',
        access_type: 'offline',
        scope: 'repository:team/app:pull',
      }),
    });
    assert.equal(first.status, 200);
    const issued = (await first.json()) as { access_token: string; refresh_token: string; scope: string };
    assert.equal(issued.scope, 'repository:team/app:pull');
    assert.equal((await api.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(issued.access_token) })).status, 200);
    assert.equal(
      (await api.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(issued.refresh_token) })).status,
      401,
      'a refresh token is no access token',
    );
    const refreshed = await fetch(`${berth.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: issued.refresh_token,
        service: 'berth',
        client_id: 'test',
        scope: 'repository:team/app:push',
      }),
    });
    assert.equal(refreshed.status, 200);
    const token = ((await refreshed.json()) as { access_token: string }).access_token;
    assert.equal((await api.request('POST', '/v2/team/app/blobs/uploads/', { headers: bearer(token) })).status, 202);
  });

  it("checks an upload's status and cancel as the push they are part of, whatever their method", async () => {
    const pusher = await fetchToken(berth.url, ['repository:team/app:pull,push'], 'alice');
    const started = await api.request('POST', '/v2/team/app/blobs/uploads/', { headers: bearer(pusher) });
    assert.equal(started.status, 202);
    const upload = started.headers.get('location');
    for (const [method, scopes] of [
      ['GET', ['repository:team/app:pull']],
      ['DELETE', ['repository:team/app:pull,delete']],
    ] as const) {
      const refused = await api.request(method, upload, { headers: bearer(await fetchToken(berth.url, [...scopes], 'alice')) });
      assert.equal(refused.status, 401, `${method} with ${scopes[0]}`);
      assert.equal(parseChallenge(refused.headers.get('www-authenticate')!).params.scope, 'repository:team/app:pull,push');
    }
    assert.equal((await api.request('GET', upload, { headers: bearer(pusher) })).status, 204);
    // bob may push to bob/** but not delete there: he still cancels his own upload.
    const bobs = await fetchToken(berth.url, ['repository:bob/tool:pull,push'], 'bob');
    const own = await api.request('POST', '/v2/bob/tool/blobs/uploads/', { headers: bearer(bobs) });
    assert.equal((await api.request('DELETE', own.headers.get('location'), { headers: bearer(bobs) })).status, 204);
  });

  it('builds the default realm only from a valid Host header, and never lets it end the parameter', async () => {
    const realmFor = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const request = httpRequest(`${berth.url}/v2/team/app/tags/list`, { headers: { Host: host } }, (response) => {
          response.resume();
          resolve(parseChallenge(String(response.headers['www-authenticate'])).params.realm!);
        });
        request.on('error', reject).end();
      });
    assert.equal(await realmFor('registry.example:5000'), 'http://registry.example:5000/token');
    const injected = await realmFor('evil.example.com/x",service="pwn');
    assert.equal(injected, `${berth.url}/token`, 'a malformed Host: the address the request came in on');
  });

  it('grants nothing for a repository name that is not one', async () => {
    const token = await fetchToken(berth.url, ['repository:team/../secret/repo:pull,push', 'repository:team/app:pull'], 'alice');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { access: unknown };
    assert.deepEqual(payload.access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
  });

  it('a token for one repository can neither read nor write another (403 DENIED)', async () => {
    const token = await fetchToken(berth.url, ['repository:team/app:pull,push'], 'alice');
    for (const [method, path] of [
      ['GET', '/v2/bob/tool/manifests/v1'],
      ['GET', `/v2/bob/tool/blobs/${layer.digest}`],
      ['POST', '/v2/bob/tool/blobs/uploads/'],
      ['PUT', '/v2/bob/tool/manifests/v2'],
    ] as const) {
      const response = await api.request(method, path, { headers: bearer(token) });
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.deepEqual(await RegistryAPI.errorCodes(response), ['DENIED']);
    }
  });

  it('a pull-only token pulls but can neither push nor delete', async () => {
    const writes = (name: string) =>
      [
        ['POST', `/v2/${name}/blobs/uploads/`],
        ['PUT', `/v2/${name}/manifests/v2`],
        ['DELETE', `/v2/${name}/manifests/v1`],
        ['DELETE', `/v2/${name}/blobs/${layer.digest}`],
      ] as const;
    const token = await fetchToken(berth.url, ['repository:team/app:pull'], 'alice');
    assert.equal((await api.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(token) })).status, 200);
    // alice may write team/app: the refusal asks for a token with that scope (insufficient_scope), as clients upgrade on a 401.
    for (const [method, path] of writes('team/app')) {
      const response = await api.request(method, path, { headers: bearer(token), body: manifest.bytes });
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')!).params.error, 'insufficient_scope');
    }
    // bob may only pull readonly/**: no token would do, so it is 403 DENIED.
    const bobs = await fetchToken(berth.url, ['repository:readonly/x:pull,push,delete'], 'bob');
    for (const [method, path] of writes('readonly/x')) {
      const response = await api.request(method, path, { headers: bearer(bobs), body: manifest.bytes });
      assert.equal(response.status, 403, `${method} ${path}`);
    }
  });

  it('grants anonymous pull where the rules allow it, nothing more, and a partial grant is no error', async () => {
    const token = await fetchToken(berth.url, ['repository:public/base:pull,push', 'repository:team/app:pull']);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; access: unknown };
    assert.equal(payload.sub, '');
    assert.deepEqual(payload.access, [{ type: 'repository', name: 'public/base', actions: ['pull'] }]);
    assert.equal((await api.request('GET', '/v2/team/app/tags/list', { headers: bearer(token) })).status, 403);
  });

  it('refuses expired, not-yet-valid, wrongly signed, alg none and wrong-audience tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const unsigned = [
      { alg: 'none', typ: 'JWT' },
      { iss: 'berth', sub: 'alice', aud: 'berth', exp: now + 300, access: teamPull },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.');
    const cases: [string, string][] = [
      ['a valid token (control)', await forge({ access: teamPull })],
      ['expired', await forge({ access: teamPull, iat: now - 600, nbf: now - 600, exp: now - 120 })],
      ['not yet valid', await forge({ access: teamPull, nbf: now + 600, exp: now + 900 })],
      ['signed with another key', await forge({ access: teamPull }, otherKey as unknown as CryptoKey)],
      ['alg none', `${unsigned}.`],
      ['for another audience', await forge({ access: teamPull, aud: 'other-registry' })],
      ['from another issuer', await forge({ access: teamPull, iss: 'someone-else' })],
    ];
    for (const [what, token] of cases) {
      const response = await api.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(token) });
      if (what.endsWith('(control)')) {
        assert.equal(response.status, 200, what);
        continue;
      }
      assert.equal(response.status, 401, what);
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
    }
  });

  it('lists in the catalog only what the caller may pull', async () => {
    const catalog = async (user?: 'alice' | 'bob') => {
      const token = await fetchToken(berth.url, ['registry:catalog:*'], user);
      const response = await api.request('GET', '/v2/_catalog', { headers: bearer(token) });
      return { status: response.status, body: response.status === 200 ? ((await response.json()) as { repositories: string[] }).repositories : [] };
    };
    assert.deepEqual(await catalog('alice'), { status: 200, body: ['team/app'] });
    assert.deepEqual(await catalog('bob'), { status: 200, body: ['bob/tool'] });
    assert.equal((await catalog()).status, 403, 'an anonymous token carries no catalog grant');
  });

  it('mounts across repositories only with pull on the source, else falls back to an upload', async () => {
    const token = await fetchToken(
      berth.url,
      ['repository:bob/copy:pull,push', 'repository:bob/other:pull,push', 'repository:team/app:pull', 'repository:bob/tool:pull'],
      'bob',
    );
    const denied = await api.request('POST', `/v2/bob/copy/blobs/uploads/?mount=${layer.digest}&from=team/app`, { headers: bearer(token) });
    assert.equal(denied.status, 202, 'no pull on team/app: an upload session instead of a mount');
    const allowed = await api.request('POST', `/v2/bob/copy/blobs/uploads/?mount=${layer.digest}&from=bob/tool`, { headers: bearer(token) });
    assert.equal(allowed.status, 201);
    // Where no repository bob may pull holds a blob, an automatic mount is refused: test/auth/admin.test.ts.
    const automatic = await api.request('POST', `/v2/bob/other/blobs/uploads/?mount=${layer.digest}`, { headers: bearer(token) });
    assert.equal(automatic.status, 201, 'an automatic mount finds the layer in bob/tool, which bob may pull');
  });
});

describe('token mode with an external issuer', () => {
  let berth: AuthBerth;
  let api: RegistryAPI;
  const issuerKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'issuer-'));
    const publicKey = join(dir, 'issuer.pem');
    await writeFile(publicKey, issuerKeys.publicKey.export({ type: 'spki', format: 'pem' }));
    berth = await startAuthBerth('token', { token: { realm: 'https://auth.example/token', service: 'registry.example', issuer: 'auth.example', publicKey } });
    api = new RegistryAPI(berth.url);
  });
  after(() => berth.stop());

  const sign = (key: Parameters<SignJWT['sign']>[0]) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('auth.example')
      .setAudience('registry.example')
      .setSubject('alice')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
  };

  it('sends clients to the external realm, accepts its tokens and refuses tokens signed by an unknown key', async () => {
    const challenge = await api.request('GET', '/v2/team/app/tags/list');
    assert.equal(
      challenge.headers.get('www-authenticate'),
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull"',
    );
    assert.equal((await fetch(`${berth.url}/token`)).status, 404, 'no built-in endpoint');
    const good = await api.request('POST', '/v2/team/app/blobs/uploads/', { headers: bearer(await sign(issuerKeys.privateKey)) });
    assert.equal(good.status, 202);
    const unknown = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const bad = await api.request('POST', '/v2/team/app/blobs/uploads/', { headers: bearer(await sign(unknown)) });
    assert.equal(bad.status, 401);
  });
});

describe('htpasswd mode', () => {
  let berth: AuthBerth;
  let api: RegistryAPI;

  before(async () => {
    berth = await startAuthBerth('htpasswd', { rateLimit: { attempts: 3, windowSeconds: 60 } });
    api = new RegistryAPI(berth.url);
  });
  after(() => berth.stop());

  it('challenges with Basic, refuses a wrong password, and checks the rules per repository', async () => {
    const anonymous = await api.request('GET', '/v2/');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="Berth Registry"');
    assert.equal((await api.request('GET', '/v2/', { headers: { Authorization: basic('alice', 'wrong') } })).status, 401);
    assert.equal((await api.request('GET', '/v2/', { headers: { Authorization: basic('alice', 'wonderland') } })).status, 200);
    const alice = { Authorization: basic('alice', 'wonderland') };
    const bob = { Authorization: basic('bob', 'builder') };
    assert.equal(await pushImage(api, 'team/app', alice), 201);
    assert.equal(await pushImage(api, 'team/app', bob), 403);
    assert.equal((await api.request('GET', '/v2/team/app/manifests/v1', { headers: bob })).status, 403);
    assert.equal((await api.request('GET', '/v2/team/app/manifests/v1')).status, 401, 'anonymous callers are asked to log in');
    assert.equal((await api.request('GET', '/v2/public/none/tags/list')).status, 404, 'anonymous pull on public/** passes auth');
  });

  it('checks no more parallel wrong passwords than the limit, and refuses no parallel right ones', async () => {
    const wrong = await Promise.all(Array.from({ length: 15 }, () => api.request('GET', '/v2/', { headers: { Authorization: basic('carol', 'guess') } })));
    const statuses = wrong.map((response) => response.status).sort();
    assert.deepEqual(statuses, [...Array(3).fill(401), ...Array(12).fill(429)]);
    const right = await Promise.all(Array.from({ length: 15 }, () => api.request('GET', '/v2/', { headers: { Authorization: basic('alice', 'wonderland') } })));
    assert.deepEqual(
      right.map((response) => response.status),
      Array(15).fill(200),
    );
  });

  it('answers repeated bad passwords with 429 and Retry-After, per user and address', async () => {
    const wrong = { Authorization: basic('bob', 'guess') };
    for (let i = 0; i < 3; i++) assert.equal((await api.request('GET', '/v2/', { headers: wrong })).status, 401);
    const limited = await api.request('GET', '/v2/', { headers: { Authorization: basic('bob', 'builder') } });
    assert.equal(limited.status, 429, 'even the right password waits out the lockout');
    assert.ok(Number(limited.headers.get('retry-after')) > 0, `Retry-After: ${limited.headers.get('retry-after')}`);
    assert.deepEqual(await RegistryAPI.errorCodes(limited), ['TOOMANYREQUESTS']);
    assert.equal((await api.request('GET', '/v2/', { headers: { Authorization: basic('alice', 'wonderland') } })).status, 200, 'other users are unaffected');
  });
});
