/** `berth user` on the live htpasswd file: what it means for refresh tokens, and the passwords it takes. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { basic, startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

describe('refresh tokens end with their user or password', () => {
  let berth: AuthBerth;
  let htpasswd: string;

  before(async () => {
    berth = await startAuthBerth('token');
    htpasswd = join(berth.secrets, 'users.htpasswd');
  });
  after(() => berth.stop());

  /** A refresh token from GET /token?offline_token=true, as docker login gets one. */
  async function refreshToken(user: string, password: string): Promise<string> {
    const response = await fetch(`${berth.url}/token?service=berth&offline_token=true&scope=repository:team/app:pull`, {
      headers: { Authorization: basic(user, password) },
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  }

  function refresh(token: string, scope: string): Promise<Response> {
    return fetch(`${berth.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, service: 'berth', client_id: 'test', scope }),
    });
  }

  test('after `berth user remove`, a refresh token gets no more access tokens', async () => {
    const token = await refreshToken('alice', USERS.alice);
    const allowed = await refresh(token, 'repository:team/app:pull');
    assert.equal(allowed.status, 200, 'control: the refresh works while alice exists');
    await allowed.arrayBuffer();

    const removed = await runBerth(['user', 'remove', 'alice', '--htpasswd', htpasswd]);
    assert.equal(removed.code, 0, removed.stderr);
    const login = await fetch(`${berth.url}/token?service=berth`, { headers: { Authorization: basic('alice', USERS.alice) } });
    assert.equal(login.status, 401);

    const refused = await refresh(token, 'repository:team/app:pull,push,delete');
    assert.equal(refused.status, 401);
    assert.deepEqual(await RegistryAPI.errorCodes(refused), ['UNAUTHORIZED']);
  });

  test('a password change revokes the refresh tokens issued before it, not those after', async () => {
    const old = await refreshToken('bob', USERS.bob);
    const changed = await runBerth(['user', 'add', 'bob', '--htpasswd', htpasswd], 'new-password\n');
    assert.equal(changed.code, 0, changed.stderr);
    const refused = await refresh(old, 'repository:bob/tool:pull');
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();

    const fresh = await refresh(await refreshToken('bob', 'new-password'), 'repository:bob/tool:pull,push');
    assert.equal(fresh.status, 200);
    assert.equal(((await fresh.json()) as { scope: string }).scope, 'repository:bob/tool:pull,push');
  });
});

describe('berth user add', () => {
  test('refuses a password longer than bcrypt hashes (72 bytes), rather than ignoring its tail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-users-'));
    try {
      const file = join(dir, 'users.htpasswd');
      const refused = await runBerth(['user', 'add', 'dave', '--htpasswd', file], `${'ü'.repeat(37)}\n`);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /longer than 72 bytes/);
      assert.equal((await runBerth(['user', 'list', '--htpasswd', file])).stdout, '', 'nobody added');
      assert.equal((await runBerth(['user', 'add', 'dave', '--htpasswd', file], `${'x'.repeat(72)}\n`)).code, 0, '72 bytes are fine');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
