import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { expectedFigures, pushSharedFixture, totalSize, type SharedFixture } from '../helpers/shared-fixture.ts';
import type { ImageView } from '../../registry/ui/image-view.ts';
import type { RepositoryPage } from '../../registry/ui/repository-list.ts';
import type { RepositoryView } from '../../registry/ui/repository-view.ts';
import type { StorageView } from '../../registry/ui/storage-view.ts';
import { pushReferrer, UiAPI } from './ui-api.ts';

describe('the web interface JSON API (README "Web interface") on a registry with pushed images', () => {
  let berth: RunningBerth;
  let fixture: SharedFixture;
  let api: RegistryAPI;
  let ui: UiAPI;
  let sbom: Awaited<ReturnType<typeof pushReferrer>>;

  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
    fixture = await pushSharedFixture(api);
    const app1v1 = fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v1'))!;
    sbom = await pushReferrer(api, 'app1', app1v1.manifest);
    ui = new UiAPI(berth.url);
  });
  after(() => berth?.stop());

  it('serves the page at / and its assets under /ui/, leaving /v2/ as it was', async () => {
    const page = await fetch(`${berth.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/ui\/app.js">/);
    const script = await fetch(`${berth.url}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    for (const absent of ['/ui/missing.js', '/ui/', '/ui/pages', '/index.html']) assert.equal((await fetch(`${berth.url}${absent}`)).status, 404, absent);
    const base = await fetch(`${berth.url}/v2/`);
    assert.equal(base.status, 200);
    assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal((await fetch(`${berth.url}/livez`)).status, 200);
  });

  it('lists repositories a page at a time with tag counts, then the dedup-aware figures once computed', async () => {
    const first = await ui.get<RepositoryPage>('repositories', { n: '2' });
    assert.deepEqual(
      first.repositories.map((repository) => repository.name),
      ['app1', 'app2'],
    );
    assert.equal(first.matched, 5, 'app1, app2, junk, multi, solo');
    assert.equal(first.next, 'app2');
    assert.equal(first.repositories[0]!.tags, 3, 'app1 has v1, v2 and latest');
    const second = await ui.get<RepositoryPage>('repositories', { n: '2', last: first.next });
    assert.deepEqual(
      second.repositories.map((repository) => repository.name),
      ['junk', 'multi'],
    );
    const page = await ui.figuresAfter(new Date(0));
    const expected = expectedFigures(fixture);
    for (const want of expected.repositories) {
      const got = page.repositories.find((repository) => repository.name === want.name)!;
      assert.equal(got.uniqueBytes, want.uniqueBytes, `${want.name} unique bytes`);
      assert.equal(got.sharedBytes, want.sharedBytes, `${want.name} shared bytes`);
      assert.ok(got.lastPush, `${want.name} has a last push`);
    }
  });

  it('searches by a part of the name, case-insensitively, on the server', async () => {
    const page = await ui.get<RepositoryPage>('repositories', { q: 'APP' });
    assert.deepEqual(
      page.repositories.map((repository) => repository.name),
      ['app1', 'app2'],
    );
    assert.equal((await ui.get<RepositoryPage>('repositories', { q: 'nothing-like-it' })).matched, 0);
  });

  it('shows a repository: tags with sizes and platforms, referrers under their subject, untagged manifests apart', async () => {
    const app1 = await ui.get<RepositoryView>('repository', { name: 'app1' });
    assert.deepEqual(
      app1.tags.map((tag) => tag.tag),
      ['latest', 'v1', 'v2'],
    );
    const v1 = fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v1'))!;
    const listed = app1.manifests.find((manifest) => manifest.digest === v1.manifest.digest.toString())!;
    assert.equal(listed.bytes, totalSize(v1.reaches));
    assert.deepEqual(listed.platforms, ['linux/amd64']);
    assert.ok(listed.pushed, 'the push time is shown');
    assert.deepEqual(
      listed.referrers.map((referrer) => [referrer.digest, referrer.artifactType]),
      [[sbom.digest.toString(), 'application/vnd.example.sbom.v1+json']],
    );
    assert.deepEqual(app1.untagged, [], 'the referrer is listed under its subject, not as untagged');

    const app2 = await ui.get<RepositoryView>('repository', { name: 'app2' });
    assert.deepEqual(
      app2.untagged.map((manifest) => manifest.digest),
      [fixture.untagged.manifest.digest.toString()],
    );
    assert.equal(app2.untagged[0]!.bytes, totalSize(fixture.untagged.reaches));

    const multi = await ui.get<RepositoryView>('repository', { name: 'multi' });
    assert.deepEqual(multi.manifests[0]!.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(multi.untagged, [], "an index's platforms are not untagged manifests");
  });

  it('pages through tags', async () => {
    const first = await ui.get<RepositoryView>('repository', { name: 'app1', n: '2' });
    assert.deepEqual(
      first.tags.map((tag) => tag.tag),
      ['latest', 'v1'],
    );
    assert.equal(first.next, 'v1');
    const rest = await ui.get<RepositoryView>('repository', { name: 'app1', n: '2', last: 'v1' });
    assert.deepEqual(
      rest.tags.map((tag) => tag.tag),
      ['v2'],
    );
    assert.equal(rest.next, undefined);
  });

  it("shows an image: layers with sizes and which other images share each, the config, an index's platforms", async () => {
    await ui.figuresAfter(new Date(0));
    const v1 = fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v1'))!;
    const image = await ui.get<ImageView>('image', { name: 'app1', digest: v1.manifest.digest.toString() });
    assert.deepEqual(image.tags, ['v1']);
    assert.equal(image.layers?.length, 3);
    const base = image.layers![0]!;
    assert.equal(base.size, 10_000);
    const sharers = base.sharedWith!.map((other) => `${other.repository}:${other.tags.join(',')}`).sort();
    assert.deepEqual(sharers, ['app1:latest,v2', 'app2:v1', 'multi:1.0'], 'the base layer is in app1 v2, app2 v1 and the multi index');
    assert.equal(base.sharedRepositories, 3);
    assert.equal(image.config?.content?.config?.Labels?.label, 'app1 v1');
    assert.deepEqual(
      image.referrers.map((referrer) => referrer.digest),
      [sbom.digest.toString()],
    );

    const multi = fixture.images.find((image) => image.repository === 'multi')!;
    const index = await ui.get<ImageView>('image', { name: 'multi', digest: multi.manifest.digest.toString() });
    assert.equal(index.kind, 'index');
    assert.deepEqual(
      index.manifests?.map((child) => child.platform),
      ['linux/amd64', 'linux/arm64'],
    );
  });

  it('answers the storage analysis without the per-image list', async () => {
    const storage = await ui.get<StorageView>('storage');
    const expected = expectedFigures(fixture);
    assert.ok(storage.report!.physicalBytes >= expected.physicalBytes, 'every stored blob is counted');
    assert.equal((storage.report as Record<string, unknown>).images, undefined);
    assert.ok(storage.report!.topSharedBlobs.length > 0, 'the base layer is shared');
    assert.equal(storage.largestRepositories[0]?.name, 'app1');
  });

  it('refuses bad input with the spec’s error format and changes nothing', async () => {
    const badName = await ui.call('GET', 'repository', { name: 'UPPER/case' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.errors[0]?.code, 'NAME_INVALID');
    const badDigest = await ui.call('GET', 'image', { name: 'app1', digest: 'sha256:nope' });
    assert.equal(badDigest.status, 400);
    assert.equal(badDigest.body.errors[0]?.code, 'DIGEST_INVALID');
    assert.equal((await ui.call('GET', 'repositories', { n: '0' })).status, 400);
    assert.equal((await ui.call('GET', 'repositories', { n: '100000' })).status, 400);
    assert.equal((await ui.call('GET', 'repository', { name: 'absent' })).body.errors[0]?.code, 'NAME_UNKNOWN');
    const badTag = await ui.call('DELETE', 'tag', { name: 'app1', tag: '../v1' });
    assert.equal(badTag.status, 400);
    assert.equal((await ui.get<RepositoryView>('repository', { name: 'app1' })).tagCount, 3);
  });

  it('deletes a tag and only that tag: its sibling tags and the manifest stay', async () => {
    const deleted = await ui.call('DELETE', 'tag', { name: 'app1', tag: 'latest' });
    assert.equal(deleted.status, 200);
    const app1 = await ui.get<RepositoryView>('repository', { name: 'app1' });
    assert.deepEqual(
      app1.tags.map((tag) => tag.tag),
      ['v1', 'v2'],
    );
    const v2 = fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v2'))!;
    assert.equal((await api.request('GET', `/v2/app1/manifests/v2`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
    assert.equal((await api.request('HEAD', `/v2/app1/manifests/${v2.manifest.digest}`)).status, 200);
    assert.equal((await ui.call('DELETE', 'tag', { name: 'app1', tag: 'latest' })).body.errors[0]?.code, 'MANIFEST_UNKNOWN');
  });

  it('deletes a manifest only when the caller confirms exactly the tags it removes', async () => {
    await api.request('PUT', '/v2/app1/manifests/again', {
      body: fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v2'))!.manifest.bytes,
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    const v2 = fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v2'))!.manifest.digest.toString();
    const unconfirmed = await ui.call('DELETE', 'manifest', { name: 'app1', digest: v2, tags: 'v2' });
    assert.equal(unconfirmed.status, 409);
    assert.deepEqual(unconfirmed.body.errors[0]?.detail?.tags, ['again', 'v2']);
    assert.equal((await api.request('HEAD', `/v2/app1/manifests/${v2}`)).status, 200, 'nothing was deleted');
    const confirmed = await ui.call('DELETE', 'manifest', { name: 'app1', digest: v2, tags: 'v2,again' });
    assert.equal(confirmed.status, 200);
    assert.equal((await api.request('HEAD', `/v2/app1/manifests/${v2}`)).status, 404);
    assert.deepEqual(
      (await ui.get<RepositoryView>('repository', { name: 'app1' })).tags.map((tag) => tag.tag),
      ['v1'],
    );
  });

  it('refuses a state-changing request without the pages’ header or from another origin (CSRF)', async () => {
    const bare = await fetch(`${berth.url}/api/v1/tag?name=app1&tag=v1`, { method: 'DELETE' });
    assert.equal(bare.status, 403);
    const foreign = await ui.call('DELETE', 'tag', { name: 'app1', tag: 'v1' }, { Origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    const crossSite = await ui.call('DELETE', 'tag', { name: 'app1', tag: 'v1' }, { 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(
      (await ui.get<RepositoryView>('repository', { name: 'app1' })).tags.map((tag) => tag.tag),
      ['v1'],
    );
  });
});
