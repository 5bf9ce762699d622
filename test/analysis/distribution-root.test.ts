import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../../analysis/analysis.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { collectGarbage } from '../../storage/gc/gc.ts';
import { Store } from '../../storage/store.ts';
import { needs } from '../helpers/peers.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../../peers/reference-registry.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { totalSize, expectedFigures, pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';

describe('analyze and gc on a root Distribution 2.8.2 (registry:2) writes and serves', needs('docker-registry'), () => {
  let registry: ReferenceRegistry;
  let fixture: SharedFixture;
  let store: Store;

  before(async () => {
    registry = await startReferenceRegistry();
    fixture = await pushSharedFixture(new RegistryAPI(registry.url));
    store = new Store(new FsDriver(registry.root));
  });
  after(() => registry?.stop());

  it('reports the same figures the rules give, while it runs', async () => {
    const report = await analyze(store);
    const expected = expectedFigures(fixture);
    assert.equal(report.physicalBytes, expected.physicalBytes);
    assert.equal(report.logicalBytes, expected.logicalBytes);
    assert.equal(report.unreferencedBytes, expected.unreferencedBytes);
    const figures = report.repositories
      .filter((repository) => repository.images > 0)
      .map(({ name, images, logicalBytes, uniqueBytes, sharedBytes }) => ({ name, images, logicalBytes, uniqueBytes, sharedBytes }));
    assert.deepEqual(figures, expected.repositories);
  });

  it('collects its garbage, and Distribution still serves every tag', async () => {
    const report = await collectGarbage(store, { gracePeriodMs: 0, settleMs: 0 });
    assert.equal(report.blobBytes, totalSize(fixture.garbage));
    for (const image of fixture.images) await pullCompletely(registry.url, image.repository, image.tags[0]!);
  });
});
