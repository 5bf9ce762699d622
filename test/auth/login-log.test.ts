/** Failed logins are logged by the server (issue 20, item 5): who, from where, never the password. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { ACCESS, basic, USERS, writeUsers } from '../helpers/auth-berth.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';

for (const mode of ['htpasswd', 'token'] as const) {
  describe(`failed logins in ${mode} mode`, () => {
    let secrets: string;
    let berth: RunningBerth;
    const lines: string[] = [];
    /** Where this mode takes a password: the API itself, or the token endpoint. */
    const login = (user: string, password: string) =>
      fetch(`${berth.url}${mode === 'htpasswd' ? '/v2/' : '/token?service=berth'}`, { headers: { Authorization: basic(user, password) } });

    before(async () => {
      secrets = await mkdtemp(join(tmpdir(), 'berth-login-log-'));
      const htpasswd = await writeUsers(secrets);
      const auth = parseAuthConfig({ mode, htpasswd, access: ACCESS, token: { key: join(secrets, 'token-key.pem') }, rateLimit: { attempts: 2 } });
      berth = await startBerth({ auth, log: (line) => lines.push(line) });
    });
    after(async () => {
      await berth?.stop();
      await rm(secrets, { recursive: true, force: true });
    });

    it('are logged one line each, with the user name and the client address but never the password', async () => {
      lines.length = 0;
      assert.equal((await login('alice', USERS.alice)).status, 200);
      assert.deepEqual(lines, [], 'a right password is not logged');
      assert.equal((await login('alice', 'not-her-password')).status, 401);
      assert.equal((await login('mallory\nforged line', 'guess-one')).status, 401);
      assert.deepEqual(lines, [
        'failed login: user "alice" from 127.0.0.1: wrong password or no such user',
        'failed login: user "mallory\\nforged line" from 127.0.0.1: wrong password or no such user',
      ]);
    });

    it('logs the attempts the rate limit refuses too', async () => {
      lines.length = 0;
      for (const password of ['guess-1', 'guess-2']) assert.equal((await login('bob', password)).status, 401);
      assert.equal((await login('bob', 'guess-3')).status, 429);
      assert.equal(lines.length, 3, lines.join('\n'));
      assert.match(lines[2]!, /^refused login: user "bob" from 127\.0\.0\.1: too many failed logins for bob; try again in \d+ s$/);
      assert.ok(
        lines.every((line) => !/guess/.test(line)),
        `no password in ${lines.join('\n')}`,
      );
    });
  });
}
