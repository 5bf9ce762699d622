import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copy } from '../../client/copy.ts';
import type { LayoutStore } from '../../client/layout-store.ts';
import { parsePlatform } from '../../client/platform.ts';
import { pull } from '../../client/pull.ts';
import { push } from '../../client/push.ts';
import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { Reference } from '../../oci/reference.ts';
import { clientFor, REGISTRIES, tempStore } from '../helpers/client-fixtures.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { startCountingProxy, type CountingProxy } from '../../peers/counting-proxy.ts';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { pullCompletely } from '../helpers/pull-check.ts';

const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

/** Writes a two-platform OCI index into the store under `name`; returns the image manifests by architecture. */
async function storeMultiArch(store: LayoutStore, name: string): Promise<Record<string, { manifest: TestBlob; layers: TestBlob[] }>> {
  const images: Record<string, { manifest: TestBlob; layers: TestBlob[] }> = {};
  const shared = randomBlob(300_000);
  const entries = [];
  for (const platform of PLATFORMS) {
    const config = blobOf(JSON.stringify({ architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: [] } }));
    const layers = [shared, randomBlob(1_200_000 + Math.floor(Math.random() * 1000))];
    const manifest = imageManifest(config, layers);
    for (const blob of [config, ...layers, manifest]) await store.putBytes(blob.digest, blob.bytes);
    images[platform.architecture] = { manifest, layers };
    entries.push({ mediaType: MediaType.ociManifest, digest: `${manifest.digest}`, size: manifest.bytes.length, platform });
  }
  const index = blobOf(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries }));
  await store.putBytes(index.digest, index.bytes);
  await store.tag(name, { mediaType: MediaType.ociIndex, digest: index.digest, size: index.bytes.length });
  return images;
}

