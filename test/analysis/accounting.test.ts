import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze, type AnalysisReport } from '../../analysis/analysis.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { run } from '../../peers/oci-image.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { byDigest, totalSize, expectedFigures, pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';

describe('storage accounting on a registry of images sharing layers', () => {
  let berth: RunningBerth;
  let fixture: SharedFixture;
  let report: AnalysisReport;

  before(async () => {
    berth = await startBerth();
    fixture = await pushSharedFixture(new RegistryAPI(berth.url));
    report = await analyze(new Store(new FsDriver(berth.root)));
  });
  after(() => berth.stop());

  it('reports the registry-wide figures the rules give', () => {
    const expected = expectedFigures(fixture);
    assert.equal(report.physicalBytes, expected.physicalBytes);
    assert.equal(report.logicalBytes, expected.logicalBytes);
    assert.equal(report.dedupRatio, expected.dedupRatio);
    assert.equal(report.unreferencedBytes, expected.unreferencedBytes);
    assert.equal(report.unreferencedBlobs, fixture.garbage.length);
    assert.equal(report.blobCount, fixture.stored.length);
    assert.equal(report.missingBlobs, 0);
  });

  it('reports each repository: images, logical, unique and shared bytes', () => {
    const figures = report.repositories
      .filter((repository) => repository.images > 0)
      .map(({ name, images, logicalBytes, uniqueBytes, sharedBytes }) => ({ name, images, logicalBytes, uniqueBytes, sharedBytes }));
    assert.deepEqual(figures, expectedFigures(fixture).repositories);
    const app1 = report.repositories.find((repository) => repository.name === 'app1');
    assert.equal(app1?.tags, 3);
    assert.equal(app1?.images, 2);
    const multi = report.repositories.find((repository) => repository.name === 'multi');
    assert.equal(multi?.images, 1);
    assert.equal(multi?.manifests, 3, 'the index and its two platform manifests');
  });

  it('counts an index as itself and everything its children reach, each blob once', () => {
    const multi = fixture.images.find((image) => image.repository === 'multi')!;
    const image = report.images.find((candidate) => candidate.digest === multi.manifest.digest.toString());
    assert.equal(image?.bytes, totalSize(multi.reaches));
    assert.deepEqual(image?.tags, ['1.0']);
  });

  it('lists the most shared blobs with the bytes storing them once saves', () => {
    const [top] = report.topSharedBlobs;
    const base = fixture.images[0]!.reaches[2]!;
    const usingBase = fixture.images.filter((image) => image.reaches.includes(base));
    assert.equal(top?.digest, base.digest.toString());
    assert.equal(top?.images, usingBase.length);
    assert.equal(top?.repositories, new Set(usingBase.map((image) => image.repository)).size);
    assert.equal(top?.bytesSaved, base.bytes.length * (usingBase.length - 1));
    const savedOverall = report.topSharedBlobs.reduce((total, blob) => total + blob.bytesSaved, 0);
    assert.equal(savedOverall, report.logicalBytes - report.referencedBytes, 'the savings add up to logical minus referenced');
  });

  it('adds up: unique plus shared is what a repository stores, referenced plus the rest is physical', () => {
    for (const repository of report.repositories) assert.equal(repository.uniqueBytes + repository.sharedBytes, repository.storedBytes);
    const referenced = byDigest(fixture.images.flatMap((image) => image.reaches));
    const untaggedOnly = fixture.untagged.reaches.filter((blob) => !referenced.has(blob.digest.toString()));
    assert.equal(report.referencedBytes + totalSize(untaggedOnly) + report.unreferencedBytes, report.physicalBytes);
  });

  it('gives the same figures from `berth analyze --json` and GET /api/v1/analysis', async () => {
    const cli = join(import.meta.dirname, '../../cli/main.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, 'analyze', '--storage', berth.root, '--json']);
    const response = await fetch(`${berth.url}/api/v1/analysis`);
    assert.equal(response.status, 200);
    const figures = (r: AnalysisReport) => ({ ...r, generatedAt: undefined });
    assert.deepEqual(figures(JSON.parse(stdout) as AnalysisReport), figures(report));
    assert.deepEqual(figures((await response.json()) as AnalysisReport), figures(report));
  });

  it('prints a table by default', async () => {
    const cli = join(import.meta.dirname, '../../cli/main.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, 'analyze', '--storage', berth.root]);
    assert.match(stdout, /REPOSITORY\s+TAGS\s+IMAGES\s+MANIFESTS\s+LOGICAL\s+UNIQUE\s+SHARED/);
    assert.match(stdout, /^app1\s+3\s+2\s+2\s/m);
    assert.match(stdout, /dedup ratio \d+\.\d\dx/);
  });
});
