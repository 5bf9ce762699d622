/** The `auth` section and the access rules, without a server. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../registry/config/serve-config.ts';
import { AccessRules, globToRegExp } from '../../registry/auth/access-rules.ts';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { LoginRateLimit } from '../../registry/auth/rate-limit.ts';

describe('access rules', () => {
  const config = parseAuthConfig({
    mode: 'htpasswd',
    htpasswd: 'users.htpasswd',
    groups: { admins: ['root'] },
    access: [
      { repository: '**', groups: ['admins'], actions: ['pull', 'push', 'delete'] },
      { repository: 'team/secret', users: ['*'], actions: [] },
      { repository: 'team/**', users: ['alice'], actions: ['pull', 'push'] },
      { repository: 'team/*', users: ['*'], actions: ['pull'] },
      { repository: 'public/**', users: ['*', 'anonymous'], actions: ['pull'] },
    ],
  });
  const rules = new AccessRules(config.access, config.groups);
  const allowed = (user: string | undefined, name: string) => [...rules.allowed(user, name)].sort();

  test('`*` stays within a path segment, `**` crosses them, the rest is literal', () => {
    assert.ok(globToRegExp('team/*').test('team/app'), 'team/* matches team/app');
    assert.ok(!globToRegExp('team/*').test('team/app/web'), 'team/* stays within one component');
    assert.ok(globToRegExp('team/**').test('team/app/web'), 'team/** matches team/app/web');
    assert.ok(!globToRegExp('team.app').test('teamxapp'), 'a dot is literal');
  });

  test('the first rule matching repository and caller decides; groups count; nobody else gets anything', () => {
    assert.deepEqual(allowed('root', 'anything/at/all'), ['delete', 'pull', 'push']);
    assert.deepEqual(allowed('alice', 'team/secret'), [], 'an earlier rule naming everyone takes precedence');
    assert.deepEqual(allowed('alice', 'team/app/web'), ['pull', 'push']);
    assert.deepEqual(allowed('bob', 'team/app'), ['pull']);
    assert.deepEqual(allowed('bob', 'team/app/web'), []);
    assert.deepEqual(allowed(undefined, 'public/x'), ['pull']);
    assert.deepEqual(allowed(undefined, 'team/app'), [], '"*" is any logged-in user, not anonymous');
  });

  test('only a caller whose rules grant pull up to a catch-all may pull every repository', () => {
    assert.equal(rules.mayPullAll('root'), true);
    assert.equal(rules.mayPullAll('alice'), false);
    assert.equal(rules.mayPullAll(undefined), false);
  });

  test('a token request gets the intersection of asked and allowed; the catalog needs a login', () => {
    const asked = [
      { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'other/x', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ];
    assert.deepEqual(rules.grant('alice', asked), [
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.deepEqual(rules.grant(undefined, asked), []);
  });
});

describe('the auth section', () => {
  test('is mode none when absent, with the documented defaults', () => {
    const config = parseAuthConfig(undefined);
    assert.equal(config.mode, 'none');
    assert.deepEqual(config.token, {
      realm: undefined,
      service: 'berth',
      issuer: 'berth',
      key: 'data/berth-token-key.pem',
      expiresInSeconds: 300,
      jwks: undefined,
      publicKey: undefined,
    });
    assert.deepEqual(config.rateLimit, { attempts: 5, windowSeconds: 60 });
  });

  test('explains what is wrong', () => {
    const cases: [unknown, RegExp][] = [
      [{ mode: 'ldap' }, /auth.mode must be none, htpasswd or token/],
      [{ mode: 'htpasswd' }, /auth.htpasswd is required in htpasswd mode/],
      [{ mode: 'token' }, /auth.htpasswd is required in token mode/],
      [{ mode: 'token', token: { jwks: 'https://issuer/jwks' } }, /auth.token.realm is required with an external issuer/],
      [
        { mode: 'htpasswd', htpasswd: 'f', access: [{ repository: 'x', actions: ['write'] }] },
        /auth.access\[0\].actions\[0\] must be pull, push or delete, not "write"/,
      ],
      [{ mode: 'htpasswd', htpasswd: 'f', access: [{ users: ['a'] }] }, /auth.access\[0\].repository is required/],
      [{ mode: 'htpasswd', htpasswd: 'f', access: [{ repository: 'x', users: 'alice' }] }, /auth.access\[0\].users must be a list of strings/],
    ];
    for (const [section, message] of cases)
      assert.throws(
        () => parseAuthConfig(section),
        (error: Error) => error instanceof ConfigError && message.test(error.message),
      );
  });
});

describe('login rate limit', () => {
  test('locks a user out from one address after the allowed failures, until the window passes', () => {
    const limit = new LoginRateLimit({ attempts: 3, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) limit.recordFailure('alice', '10.0.0.1', 1_000 + i);
    assert.equal(limit.retryAfter('alice', '10.0.0.1', 2_000), 59);
    assert.equal(limit.retryAfter('alice', '10.0.0.2', 2_000), 0, 'another address');
    assert.equal(limit.retryAfter('bob', '10.0.0.1', 2_000), 0, 'another user');
    assert.equal(limit.retryAfter('alice', '10.0.0.1', 61_001), 0);
  });
});
