/** What the security suite leaves out: the admin report, automatic mounts, the persisted signing key. */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseChallenge } from '../../client/challenge.ts';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { startBerth } from '../helpers/berth.ts';
import { ACCESS, basic, fetchToken, startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

/** bob may do anything anywhere (a catch-all rule first); alice keeps the usual rules. */
const ADMIN_BOB = { access: [{ repository: '**', users: ['bob'], actions: ['pull', 'push', 'delete'] }, ...ACCESS] };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function statusOf(response: Response): Promise<number> {
  await response.arrayBuffer();
  return response.status;
}

describe('token mode: admin report, automatic mount, signing key', () => {
  let berth: AuthBerth;
  let api: RegistryAPI;

  before(async () => {
    berth = await startAuthBerth('token', ADMIN_BOB);
    api = new RegistryAPI(berth.url);
  });
  after(() => berth.stop());

  test('GET /api/v1/analysis needs the catalog grant and pull on every repository', async () => {
    const anonymous = await api.request('GET', '/api/v1/analysis');
    assert.equal(anonymous.status, 401);
    assert.equal(parseChallenge(anonymous.headers.get('www-authenticate')!).params.scope, 'registry:catalog:*');
    const alice = await fetchToken(berth.url, ['registry:catalog:*'], 'alice');
    assert.equal(await statusOf(await api.request('GET', '/api/v1/analysis', { headers: bearer(alice) })), 403);
    const bob = await fetchToken(berth.url, ['registry:catalog:*'], 'bob');
    assert.equal(await statusOf(await api.request('GET', '/api/v1/analysis', { headers: bearer(bob) })), 200);
  });

  // distribution-spec "Mounting a blob from another repository": without `from` the registry may mount from any repository.
  test('a mount without `from` happens only from a repository the caller may pull', async () => {
    const blob = randomBlob();
    const bob = await fetchToken(berth.url, ['repository:bob/src:pull,push', 'repository:team/x:pull,push'], 'bob');
    assert.equal(
      await statusOf(await api.request('POST', `/v2/bob/src/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes, headers: bearer(bob) })),
      201,
    );
    const alice = await fetchToken(berth.url, ['repository:team/x:pull,push', 'repository:team/y:pull,push'], 'alice');
    assert.equal(await statusOf(await api.request('POST', `/v2/team/x/blobs/uploads/?mount=${blob.digest}`, { headers: bearer(alice) })), 202);
    assert.equal(await statusOf(await api.request('HEAD', `/v2/team/x/blobs/${blob.digest}`, { headers: bearer(alice) })), 404);
    assert.equal(await statusOf(await api.request('POST', `/v2/team/x/blobs/uploads/?mount=${blob.digest}`, { headers: bearer(bob) })), 201);
    // Now team/x, which alice may pull, holds it: her automatic mount into team/y finds it there.
    assert.equal(await statusOf(await api.request('POST', `/v2/team/y/blobs/uploads/?mount=${blob.digest}`, { headers: bearer(alice) })), 201);
    assert.equal(await statusOf(await api.request('HEAD', `/v2/team/y/blobs/${blob.digest}`, { headers: bearer(alice) })), 200);
  });

  test('the signing key is generated on first start, owner-only, and reused after a restart', async () => {
    const key = join(berth.secrets, 'token-key.pem');
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    const token = await fetchToken(berth.url, ['repository:team/app:pull'], 'alice');
    const restarted = await startBerth({ auth: parseAuthConfig({ mode: 'token', htpasswd: join(berth.secrets, 'users.htpasswd'), token: { key } }) });
    try {
      assert.equal(await statusOf(await new RegistryAPI(restarted.url).request('GET', '/v2/team/app/tags/list', { headers: bearer(token) })), 404);
    } finally {
      await restarted.stop();
    }
  });
});

describe('htpasswd mode: admin report', () => {
  let berth: AuthBerth;

  before(async () => {
    berth = await startAuthBerth('htpasswd', ADMIN_BOB);
  });
  after(() => berth.stop());

  test('GET /api/v1/analysis asks anonymous callers for Basic credentials and needs pull on every repository', async () => {
    const api = new RegistryAPI(berth.url);
    const anonymous = await api.request('GET', '/api/v1/analysis');
    assert.equal(anonymous.status, 401);
    assert.equal(parseChallenge(anonymous.headers.get('www-authenticate')!).scheme, 'basic');
    assert.equal(await statusOf(await api.request('GET', '/api/v1/analysis', { headers: { Authorization: basic('alice', USERS.alice) } })), 403);
    assert.equal(await statusOf(await api.request('GET', '/api/v1/analysis', { headers: { Authorization: basic('bob', USERS.bob) } })), 200);
  });
});
