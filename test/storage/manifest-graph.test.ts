/** The manifest graph gc and the analysis walk: a read storage failed is not remembered as the manifest's answer. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { ManifestGraph } from '../../storage/manifest-graph.ts';
import { Store } from '../../storage/store.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { FaultyDriver } from '../helpers/faulty-driver.ts';

describe('the manifest graph', () => {
  it('asks storage again after a failed read, and then finds the manifest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-graph-'));
    try {
      const driver = new FaultyDriver(new FsDriver(root));
      const store = new Store(driver);
      const config = blobOf('{}');
      const layer = randomBlob(100);
      const manifest = imageManifest(config, [layer]);
      await store.blobs.putContent(manifest.digest, manifest.bytes);
      const graph = new ManifestGraph(store.blobs);
      driver.inject('getContent', 'EIO');
      await assert.rejects(graph.node(manifest.digest), /EIO/, 'the failure reaches the caller');
      driver.clear();
      const node = await graph.node(manifest.digest);
      assert.deepEqual(
        node?.references.map((reference) => `${reference.digest}`),
        [`${config.digest}`, `${layer.digest}`],
        'the config and the layer, read once storage answers',
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
