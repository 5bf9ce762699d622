import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyze, type AnalysisReport } from '../../analysis/analysis.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

/**
 * What each mirror's cache costs and saves (issue 23: cached content shows in `berth analyze`): the
 * repositories under an upstream's name, as the mirror stores them (`docker.io/library/alpine`).
 */
describe('analysis of the pull-through cache, per upstream', () => {
  let berth: RunningBerth;
  let report: AnalysisReport;
  const base = randomBlob(40_000);
  const shared = randomBlob(30_000);
  const own = [randomBlob(20_000), randomBlob(10_000)];
  const configs: TestBlob[] = [];
  const manifests: TestBlob[] = [];

  const push = async (api: RegistryAPI, repository: string, layers: TestBlob[]) => {
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', repository }));
    configs.push(config);
    for (const blob of [config, ...layers]) await api.pushBlob(repository, blob);
    const manifest = imageManifest(config, layers);
    assert.equal((await api.pushManifest(repository, 'v1', manifest)).status, 201);
    manifests.push(manifest);
  };

  before(async () => {
    berth = await startBerth();
    const api = new RegistryAPI(berth.url);
    // Two cached images sharing a base layer, and a repository of the registry's own that shares another layer with one of them.
    await push(api, 'docker.io/library/alpine', [base, own[0]!]);
    await push(api, 'docker.io/library/debian', [base, shared]);
    await push(api, 'team/app', [shared, own[1]!]);
    report = await analyze(new Store(new FsDriver(berth.root)), { mirrors: ['docker.io', 'ghcr.io'] });
  });
  after(() => berth.stop());

  it('counts the stored, unique and saved bytes of each upstream’s repositories', () => {
    const size = (...blobs: TestBlob[]) => blobs.reduce((total, blob) => total + blob.bytes.length, 0);
    const [alpineConfig, debianConfig] = configs as [TestBlob, TestBlob];
    const [alpine, debian] = manifests as [TestBlob, TestBlob];
    const alpineImage = size(alpine, alpineConfig, base, own[0]!);
    const debianImage = size(debian, debianConfig, base, shared);
    const stored = size(alpine, debian, alpineConfig, debianConfig, base, own[0]!, shared);
    assert.deepEqual(report.mirrors, [
      {
        name: 'docker.io',
        repositories: 2,
        images: 2,
        logicalBytes: alpineImage + debianImage,
        storedBytes: stored,
        // The layer team/app also uses stays if the cache goes.
        uniqueBytes: stored - shared.bytes.length,
        savedBytes: alpineImage + debianImage - stored,
      },
      { name: 'ghcr.io', repositories: 0, images: 0, logicalBytes: 0, storedBytes: 0, uniqueBytes: 0, savedBytes: 0 },
    ]);
  });
});
