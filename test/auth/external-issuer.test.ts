/** Berth behind an existing auth service: tokens from an external issuer, checked by its certificate or its JWKS. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { asksFor, startTokenServer, type TokenServer } from '../helpers/token-server.ts';

describe('external issuer by certificate: the Distribution-style test token server', needs('openssl', 'skopeo', 'umoci'), () => {
  let tokens: TokenServer;
  let berth: RunningBerth;
  let layout: string;

  before(async () => {
    tokens = await startTokenServer({ alice: 'wonderland' });
    const token = { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, publicKey: tokens.certPath };
    berth = await startBerth({ auth: parseAuthConfig({ mode: 'token', token }) });
    layout = await buildImage('v1', [30_000]);
  });
  after(async () => {
    await berth?.stop();
    await tokens?.stop();
    if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
  });

  test("skopeo pushes with the issuer's RS256 tokens and pulls anonymously", async () => {
    await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/app:v1`, ['--dest-creds', 'alice:wonderland']);
    await skopeoCopy(`docker://${berth.host}/app:v1`, `oci:${join(layout, '..', 'pulled')}:v1`);
    assert.ok(
      tokens.requests.some((request) => request.user === 'alice' && asksFor(request, 'app', ['pull', 'push'])),
      JSON.stringify(tokens.requests),
    );
    assert.ok(
      tokens.requests.some((request) => request.user === undefined),
      JSON.stringify(tokens.requests),
    );
  });
});

describe('external issuer by JWKS', () => {
  const known = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let jwks: Server;
  let berth: RunningBerth;

  before(async () => {
    const keys = [{ ...(await exportJWK(known.publicKey)), kid: 'known', alg: 'ES256', use: 'sig' }];
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    berth = await startBerth({
      auth: parseAuthConfig({ mode: 'token', token: { realm: 'https://auth.example/token', service: 'registry', issuer: 'auth.example', jwks: url } }),
    });
  });
  after(async () => {
    await berth?.stop();
    await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  });

  const sign = (key: Parameters<SignJWT['sign']>[0], kid: string) =>
    new SignJWT({ access: [{ type: 'repository', name: 'app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer('auth.example')
      .setAudience('registry')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('1m')
      .setJti(randomUUID())
      .sign(key);

  test('accepts a token signed by a key of the set and refuses one whose key is unknown', async () => {
    const api = new RegistryAPI(berth.url);
    const good = await api.request('POST', '/v2/app/blobs/uploads/', { headers: { Authorization: `Bearer ${await sign(known.privateKey, 'known')}` } });
    assert.equal(good.status, 202);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    for (const kid of ['known', 'unknown']) {
      const bad = await api.request('POST', '/v2/app/blobs/uploads/', { headers: { Authorization: `Bearer ${await sign(stranger, kid)}` } });
      assert.equal(bad.status, 401, kid);
      assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });
});
