import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyze, type AnalysisReport } from '../../analysis/analysis.ts';
import { wastedSpace } from '../../analysis/deep-analysis.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { Store } from '../../storage/store.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
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

  it('sums up the layers it could not scan in one line saying what that means for the figures; --verbose and --json list each', async () => {
    // A filesystem layer that is not a tar (damage), beside the fixture's artifact payload.
    const api = new RegistryAPI(berth.url);
    const damaged = randomBlob(3000);
    const config = blobOf('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    for (const blob of [config, damaged]) await api.pushBlob('deep/damaged', blob);
    assert.equal((await api.pushManifest('deep/damaged', 'v1', imageManifest(config, [damaged]))).status, 201);

    const text = await runBerth(['analyze', '--deep', '--storage', berth.root]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^ {2}2 layers not scanned: 1 layer of artifacts, not filesystems \(.*nothing missed\); 1 layer not readable as tar \(damaged.*\); their files are not counted, so the file, duplicate and wasted figures are lower bounds \(each with --verbose or in --json\)$/m,
    );
    assert.doesNotMatch(text.stdout, /not scanned sha256:/, 'no line per layer without --verbose');

    const verbose = await runBerth(['analyze', '--deep', '--verbose', '--storage', berth.root]);
    assert.match(
      verbose.stdout,
      new RegExp(`not scanned ${damaged.digest} \\(application/vnd\\.oci\\.image\\.layer\\.v1\\.tar\\+gzip\\): not a plain tar archive`),
    );
    const json = JSON.parse((await runBerth(['analyze', '--deep', '--json', '--storage', berth.root])).stdout) as AnalysisReport;
    assert.deepEqual(json.deep?.layersSkipped.map((layer) => [layer.kind, layer.mediaType]).sort(), [
      ['artifact', 'application/vnd.example.data'],
      ['unreadable', 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ]);
  });
});
