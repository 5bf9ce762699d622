/**
 * gc's plan walks the repositories tree once (issue 29): the mark takes its catalog from the same
 * walk that finds upload sessions, and `_uploads` is listed only in repositories that have one.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scaleRepositoryName, writeScaleRoot } from '../../bench/scale-root.ts';
import { DelegatingDriver } from '../../storage/delegating-driver.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { planGarbage } from '../../storage/gc/gc-plan.ts';
import { ManifestGraph } from '../../storage/manifest-graph.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';

const SHAPE = { repositories: 12, tagsPerRepository: 2, layersPerImage: 2, poolSize: 10, layerBytes: 64 };

/** Counts the listings of each path. */
class CountingDriver extends DelegatingDriver {
  readonly listed = new Map<string, number>();

  override list(path: string): Promise<string[]> {
    this.listed.set(path, (this.listed.get(path) ?? 0) + 1);
    return super.list(path);
  }
}

describe('gc plan over the repositories tree', () => {
  let root: string;
  const uploading = scaleRepositoryName(5);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-walk-'));
    await writeScaleRoot(root, SHAPE);
    // An upload session idle for two days: past gc's maximum age (24h).
    const id = 'a9b8c7d6-0000-4000-8000-000000000001';
    await mkdir(join(root, paths.upload(uploading, id)), { recursive: true });
    await writeFile(join(root, paths.uploadStartedAt(uploading, id)), new Date(Date.now() - 48 * 60 * 60_000).toISOString());
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lists every directory once, and _uploads only where a repository has one', async () => {
    const driver = new CountingDriver(new FsDriver(root));
    const store = new Store(driver);
    const plan = await planGarbage(store, new ManifestGraph(store.blobs));
    const twice = [...driver.listed].filter(([, count]) => count > 1).map(([path]) => path);
    assert.deepEqual(twice, []);
    const uploadListings = [...driver.listed.keys()].filter((path) => path.endsWith('/_uploads'));
    assert.deepEqual(uploadListings, [paths.uploadsRoot(uploading)]);
    assert.deepEqual(plan.marks.repositories, await new Store(new FsDriver(root)).repositories.catalog());
    assert.equal(plan.marks.repositories.length, SHAPE.repositories);
    assert.deepEqual(
      plan.uploads.map((upload) => upload.repository),
      [uploading],
    );
  });
});
