/**
 * Immutable tags (issue 22 "Immutable tags"): a push that would move one to another digest, or a
 * delete of one (by tag, or of the manifest it names), is refused with the spec's error body, a
 * `DENIED` naming the rule (distribution-spec "Error Codes", code-11); re-pushing the same digest is
 * fine; retention never deletes one. Driven through `berth serve --config`, the API, `berth push`, skopeo and podman.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LayoutStore } from '../../client/layout-store.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { storeImage } from '../helpers/stored-image.ts';

const CONFIG = `
retention:
  policies:
    - repositories: ["**"]
      keepTags: []
  immutableTags:
    - repositories: ["**"]
      tags: ["v*", "release-*"]
`;
const RULE = 'retention.immutableTags rule {repositories: [**], tags: [v*, release-*]}';

describe('immutable tags', () => {
  let scratch: string;
  let berth: BerthProcess;
  let api: RegistryAPI;
  let config: string;

  const image = async (repository: string): Promise<TestBlob> => {
    const layer = randomBlob(1000);
    const cfg = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    for (const blob of [cfg, layer]) await api.pushBlob(repository, blob);
    return imageManifest(cfg, [layer]);
  };
  const denial = async (response: Response): Promise<string> => {
    assert.equal(response.status, 403);
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    return body.errors[0]!.message;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-immutable-'));
    config = join(scratch, 'berth.yml');
    await writeFile(config, CONFIG);
    berth = await startBerthProcess(['--storage', join(scratch, 'root'), '--config', config, '--workers', '1']);
    api = new RegistryAPI(berth.url);
  });
  after(async () => {
    await berth?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('a PUT moving v1 is DENIED naming the rule; the same digest again is 201; other tags move freely', async () => {
    const first = await image('app');
    const second = await image('app');
    assert.equal((await api.pushManifest('app', 'v1', first)).status, 201);
    assert.equal((await api.pushManifest('app', 'v1', first)).status, 201, 're-pushing the digest v1 names is no move');
    const message = await denial(await api.pushManifest('app', 'v1', second));
    assert.equal(message, `tag app:v1 names ${first.digest} and cannot be moved to ${second.digest}: it is immutable by ${RULE}`);
    assert.equal((await api.request('HEAD', '/v2/app/manifests/v1')).headers.get('docker-content-digest'), `${first.digest}`, 'v1 still names the first image');
    assert.equal((await api.request('HEAD', `/v2/app/manifests/${second.digest}`)).status, 404, 'the refused push stored nothing');
    await denial(
      await api.request('PUT', `/v2/app/manifests/${second.digest}?tag=latest&tag=v1`, {
        body: second.bytes,
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      }),
    );
    assert.equal((await api.pushManifest('app', 'latest', second)).status, 201);
    assert.equal((await api.pushManifest('app', 'latest', first)).status, 201, 'a mutable tag moves');
  });

  it('a DELETE of v1, or of the manifest v1 names, is DENIED; a mutable tag deletes', async () => {
    const digest = (await api.request('HEAD', '/v2/app/manifests/v1')).headers.get('docker-content-digest')!;
    assert.match(await denial(await api.request('DELETE', '/v2/app/manifests/v1')), /^tag app:v1 cannot be deleted: it is immutable by /);
    assert.match(
      await denial(await api.request('DELETE', `/v2/app/manifests/${digest}`)),
      new RegExp(`^manifest app@${digest} cannot be deleted while immutable tag v1 names it: it is immutable by `),
    );
    assert.equal((await api.request('DELETE', '/v2/app/manifests/latest')).status, 202);
  });

  it('retention keeps immutable tags even under a policy that keeps none', async () => {
    const { code, stdout, stderr } = await runBerth(['retention', 'plan', '--storage', berth.root, '--config', config, '--json']);
    assert.equal(code, 0, stderr);
    const plan = JSON.parse(stdout) as { repositories: { name: string; tags: string[] }[] };
    assert.ok(!plan.repositories.some((repository) => repository.tags.some((tag) => /^(v|release-)/.test(tag))), stdout);
  });

  it('berth push of another image to v1 fails with the message the user sees', async () => {
    const store = await LayoutStore.open(join(scratch, 'store'));
    await storeImage(store, 'other');
    const pushed = await runBerth(['push', `${berth.host}/app:v1`, '--from', 'other', '--store', store.dir]);
    assert.equal(pushed.code, 1, pushed.stdout);
    assert.match(pushed.stderr, /DENIED|denied/);
    assert.ok(pushed.stderr.includes(RULE), `berth names the rule:\n${pushed.stderr}`);
    const again = await runBerth(['push', `${berth.host}/app:v2`, '--from', 'other', '--store', store.dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await runBerth(['push', `${berth.host}/app:v2`, '--from', 'other', '--store', store.dir])).code, 0, 'the same image to v2 again');
  });

  it('skopeo copy of another image to release-1 fails with the message', needs('skopeo', 'umoci'), async () => {
    const layout = await buildImage('a', [1500]);
    await buildImage('b', [1600], layout);
    await skopeoCopy(`oci:${layout}:a`, `docker://${berth.host}/tools/app:release-1`);
    await skopeoCopy(`oci:${layout}:a`, `docker://${berth.host}/tools/app:release-1`);
    const refused = await skopeoCopy(`oci:${layout}:b`, `docker://${berth.host}/tools/app:release-1`).then(
      () => undefined,
      (error: { stderr?: string }) => error.stderr ?? String(error),
    );
    assert.ok(refused, 'skopeo failed');
    assert.ok(refused.includes('cannot be moved'), `skopeo shows the message:\n${refused}`);
  });

  it('podman push of another image to release-1 fails with the message', needs('skopeo', 'umoci', 'podman'), async () => {
    const layout = await buildImage('c', [1700]);
    await skopeoCopy(`oci:${layout}:c`, `docker://${berth.host}/tools/app:scratch-c`);
    const storage = ['--root', join(scratch, 'podman-root'), '--runroot', join(scratch, 'podman-run'), '--storage-driver', 'vfs'];
    await run('podman', [...storage, 'pull', '--tls-verify=false', `${berth.host}/tools/app:scratch-c`]);
    await run('podman', [...storage, 'tag', `${berth.host}/tools/app:scratch-c`, `${berth.host}/tools/app:release-1`]);
    const refused = await run('podman', [...storage, 'push', '--tls-verify=false', `${berth.host}/tools/app:release-1`]).then(
      () => undefined,
      (error: { stderr?: string }) => error.stderr ?? String(error),
    );
    assert.ok(refused, 'podman failed');
    assert.ok(refused.includes('cannot be moved'), `podman shows the message:\n${refused}`);
  });
});
