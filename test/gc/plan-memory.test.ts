import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { writeScaleRoot } from '../../bench/scale-root.ts';

const SHAPE = { repositories: 600, tagsPerRepository: 4, layersPerImage: 5, poolSize: 200, layerBytes: 16 };

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-plan-memory-'));
  await writeScaleRoot(root, SHAPE);
});
after(() => rm(root, { recursive: true, force: true }));

// Issue 29: a plan's memory grows with the distinct blobs, each kept as little as gc needs, not with manifests kept whole.
it('a gc plan holds under 400 bytes per stored blob, its manifest graph included', async () => {
  // A child process with --expose-gc: what the plan holds is what a full collection frees once it
  // is dropped (the function returning drops it; a value awaited at the top level would stay). One
  // plan first, so that the code it compiles is not counted.
  const script = `
    import { FsDriver } from './storage/drivers/fs/fs-driver.ts';
    import { planGarbage } from './storage/gc/gc-plan.ts';
    import { ManifestGraph } from './storage/manifest-graph.ts';
    import { Store } from './storage/store.ts';
    const store = new Store(new FsDriver(${JSON.stringify(root)}));
    const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
    const planned = async () => {
      const graph = new ManifestGraph(store.blobs);
      const plan = await planGarbage(store, graph);
      return { holding: heap(), blobs: plan.stored.count, unreferenced: plan.unreferenced.length, graph: graph !== undefined };
    };
    await planned();
    const { holding, ...figures } = await planned();
    console.log(JSON.stringify({ bytes: holding - heap(), ...figures }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: new URL('../..', import.meta.url).pathname,
  });
  const { bytes, blobs, unreferenced } = JSON.parse(stdout) as { bytes: number; blobs: number; unreferenced: number };
  const images = SHAPE.repositories * SHAPE.tagsPerRepository;
  assert.ok(blobs >= 2 * images, `${blobs} blobs: a manifest and a config per image, and the layers`);
  assert.ok(unreferenced <= SHAPE.poolSize, 'only pool layers no image drew are unreferenced');
  console.log(`plan and graph of ${images} images and ${blobs} blobs: ${bytes} bytes, ${(bytes / blobs).toFixed(0)} per blob`);
  // Measured: about 90 per blob; with an object per stored blob and per reference, 1,100.
  assert.ok(bytes / blobs < 400, `${(bytes / blobs).toFixed(0)} bytes per blob`);
});
