/** What `berth` says when a registry refuses (issue 20, item 5): the repository, the right, and what to do. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeCredentials } from '../../client/credentials.ts';
import { LayoutStore } from '../../client/layout-store.ts';
import { push } from '../../client/push.ts';
import { Reference } from '../../oci/reference.ts';
import { startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { clientFor } from '../helpers/client-fixtures.ts';
import { storeImage } from '../helpers/stored-image.ts';

describe('refusals by a registry with token auth', () => {
  let berth: AuthBerth;
  let scratch: string;
  let store: LayoutStore;
  /** A docker config with no credentials, and one where bob is logged in. */
  let anonymous: NodeJS.ProcessEnv;
  let asBob: NodeJS.ProcessEnv;

  before(async () => {
    berth = await startAuthBerth('token');
    scratch = await mkdtemp(join(tmpdir(), 'berth-access-'));
    anonymous = { DOCKER_CONFIG: join(scratch, 'nobody') };
    asBob = { DOCKER_CONFIG: join(scratch, 'bob') };
    await writeCredentials(berth.host, { username: 'bob', password: USERS.bob }, join(scratch, 'bob', 'config.json'));
    store = await LayoutStore.open(join(scratch, 'store'));
    await storeImage(store, 'app');
    await push(clientFor(berth.host, { username: 'alice', password: USERS.alice }), Reference.parse(`${berth.host}/team/app:v1`), { store, from: 'app' });
  });
  after(async () => {
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('not logged in: the refusal names the repository and the right, and the hint says to run berth login', async () => {
    const pulled = await runBerth(['pull', `${berth.host}/team/app:v1`, '--store', store.dir], '', anonymous);
    assert.equal(pulled.code, 1);
    assert.match(pulled.stderr, new RegExp(`^berth: ${berth.host}: pull access to team/app denied: `));
    assert.match(pulled.stderr, new RegExp(`\\nhint: not logged in to ${berth.host}: run \`berth login ${berth.host}\`\\n$`));
  });

  test('a push without rights names the repository and the right, not only a HEAD and a status', async () => {
    const pushed = await runBerth(['push', `${berth.host}/team/app:v2`, '--from', 'app', '--store', store.dir], '', asBob);
    assert.equal(pushed.code, 1);
    assert.match(pushed.stderr, new RegExp(`^berth: ${berth.host}: pull access to team/app denied: 403 Forbidden \\(HEAD `));
    assert.match(pushed.stderr, new RegExp(`\\nhint: logged in to ${berth.host} as bob, who lacks pull rights on team/app \\(a push needs pull and push\\)`));
  });

  test('with --json the failure is one JSON document on stdout, and the exit status 1', async () => {
    const pulled = await runBerth(['pull', `${berth.host}/team/app:v1`, '--store', store.dir, '--json'], '', anonymous);
    assert.equal(pulled.code, 1);
    assert.equal(pulled.stderr, '');
    const failure = JSON.parse(pulled.stdout) as { error: string; hint: string; status: number; codes: string[] };
    assert.match(failure.error, /pull access to team\/app denied/);
    assert.match(failure.hint, /berth login/);
    assert.equal(typeof failure.status, 'number');
  });
});
