import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectGarbage, type GcReport } from '../../storage/gc/gc.ts';
import { planGarbage } from '../../storage/gc/gc-plan.ts';
import { ManifestGraph } from '../../storage/manifest-graph.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { newStorage } from '../helpers/backend.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { DelegatingDriver } from '../../storage/delegating-driver.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const HOUR = 3_600_000;

/** Backdates a blob so that it is past any grace period: old garbage, as a real registry has. */
async function age(berth: RunningBerth, blob: TestBlob): Promise<void> {
  await berth.storage.backdate(paths.blobData(blob.digest), new Date(Date.now() - HOUR));
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
    // Back-to-back gc runs on a loaded machine can do that several times in a row (1 run in 5 failed at 5 tries).
    const codes = await RegistryAPI.errorCodes(response);
    assert.deepEqual([...new Set(codes)], ['MANIFEST_BLOB_UNKNOWN'], `push of ${name}:${tag}`);
    assert.ok(attempt < 20, `push of ${name}:${tag} kept failing`);
  }
}

/** A driver that lets a push slip in just before gc moves its first candidate into quarantine. */
class RacingDriver extends DelegatingDriver {
  beforeQuarantine?: () => Promise<void>;

  override async move(from: string, to: string): Promise<void> {
    const hook = to.includes('gc-quarantine') ? this.beforeQuarantine : undefined;
    this.beforeQuarantine = undefined;
    await hook?.();
    return super.move(from, to);
  }
}

/** A driver that runs a hook just before it writes one given path: a push caught midway. */
class HookedDriver extends DelegatingDriver {
  beforeWrite?: { path: string; hook: () => Promise<void> };

  override async putContent(path: string, content: Buffer | string): Promise<void> {
    const hook = path === this.beforeWrite?.path ? this.beforeWrite.hook : undefined;
    if (hook) this.beforeWrite = undefined;
    await hook?.();
    return super.putContent(path, content);
  }
}

/** A registry over a HookedDriver, holding an old garbage blob (linked in `junk`) that gc will take. */
async function withHookedRegistry(test: (berth: RunningBerth, driver: HookedDriver, garbage: TestBlob) => Promise<void>): Promise<void> {
  const storage = await newStorage();
  const driver = new HookedDriver(storage.openDriver());
  const berth = await startBerth({ storage, driver });
  try {
    const garbage = randomBlob(4096);
    await new RegistryAPI(berth.url).pushBlob('junk', garbage);
    await age(berth, garbage);
    await test(berth, driver, garbage);
  } finally {
    await berth.stop();
    await storage.remove();
  }
}

const collectNow = (berth: RunningBerth) => collectGarbage(new Store(berth.storage.openDriver()), { gracePeriodMs: 60_000, settleMs: 0 });

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
    const driver = new RacingDriver(berth.storage.openDriver());
    driver.beforeQuarantine = () => api.pushBlob('race', garbage);
    const report = await collectGarbage(new Store(driver), { gracePeriodMs: 60_000, settleMs: 0 });
    assert.deepEqual(report.restored, [`${garbage.digest}`]);
    assert.equal(report.blobBytes, 0);
    await pushImage(api, 'race', 'late', [garbage]);
    await pullCompletely(berth.url, 'race', 'late');
  });

  it('fails a manifest push whose blob gc removed while the push was under way, rather than store it broken', async () => {
    await withHookedRegistry(async (berth, driver, garbage) => {
      const api = new RegistryAPI(berth.url);
      await api.pushBlob('slow', garbage);
      const manifest = imageManifest(blobOf('{"slow":true}'), [garbage]);
      await api.pushBlob('slow', blobOf('{"slow":true}'));
      let report: GcReport | undefined;
      // gc runs after the push validated its blobs and before it writes the manifest (its bytes, then revision and tags at once).
      driver.beforeWrite = { path: paths.blobData(manifest.digest), hook: async () => void (report = await collectNow(berth)) };
      const response = await api.pushManifest('slow', 'v1', manifest);
      assert.deepEqual(
        report?.blobs.map((blob) => blob.digest),
        [`${garbage.digest}`],
      );
      assert.deepEqual(await RegistryAPI.errorCodes(response), ['MANIFEST_BLOB_UNKNOWN']);
      assert.equal((await api.request('GET', `/v2/slow/manifests/${manifest.digest}`)).status, 404);
      await pushImage(api, 'slow', 'v1', [garbage]);
      await pullCompletely(berth.url, 'slow', 'v1');
    });
  });

  it('keeps a blob whose upload completes while gc takes the stored copy', async () => {
    await withHookedRegistry(async (berth, driver, garbage) => {
      const api = new RegistryAPI(berth.url);
      let report: GcReport | undefined;
      // The stored copy is garbage when gc looks; the upload's link lands just after gc deleted it.
      driver.beforeWrite = { path: paths.layerLink('fresh', garbage.digest), hook: async () => void (report = await collectNow(berth)) };
      await api.pushBlob('fresh', garbage);
      assert.deepEqual(
        report?.blobs.map((blob) => blob.digest),
        [`${garbage.digest}`],
      );
      assert.equal((await api.request('HEAD', `/v2/fresh/blobs/${garbage.digest}`)).status, 200);
      await pushImage(api, 'fresh', 'v1', [garbage]);
      await pullCompletely(berth.url, 'fresh', 'v1');
    });
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

    const store = new Store(berth.storage.openDriver());
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
