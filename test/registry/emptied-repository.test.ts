/**
 * A repository whose every tag and manifest is deleted (issue 20, item 9): it stays in the
 * catalog with an empty tag list, as in Distribution, whose catalog lists every repository the
 * store holds; the layer links it keeps are what cross-repository mounts come from.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

describe('a repository emptied of tags and manifests', () => {
  let berth: RunningBerth;
  let api: RegistryAPI;
  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
  });
  after(() => berth?.stop());

  it('stays in the catalog, with no tags, and its layers can still be mounted', async () => {
    const config = blobOf('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob();
    for (const blob of [config, layer]) await api.pushBlob('emptied/app', blob);
    const manifest = imageManifest(config, [layer]);
    for (const tag of ['v1', 'latest']) assert.equal((await api.pushManifest('emptied/app', tag, manifest)).status, 201);
    assert.equal((await api.request('DELETE', `/v2/emptied/app/manifests/${manifest.digest}`)).status, 202);

    const catalog = (await (await api.request('GET', '/v2/_catalog')).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['emptied/app']);
    const tags = await api.request('GET', '/v2/emptied/app/tags/list');
    assert.equal(tags.status, 200);
    assert.deepEqual(await tags.json(), { name: 'emptied/app', tags: [] });
    const mount = await api.request('POST', `/v2/other/app/blobs/uploads/?mount=${layer.digest}&from=emptied/app`);
    assert.equal(mount.status, 201);
  });
});
