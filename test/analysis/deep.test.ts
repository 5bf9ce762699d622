import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyze, type AnalysisReport } from '../../storage/analysis.ts';
import { wastedSpace } from '../../storage/deep-analysis.ts';
import { FsDriver } from '../../storage/fs-driver.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { pushLayerFixture, type LayerFixture } from '../helpers/layer-fixture.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

describe('analyze --deep on layers with planted duplicates and overwrites', () => {
  let berth: RunningBerth;
  let fixture: LayerFixture;
  let deep: NonNullable<AnalysisReport['deep']>;

  before(async () => {
    berth = await startBerth();
    fixture = await pushLayerFixture(new RegistryAPI(berth.url));
    deep = (await analyze(new Store(new FsDriver(berth.root)), { deep: true })).deep!;
  });
  after(() => berth.stop());

  it('opens gzip, zstd and plain tar layers, and skips what is not a tar', () => {
    assert.equal(deep.layersScanned, fixture.layersScanned);
    assert.equal(deep.layersSkipped.length, fixture.layersSkipped);
  });

  it('finds identical files stored in different layers', () => {
    assert.equal(deep.duplicateFileBytes, fixture.duplicateFileBytes);
    const [top] = deep.topDuplicateFiles;
    assert.deepEqual(top, { ...fixture.shared, bytesSaved: fixture.shared.size * (fixture.shared.copies - 1) });
  });

  it('counts files a later layer overwrites or deletes as wasted, per image', () => {
    const layered = deep.images.find((image) => image.repository === 'deep/one');
    assert.equal(layered?.wastedBytes, fixture.wastedBytes);
    assert.equal(layered?.wastedFiles, fixture.wastedFiles);
    assert.equal(deep.wastedBytes, fixture.wastedBytes);
  });

  it('applies whiteouts only to the layers below them', () => {
    const file = (path: string, size: number) => ({ path, size });
    const waste = wastedSpace([
      { files: [file('a/x', 10), file('b', 20)], deleted: [], opaque: [] },
      { files: [file('a/y', 5)], deleted: ['b'], opaque: ['a'] },
      { files: [file('b', 7)], deleted: [], opaque: [] },
    ]);
    assert.deepEqual(waste, { bytes: 10 + 20, files: 2 });
  });
});
