import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsDriver } from '../../storage/fs-driver.ts';
import { collectGarbage, planGarbage } from '../../storage/gc.ts';
import { ManifestGraph } from '../../storage/manifest-graph.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const HOUR = 3_600_000;

/** Backdates a blob so that it is past any grace period: old garbage, as a real registry has. */
async function age(berth: RunningBerth, blob: TestBlob): Promise<void> {
  const old = new Date(Date.now() - HOUR);
  await utimes(join(berth.root, 'docker/registry/v2/blobs/sha256', blob.digest.hex.slice(0, 2), blob.digest.hex, 'data'), old, old);
}

/** Pushes like a real client: HEAD each blob, upload only what the registry lacks, then the manifest. */
async function pushImage(api: RegistryAPI, name: string, tag: string, layers: TestBlob[]): Promise<void> {
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, nonce: Math.random() }));
  const manifest = imageManifest(config, layers);
  for (let attempt = 0; ; attempt++) {
    for (const blob of [config, ...layers]) {
      if ((await api.request('HEAD', `/v2/${name}/blobs/${blob.digest}`)).status !== 200) await api.pushBlob(name, blob);
    }
    const response = await api.pushManifest(name, tag, manifest);
    if (response.status === 201) return;
    // gc unlinked a blob between our HEAD and the manifest: the push fails cleanly, a retry uploads it.
    const codes = await RegistryAPI.errorCodes(response);
    assert.deepEqual([...new Set(codes)], ['MANIFEST_BLOB_UNKNOWN'], `push of ${name}:${tag}`);
    assert.ok(attempt < 5, `push of ${name}:${tag} kept failing`);
  }
}

/** A driver that lets a push slip in just before gc moves its first candidate into quarantine. */
class RacingDriver extends FsDriver {
  beforeQuarantine?: () => Promise<void>;

  override async move(from: string, to: string): Promise<void> {
    const hook = to.includes('gc-quarantine') ? this.beforeQuarantine : undefined;
    this.beforeQuarantine = undefined;
    await hook?.();
    return super.move(from, to);
  }
}

/** A driver that holds the write of one path until released: a manifest push stalled midway. */
class StallingDriver extends FsDriver {
  stall?: { path: string; until: Promise<void>; reached: () => void };

  override async putContent(path: string, content: Buffer | string): Promise<void> {
    if (path === this.stall?.path) {
      this.stall.reached();
      await this.stall.until;
    }
    return super.putContent(path, content);
  }
}

describe('gc while the registry serves pushes', () => {
  let berth: RunningBerth;
  let api: RegistryAPI;

  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
  });
  after(() => berth.stop());

  it('puts back a blob a push links while gc is deleting it', async () => {
    const garbage = randomBlob(2048);
    await api.pushBlob('race', garbage);
    await pushImage(api, 'race', 'keep', [randomBlob(100)]);
    await age(berth, garbage);
    const driver = new RacingDriver(berth.root);
    driver.beforeQuarantine = () => api.pushBlob('race', garbage);
    const report = await collectGarbage(new Store(driver), { gracePeriodMs: 60_000, settleMs: 0 });
    assert.deepEqual(report.restored, [`${garbage.digest}`]);
    assert.equal(report.blobBytes, 0);
    await pushImage(api, 'race', 'late', [garbage]);
    await pullCompletely(berth.url, 'race', 'late');
  });

  it('fails a manifest push whose blob gc removed while the push was under way, rather than store it broken', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-stall-'));
    const driver = new StallingDriver(root);
    const stalled = await startBerth({ root, driver });
    const stalledAPI = new RegistryAPI(stalled.url);
    try {
      const layer = randomBlob(4096);
      const config = blobOf('{"stalled":true}');
      for (const blob of [layer, config]) await stalledAPI.pushBlob('slow', blob);
      await pushImage(stalledAPI, 'slow', 'other', [randomBlob(10)]);
      for (const blob of [layer, config]) await age(stalled, blob);
      const manifest = imageManifest(config, [layer]);
      let release = () => undefined as void;
      const reachedRevision = new Promise<void>((resolve) => {
        driver.stall = { path: paths.revisionLink('slow', manifest.digest), until: new Promise((r) => (release = r)), reached: resolve };
      });
      const push = stalledAPI.pushManifest('slow', 'v1', manifest);
      await reachedRevision;
      const report = await collectGarbage(new Store(new FsDriver(stalled.root)), { gracePeriodMs: 60_000, settleMs: 0 });
      assert.ok(report.blobs.some((blob) => blob.digest === `${layer.digest}`), 'gc took the layer of the stalled push');
      release();
      const response = await push;
      assert.deepEqual(await RegistryAPI.errorCodes(response), ['MANIFEST_BLOB_UNKNOWN']);
      assert.equal((await stalledAPI.request('GET', `/v2/slow/manifests/${manifest.digest}`)).status, 404);
      await pushImage(stalledAPI, 'slow', 'v1', [layer]);
      await pullCompletely(stalled.url, 'slow', 'v1');
    } finally {
      await stalled.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never deletes what concurrent pushes upload or link: every tag pulls completely', async () => {
    const repositories = ['conc/a', 'conc/b', 'conc/c'];
    const base = randomBlob(50_000);
    const garbage = new Map<string, TestBlob[]>();
    for (const name of repositories) {
      await pushImage(api, name, 'seed', [base, randomBlob(1000)]);
      const old = [randomBlob(3000), randomBlob(3000), randomBlob(3000), randomBlob(3000)];
      for (const blob of old) await api.pushBlob(name, blob);
      for (const blob of old) await age(berth, blob);
      garbage.set(name, old);
    }

    const store = new Store(new FsDriver(berth.root));
    let pushing = true;
    const reused = new Set<string>();
    const pushers = repositories.map(async (name, n) => {
      for (let i = 0; i < 12; i++) {
        const layers = [base, randomBlob(2000 + i)];
        // Every third push re-references a garbage blob, found present by HEAD: the dangerous case.
        const old = i % 3 === 0 ? garbage.get(name)![i / 3] : undefined;
        if (old) {
          layers.push(old);
          reused.add(`${old.digest}`);
        }
        await pushImage(api, name, `t${i}`, layers);
        if (i % 4 === n) await api.request('DELETE', `/v2/${name}/manifests/t${i}`);
      }
    });
    const collector = (async () => {
      let runs = 0;
      let freed = 0;
      while (pushing) {
        freed += (await collectGarbage(store, { gracePeriodMs: 30_000, settleMs: 50 })).blobBytes;
        runs += 1;
      }
      return { runs, freed };
    })();
    await Promise.all(pushers).finally(() => (pushing = false));
    const during = await collector;
    assert.ok(during.runs >= 2, `gc ran ${during.runs} times during the pushes`);
    const freed = during.freed + (await collectGarbage(store, { gracePeriodMs: 30_000, settleMs: 0 })).blobBytes;

    let tags = 0;
    for (const name of repositories) {
      const listed = (await (await api.request('GET', `/v2/${name}/tags/list`)).json()) as { tags: string[] };
      for (const tag of listed.tags) await pullCompletely(berth.url, name, tag);
      tags += listed.tags.length;
    }
    assert.equal(tags, 3 * (1 + 12 - 3));
    const plan = await planGarbage(store, new ManifestGraph(store.blobs), { gracePeriodMs: 30_000 });
    assert.deepEqual(plan.sweepable, [], 'old garbage left unreferenced was swept');
    assert.ok(freed > 0, 'gc freed something while pushes ran');
  });
});
