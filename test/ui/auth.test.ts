import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RepositoryPage } from '../../registry/ui/repository-list.ts';
import type { RepositoryView } from '../../registry/ui/repository-view.ts';
import { basic, startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { startBerthProcess } from '../helpers/berth.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { pushImage, pushImages, UiAPI } from './ui-api.ts';

for (const mode of ['htpasswd', 'token'] as const) {
  describe(`the web interface with auth.mode ${mode} acts with the logged-in user's rights only`, () => {
    let berth: AuthBerth;
    const as = (user?: keyof typeof USERS, password?: string) => new UiAPI(berth.url, user ? basic(user, password ?? USERS[user]) : undefined);

    before(async () => {
      // alice may push team/** here; readonly/** is pulled by both users and pushed by nobody: seeded with an extra rule.
      berth = await startAuthBerth(mode, {
        access: [
          { repository: 'team/**', users: ['alice'], actions: ['pull', 'push', 'delete'] },
          { repository: 'readonly/**', users: ['alice'], actions: ['pull', 'push'] },
          { repository: 'readonly/**', users: ['bob'], actions: ['pull'] },
          { repository: 'bob/**', users: ['bob'], actions: ['pull', 'push'] },
        ],
      });
      await pushImages(berth.url, mode, ['team/app', 'team/tool', 'readonly/base'], ['v1', 'v2']);
    });
    after(() => berth?.stop());

    it('tells the pages who is logged in; a wrong password is a 401 without a Basic challenge (no browser dialog)', async () => {
      assert.deepEqual((await as().get('session')) as object, { auth: mode, user: null, mayList: false, isAdmin: false });
      assert.equal(((await as('alice').get('session')) as { user: string }).user, 'alice');
      const wrong = await as('alice', 'not-her-password').call('GET', 'session');
      assert.equal(wrong.status, 401);
      const response = await fetch(`${berth.url}/api/v1/session`, { headers: { Authorization: basic('alice', 'nope') } });
      assert.equal(response.headers.get('www-authenticate'), null);
    });

    it('lists only the repositories the user may pull, and asks anonymous callers to log in', async () => {
      assert.equal((await as().call('GET', 'repositories')).status, 401);
      const alice = await as('alice').get<RepositoryPage>('repositories');
      assert.deepEqual(
        alice.repositories.map((repository) => repository.name),
        ['readonly/base', 'team/app', 'team/tool'],
      );
      const bob = await as('bob').get<RepositoryPage>('repositories');
      assert.deepEqual(
        bob.repositories.map((repository) => repository.name),
        ['readonly/base'],
      );
      const hidden = await as('bob').call('GET', 'repository', { name: 'team/app' });
      assert.equal(hidden.status, 403);
      assert.equal(hidden.body.errors[0]?.code, 'DENIED');
    });

    it('lets a user with delete delete a tag, and refuses one without it', async () => {
      const refused = await as('bob').call('DELETE', 'tag', { name: 'readonly/base', tag: 'v1' });
      assert.equal(refused.status, 403);
      assert.equal((await as('alice').call('DELETE', 'tag', { name: 'readonly/base', tag: 'v1' })).status, 403, 'alice may not delete in readonly/');
      assert.deepEqual(
        (await as('alice').get<RepositoryView>('repository', { name: 'readonly/base' })).tags.map((tag) => tag.tag),
        ['v1', 'v2'],
      );
      assert.equal((await as('alice').call('DELETE', 'tag', { name: 'team/app', tag: 'v1' })).status, 200);
      const app = await as('alice').get<RepositoryView & { mayDelete: boolean }>('repository', { name: 'team/app' });
      assert.deepEqual(
        app.tags.map((tag) => tag.tag),
        ['v2'],
      );
      assert.equal(app.mayDelete, true);
      assert.equal((await as('bob').get<RepositoryView & { mayDelete: boolean }>('repository', { name: 'readonly/base' })).mayDelete, false);
    });

    it('keeps the storage page to callers who may pull every repository, as /api/v1/analysis', async () => {
      assert.equal((await as('alice').call('GET', 'storage')).status, 403);
      assert.equal((await as().call('GET', 'storage')).status, 401);
    });
  });
}

describe('the web interface switched off (ui.enabled: false)', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-ui-off-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('serves neither the pages nor their API, and the registry as usual', async () => {
    const config = join(scratch, 'berth.yml');
    await writeFile(config, 'ui:\n  enabled: false\n');
    const berth = await startBerthProcess(['--storage', join(scratch, 'data'), '--config', config, '--workers', '1']);
    try {
      assert.equal((await fetch(`${berth.url}/`)).status, 404);
      assert.equal((await fetch(`${berth.url}/api/v1/repositories`)).status, 404);
      assert.equal((await fetch(`${berth.url}/v2/`)).status, 200);
    } finally {
      await berth.stop();
    }
  });
});

describe('deletes from the web interface under retention.immutableTags', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-ui-immutable-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('refuses to delete an immutable tag, or a manifest one names, as the API does', async () => {
    const config = join(scratch, 'berth.yml');
    await writeFile(config, 'retention:\n  immutableTags:\n    - repositories: ["**"]\n      tags: ["v1"]\n');
    const berth = await startBerthProcess(['--storage', join(scratch, 'data'), '--config', config, '--workers', '1']);
    try {
      const api = new RegistryAPI(berth.url);
      const pushed = await pushImage(api, 'shop/web', ['v1', 'v2']);
      const ui = new UiAPI(berth.url);
      const tag = await ui.call('DELETE', 'tag', { name: 'shop/web', tag: 'v1' });
      assert.equal(tag.status, 403);
      assert.equal(tag.body.errors[0]?.code, 'DENIED');
      const manifest = await ui.call('DELETE', 'manifest', { name: 'shop/web', digest: pushed.digest.toString(), tags: 'v1,v2' });
      assert.equal(manifest.status, 403);
      assert.deepEqual(
        (await ui.get<RepositoryView>('repository', { name: 'shop/web' })).tags.map((listed) => listed.tag),
        ['v1', 'v2'],
      );
      assert.equal((await ui.call('DELETE', 'tag', { name: 'shop/web', tag: 'v2' })).status, 200, 'a mutable tag goes');
    } finally {
      await berth.stop();
    }
  });
});
