import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyze, type AnalysisReport } from '../../analysis/analysis.ts';
import { writeScaleRoot } from '../../bench/scale-root.ts';
import { Digest } from '../../oci/digest.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { paths } from '../../storage/paths.ts';
import { REPOSITORIES_IN_FLIGHT } from '../../storage/gc/walk.ts';
import { Store } from '../../storage/store.ts';
import { DelegatingDriver } from '../../storage/delegating-driver.ts';

/** Three times the repositories gc's mark walks at once, so the counts come back in no set order. */
const SHAPE = { repositories: 3 * REPOSITORIES_IN_FLIGHT, tagsPerRepository: 3, layersPerImage: 4, poolSize: 40, layerBytes: 64 };

/** Tag reads of every other repository come late: the mark finishes repositories out of catalog order. */
class LateTagsDriver extends DelegatingDriver {
  override async getContent(path: string): Promise<Buffer> {
    if (/app-\d*[02468]\/_manifests\/tags\//.test(path)) await sleep(20);
    return super.getContent(path);
  }
}

/** An image's blobs and their sizes, read from the files: the manifest, its config and its distinct layers. */
async function imageBlobs(root: string, manifest: string): Promise<Map<string, number>> {
  const bytes = await readFile(join(root, paths.blobData(Digest.parse(manifest))));
  const { config, layers } = JSON.parse(bytes.toString('utf8')) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  return new Map([[manifest, bytes.length], ...[config, ...layers].map(({ digest, size }): [string, number] => [digest, size])]);
}

describe('analyze over more repositories than are walked at once', () => {
  let root: string;
  let report: AnalysisReport;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-many-'));
    await writeScaleRoot(root, SHAPE);
    report = await analyze(new Store(new LateTagsDriver(new FsDriver(root))));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lists repositories in catalog order and their images in tag order', async () => {
    const names = await new Store(new FsDriver(root)).repositories.catalog();
    assert.deepEqual(
      report.repositories.map((repository) => repository.name),
      names,
    );
    assert.deepEqual(
      report.images.map((image) => `${image.repository}:${image.tags.join(',')}`),
      names.flatMap((name) => ['v0', 'v1', 'v2'].map((tag) => `${name}:${tag}`)),
    );
  });

  it('counts each image, repository and shared blob as the files say', async () => {
    const blobsOf = new Map<string, Map<string, number>>();
    for (const image of report.images) blobsOf.set(image.digest, await imageBlobs(root, image.digest));
    const repositoriesOf = new Map<string, Set<string>>();
    const imagesOf = new Map<string, number>();
    for (const image of report.images) {
      const blobs = blobsOf.get(image.digest)!;
      assert.equal(
        image.bytes,
        [...blobs.values()].reduce((a, b) => a + b, 0),
        `${image.repository}@${image.digest}`,
      );
      for (const key of blobs.keys()) {
        repositoriesOf.set(key, (repositoriesOf.get(key) ?? new Set()).add(image.repository));
        imagesOf.set(key, (imagesOf.get(key) ?? 0) + 1);
      }
    }
    const sizes = new Map([...blobsOf.values()].flatMap((blobs) => [...blobs]));
    const bytes = (keys: Iterable<string>) => [...keys].reduce((total, key) => total + sizes.get(key)!, 0);
    for (const repository of report.repositories) {
      const images = report.images.filter((image) => image.repository === repository.name);
      const blobs = [...new Set(images.flatMap((image) => [...blobsOf.get(image.digest)!.keys()]))];
      assert.deepEqual(repository, {
        name: repository.name,
        tags: SHAPE.tagsPerRepository,
        images: SHAPE.tagsPerRepository,
        manifests: SHAPE.tagsPerRepository,
        logicalBytes: images.reduce((total, image) => total + image.bytes, 0),
        storedBytes: bytes(blobs),
        uniqueBytes: bytes(blobs.filter((key) => repositoriesOf.get(key)!.size === 1)),
        sharedBytes: bytes(blobs.filter((key) => repositoriesOf.get(key)!.size > 1)),
      });
    }
    // Pool layers no image drew are unreferenced.
    assert.equal(report.blobCount, sizes.size + report.unreferencedBlobs);
    assert.equal(report.physicalBytes, bytes(sizes.keys()) + report.unreferencedBytes);
    assert.equal(report.referencedBytes, bytes(sizes.keys()));
    const top = report.topSharedBlobs[0]!;
    assert.equal(top.images, imagesOf.get(top.digest));
    assert.equal(top.repositories, repositoriesOf.get(top.digest)!.size);
    assert.equal(top.bytesSaved, Math.max(...[...imagesOf].map(([key, images]) => sizes.get(key)! * (images - 1))));
  });
});