for (const registry of REGISTRIES) {
  describe(`berth push and copy against ${registry.name}`, needs('skopeo', 'umoci', ...registry.peers), () => {
    let server: Awaited<ReturnType<typeof registry.start>>;
    let proxy: CountingProxy;
    let layout: string;

    before(async () => {
      server = await registry.start();
      proxy = await startCountingProxy(server.url);
      layout = await buildImage('v1', [300_000, 1_500_000]);
    });

    after(async () => {
      await proxy?.stop();
      await server?.stop();
      if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
    });

    test('pushes a store skopeo wrote, uploading only what the registry lacks', async () => {
      const { store, remove } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `oci:${store.dir}:pushed:v1`);
        const client = clientFor(proxy.host);
        const first = await push(client, Reference.parse(`${proxy.host}/pushed:v1`), { store });
        assert.equal(first.uploaded.blobs, 3);
        assert.equal(first.existing.blobs, 0);
        assert.equal(await pullCompletely(server.url, 'pushed', 'v1'), 4);
        proxy.reset();
        const again = await push(client, Reference.parse(`${proxy.host}/pushed:v1`), { store });
        assert.deepEqual([again.uploaded.blobs, again.existing.blobs], [0, 3]);
        assert.ok(!proxy.requests.some((r) => r.method === 'PATCH' || r.method === 'POST'), 'nothing uploaded the second time');
      } finally {
        await remove();
      }
    });

    test('multi-platform: push an index (children first), pull one platform or all, skopeo reads the result', async () => {
      const { store, remove } = await tempStore();
      const { store: pulled, remove: removePulled } = await tempStore();
      try {
        const images = await storeMultiArch(store, 'multi');
        const client = clientFor(server.host);
        await push(client, Reference.parse(`${server.host}/multi:v1`), { store, from: 'multi' });
        const arm = await pull(client, Reference.parse(`${server.host}/multi:v1`), { store: pulled, platform: parsePlatform('linux/arm64') });
        assert.equal(arm.digest, images.arm64!.manifest.digest.toString());
        assert.equal(arm.fetched.blobs, 3);
        assert.equal(await pulled.has(images.amd64!.layers[1]!.digest), false);
        const all = await pull(client, Reference.parse(`${server.host}/multi:v1`), { store: pulled, platform: parsePlatform('all') });
        assert.equal(all.mediaType, MediaType.ociIndex);
        assert.deepEqual([all.fetched.blobs, all.present.blobs], [2, 3], 'the amd64 config and own layer; arm64 blobs and the shared layer were there');
        await skopeoCopy(`oci:${pulled.dir}:${server.host}/multi:v1`, `docker://${server.host}/multi-again:v1`, ['--all']);
        assert.equal(await pullCompletely(server.url, 'multi-again', 'v1'), 1 + 2 * 4, 'the index, and a manifest, config and two layers per platform');
      } finally {
        await remove();
        await removePulled();
      }
    });

    test('a streamed upload cut midway continues from the offset the registry reports', async () => {
      const { store, remove } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `oci:${store.dir}:v1`);
        proxy.reset();
        proxy.cutNextUploadAfter(500_000);
        const result = await push(clientFor(proxy.host), Reference.parse(`${proxy.host}/resumed:v1`), { store, concurrency: 1 });
        assert.equal(result.uploaded.blobs, 3);
        const patches = proxy.requests.filter((r) => r.method === 'PATCH');
        // The cut PATCH, then the one that finished it. Between them, a PATCH sent while the registry was
        // still storing the cut one's bytes is refused with 416, and the client asks for the offset again
        // (distribution-spec, "Pushing a blob in chunks": out of order is 416, then GET the upload's status).
        assert.ok(patches.length >= 2, 'the cut PATCH and the one that finished it');
        const between = patches.slice(1, -1);
        assert.ok(
          between.every((patch) => patch.status === 416),
          `only refused PATCHes between the cut one and the last: ${between.map((patch) => patch.status).join(', ')}`,
        );
        assert.equal(patches.at(-1)!.status, 202, 'the last PATCH took the rest');
        // Berth reports how far the session got; Distribution cannot resume after a broken PATCH, so a new session starts.
        assert.ok(
          proxy.requests.some((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/')),
          'asked the registry for its offset',
        );
        if (registry.name === 'Berth') assert.match(patches.at(-1)!.contentRange ?? '', /^[1-9]\d*-\d+$/, 'the last PATCH starts where the first stopped');
        assert.equal(await pullCompletely(server.url, 'resumed', 'v1'), 4);
      } finally {
        await remove();
      }
    });

    test('5xx answers to idempotent requests are retried after Retry-After', async () => {
      const { store, remove } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/flaky:v1`);
        proxy.reset();
        proxy.failNext('/flaky/manifests/', 503, 2);
        const result = await pull(clientFor(proxy.host), Reference.parse(`${proxy.host}/flaky:v1`), { store, platform: parsePlatform(undefined) });
        assert.equal(result.fetched.blobs, 3);
        assert.deepEqual(
          proxy.requests.filter((r) => r.path.includes('/manifests/')).map((r) => r.status),
          [503, 503, 200],
        );
      } finally {
        await remove();
      }
    });

    test('copy between repositories of one registry mounts instead of uploading', async () => {
      await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/source:v1`);
      proxy.reset();
      const client = clientFor(proxy.host);
      const result = await copy(client, Reference.parse(`${proxy.host}/source:v1`), client, Reference.parse(`${proxy.host}/target:v1`));
      assert.deepEqual([result.mounted.blobs, result.uploaded.blobs], [3, 0]);
      assert.ok(!proxy.requests.some((r) => r.method === 'PATCH' || (r.method === 'GET' && r.path.includes('/blobs/'))), 'no blob bytes moved');
      assert.equal(await pullCompletely(server.url, 'target', 'v1'), 4);
    });

    test('a push mounts blobs the store recorded as pulled from another repository', async () => {
      const { store, remove } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/origin:v1`);
        const client = clientFor(proxy.host);
        await pull(client, Reference.parse(`${proxy.host}/origin:v1`), { store, platform: parsePlatform(undefined) });
        proxy.reset();
        const result = await push(client, Reference.parse(`${proxy.host}/elsewhere:v1`), { store, from: `${proxy.host}/origin:v1` });
        assert.deepEqual([result.mounted.blobs, result.uploaded.blobs], [3, 0]);
        assert.ok(
          proxy.requests.some((r) => r.method === 'POST' && r.path.includes('mount=')),
          'the push tried a cross-repository mount',
        );
      } finally {
        await remove();
      }
    });

    test('copy to another registry streams every blob', async () => {
      const other = await REGISTRIES[0].start();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/far:v1`);
        const result = await copy(
          clientFor(server.host),
          Reference.parse(`${server.host}/far:v1`),
          clientFor(other.host),
          Reference.parse(`${other.host}/near:v1`),
        );
        assert.deepEqual([result.uploaded.blobs, result.mounted.blobs], [3, 0]);
        assert.equal(await pullCompletely(other.url, 'near', 'v1'), 4);
        assert.ok(Digest.parse(result.digest), 'the push reports the manifest digest');
      } finally {
        await other.stop();
      }
    });
  });
}
