/** `berth delete` (issue 20, item 3): by tag that tag only, by digest the image with the tags it takes along. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LayoutStore } from '../../client/layout-store.ts';
import { push } from '../../client/push.ts';
import { Reference } from '../../oci/reference.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { clientFor } from '../helpers/client-fixtures.ts';
import { storeImage } from '../helpers/stored-image.ts';
import type { TestBlob } from '../helpers/content.ts';

describe('berth delete', () => {
  let berth: RunningBerth;
  let scratch: string;
  let image: TestBlob;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runBerth(args, '', env);

  before(async () => {
    berth = await startBerth();
    scratch = await mkdtemp(join(tmpdir(), 'berth-delete-'));
    env = { DOCKER_CONFIG: join(scratch, 'docker') };
    const store = await LayoutStore.open(join(scratch, 'store'));
    image = await storeImage(store, 'app');
    for (const tag of ['a', 'b', 'c']) await push(clientFor(berth.host), Reference.parse(`${berth.host}/r:${tag}`), { store, from: 'app' });
  });
  after(async () => {
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('by tag removes that tag only: the image and its sibling tags stay', async () => {
    const deleted = await cli('delete', `${berth.host}/r:a`);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await cli('tags', `${berth.host}/r`)).stdout, 'b\nc\n');
    assert.equal((await cli('inspect', `${berth.host}/r@${image.digest}`)).code, 0, 'the manifest is still there');
    assert.equal(deleted.stdout, `deleted the tag ${berth.host}/r:a; the image ${image.digest} stays, with any other tags\n`);
    const again = await cli('delete', `${berth.host}/r:a`);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `berth: ${berth.host}/r:a does not exist\n`);
  });

  test('by digest removes the image and lists the tags that went with it', async () => {
    const deleted = await cli('delete', `${berth.host}/r@${image.digest}`, '--json');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: `${berth.host}/r@${image.digest}`, tags: ['b', 'c'] });
    assert.equal((await cli('inspect', `${berth.host}/r:b`)).code, 1);
  });

  test('tags of the emptied repository: nothing on stdout and a clear line on stderr; [] in JSON', async () => {
    const tags = await cli('tags', `${berth.host}/r`);
    assert.equal(tags.code, 0, tags.stderr);
    assert.equal(tags.stdout, '');
    assert.equal(tags.stderr, `${berth.host}/r has no tags\n`);
    const json = await cli('tags', `${berth.host}/r`, '--json');
    assert.deepEqual(JSON.parse(json.stdout), { repository: `${berth.host}/r`, tags: [] });
  });
});
