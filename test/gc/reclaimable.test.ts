import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnalysisReport } from '../../analysis/analysis.ts';
import type { GcReport } from '../../storage/gc/gc.ts';
import type { TestStorage } from '../helpers/backend.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { totalSize } from '../helpers/shared-fixture.ts';

/** `berth ARGS --storage STORAGE`, with the storage's own config file unless ARGS give one; it must succeed. */
async function berth(storage: TestStorage, ...args: string[]): Promise<string> {
  const config = args.includes('--config') ? [] : ['--config', await storage.configFile()];
  const { code, stdout, stderr } = await runBerth([...args, '--storage', storage.location, ...config], '', storage.env);
  assert.equal(code, 0, `berth ${args.join(' ')}: ${stderr}`);
  return stdout;
}

/** The byte count a text report states after `label`, e.g. "would free 1.23 KiB (1260 bytes)". */
function statedBytes(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  assert.ok(match, `${pattern} in:\n${text}`);
  return match[1]!;
}

describe('analyze and gc --dry-run state the same reclaimable figure after a delete', () => {
  let server: RunningBerth;
  let api: RegistryAPI;
  let storage: TestStorage;
  /** app:1.0, deleted by digest: what gc reclaims (its base layer stays, base:1 uses it). */
  let deleted: { manifest: TestBlob; gone: TestBlob[] };
  let orphan: TestBlob;

  const push = async (repository: string, tag: string, layers: TestBlob[]): Promise<{ manifest: TestBlob; config: TestBlob }> => {
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { diff_ids: layers.map((layer) => `${layer.digest}`) } }));
    for (const blob of [config, ...layers]) await api.pushBlob(repository, blob);
    const manifest = imageManifest(config, layers);
    assert.equal((await api.pushManifest(repository, tag, manifest)).status, 201);
    return { manifest, config };
  };

  before(async () => {
    server = await startBerth();
    api = new RegistryAPI(server.url);
    storage = server.storage;
    const base = randomBlob(40_000);
    const own = randomBlob(70_000);
    await push('base', '1', [base]);
    const app = await push('app', '1.0', [base, own]);
    assert.equal((await api.request('DELETE', `/v2/app/manifests/${app.manifest.digest}`)).status, 202);
    deleted = { manifest: app.manifest, gone: [app.manifest, app.config, own] };
    orphan = randomBlob(1234);
    await api.pushBlob('app', orphan);
  });
  after(() => server.stop());

  it('within the grace period: both free 0 B now, the same bytes after it, and name the grace period and how to set it', async () => {
    const analyzeText = await berth(storage, 'analyze');
    const gcText = await berth(storage, 'gc', '--dry-run');
    assert.equal(statedBytes(analyzeText, /gc would free (\S+ \S+)/), statedBytes(gcText, /would free (\S+ \S+)/), 'the same figure freed now');
    assert.match(analyzeText, /gc would free 0 B now/);
    assert.match(gcText, /would free 0 B \(0 bytes\) now/);
    const grace = /younger than the grace period \(1h, set with --grace-period or gc\.gracePeriod in the config file\)/;
    assert.match(analyzeText, grace);
    assert.match(gcText, grace);
    assert.equal(
      statedBytes(analyzeText, /and (\S+ \S+) more after the grace period/),
      statedBytes(gcText, /kept (\S+ \S+) \(\d+ bytes\) in 4 unreferenced blobs/),
    );
    for (const blob of deleted.gone) assert.match(gcText, new RegExp(`kept blob ${blob.digest} \\(.*\\) of app@${deleted.manifest.digest}\\n`));
    assert.match(gcText, new RegExp(`kept blob ${orphan.digest} \\(.*\\), no remaining image\\n`));

    const analysis = JSON.parse(await berth(storage, 'analyze', '--json')) as AnalysisReport;
    const gc = JSON.parse(await berth(storage, 'gc', '--dry-run', '--json')) as GcReport;
    const young = totalSize(deleted.gone) + orphan.bytes.length;
    assert.equal(gc.blobBytes + gc.uploadBytes, 0);
    assert.equal(analysis.gc.now.bytes, 0, 'analyze no longer counts young blobs as freed now');
    assert.equal(gc.youngBlobBytes, young);
    assert.equal(analysis.gc.afterGracePeriod.bytes, young);
    assert.equal(analysis.gc.gracePeriodMs, gc.gracePeriodMs);
    assert.equal(analysis.unreferencedBytes, young, 'the accounting figure counts every unreferenced blob, whatever its age');
  });

  it('past the grace period (flag or config file): both free the same bytes now, and gc names the deleted image of each blob', async () => {
    const freed = totalSize(deleted.gone) + orphan.bytes.length;
    const config = await storage.configFile('gc:\n  gracePeriod: 0s\n');
    for (const settings of [
      ['--grace-period', '0'],
      ['--config', config],
    ]) {
      const analysis = JSON.parse(await berth(storage, 'analyze', '--json', ...settings)) as AnalysisReport;
      const gc = JSON.parse(await berth(storage, 'gc', '--dry-run', '--json', ...settings)) as GcReport;
      assert.equal(gc.blobBytes + gc.uploadBytes, freed);
      assert.equal(analysis.gc.now.bytes, freed, settings.join(' '));
      assert.equal(analysis.gc.afterGracePeriod.bytes, 0);
      assert.deepEqual(gc.youngBlobs, []);
      const images = new Map(gc.blobs.map((blob) => [blob.digest, blob.images]));
      for (const blob of deleted.gone) assert.deepEqual(images.get(`${blob.digest}`), [`app@${deleted.manifest.digest}`]);
      assert.deepEqual(images.get(`${orphan.digest}`), []);
    }
    const analyzeText = await berth(storage, 'analyze', '--grace-period', '0');
    const gcText = await berth(storage, 'gc', '--dry-run', '--grace-period', '0');
    assert.equal(statedBytes(analyzeText, /gc would free (\S+ \S+) now/), statedBytes(gcText, /would free (\S+ \S+) \(\d+ bytes\) now/));
    for (const blob of deleted.gone) assert.match(gcText, new RegExp(`would delete blob ${blob.digest} \\(.*\\) of app@${deleted.manifest.digest}\\n`));
  });

  it('with --delete-untagged: a manifest a re-push left untagged goes, named by the tag it had', async () => {
    const first = await push('app', '2.0', [randomBlob(5000)]);
    await push('app', '2.0', [randomBlob(6000)]);
    const settings = ['--delete-untagged', '--grace-period', '0'];
    const analysis = JSON.parse(await berth(storage, 'analyze', '--json', ...settings)) as AnalysisReport;
    const gc = JSON.parse(await berth(storage, 'gc', '--dry-run', '--json', ...settings)) as GcReport;
    assert.equal(analysis.gc.now.bytes, gc.blobBytes + gc.uploadBytes);
    assert.equal(analysis.gc.deleteUntagged, true);
    assert.deepEqual(gc.revisions, [{ repository: 'app', digest: `${first.manifest.digest}` }]);
    const manifest = gc.blobs.find((blob) => blob.digest === `${first.manifest.digest}`);
    assert.deepEqual(manifest?.images, [`app:2.0@${first.manifest.digest}`]);
    assert.match(await berth(storage, 'analyze', ...settings), /gc would free \S+ \S+ now \(with --delete-untagged\)/);
  });
});
