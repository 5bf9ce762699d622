/**
 * `berth retention apply --gc` while the registry serves pushes (issue 22 "Tests": concurrent pushes
 * during `apply --gc`, every image pushed (201) still pulls; README "Why it is safe while pushes continue").
 * The pushes reuse the layers of the images that go, which gc is deleting at that moment (its quarantine
 * must put back what a push links again). A grace period of 0: the dropped images' blobs are gc's to
 * delete at once, and the writes in flight are still spared (gc leaves writes idle under 10 minutes).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const CONFIG = `
gc:
  gracePeriod: 0s
  settle: 1s
retention:
  policies:
    - repositories: ["ci/**"]
      keepTags:
        - patterns: ["^keep"]
`;

describe('retention apply --gc during pushes', () => {
  let berth: RunningBerth;
  let api: RegistryAPI;
  const base = randomBlob(40_000);
  /** The own layers of the images that go: old enough for gc to delete, and pushed again meanwhile. */
  const dropped: TestBlob[] = [];

  /** Pushes an image on the shared base; the manifest PUT's status (a push gc raced may be refused, never lost). */
  const pushImage = async (repository: string, tag: string, reused?: TestBlob): Promise<number> => {
    const layers = [base, ...(reused ? [reused] : []), randomBlob(5000)];
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
    for (const blob of [config, ...layers]) await api.pushBlob(repository, blob);
    return (await api.pushManifest(repository, tag, imageManifest(config, layers))).status;
  };

  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
    for (let i = 0; i < 6; i++) {
      dropped.push(randomBlob(7000));
      assert.equal(await pushImage('ci/app', `drop-${i}`, dropped[i]), 201);
    }
    assert.equal(await pushImage('ci/app', 'keep-0'), 201);
    await writeFile(join(berth.root, 'berth.yml'), CONFIG);
  });
  after(() => berth.stop());

  it('every push answered 201 while apply and gc ran still pulls, and the kept tags stay', async () => {
    let applying = true;
    const pushed: { repository: string; tag: string }[] = [];
    const pusher = async (repository: string): Promise<void> => {
      for (let i = 0; applying; i++) {
        const tag = `keep-${repository.replace('/', '-')}-${i}`;
        const status = await pushImage(repository, tag, dropped[i % dropped.length]);
        assert.ok(status === 201 || status === 400, `a push answered ${status}`);
        if (status === 201) pushed.push({ repository, tag });
      }
    };
    const pushers = [pusher('ci/app'), pusher('ci/other'), pusher('prod/app')];
    const applied = await runBerth(['retention', 'apply', '--gc', '--storage', berth.root, '--config', join(berth.root, 'berth.yml')]);
    applying = false;
    await Promise.all(pushers);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /deleted 6 tags and 6 manifests/);
    const freed = Number(/gc freed (\d+) bytes/.exec(applied.stdout)?.[1]);
    assert.ok(freed > 0, `gc deleted what went meanwhile (${applied.stdout})`);
    assert.ok(pushed.length > 3, `pushes ran during apply (${pushed.length})`);
    for (const { repository, tag } of [{ repository: 'ci/app', tag: 'keep-0' }, ...pushed]) {
      assert.ok((await pullCompletely(berth.url, repository, tag)) > 0, `${repository}:${tag} pulls`);
    }
  });
});
