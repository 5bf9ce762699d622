import type { LayoutStore } from '../../client/layout-store.ts';
import type { Platform } from '../../oci/descriptor.ts';
import { MediaType } from '../../oci/media-types.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from './content.ts';

/**
 * Writes a single-platform image into a local store under `name`: a config naming `platform`
 * (linux/amd64 by default) and random layers of the given sizes. Returns the manifest.
 */
export async function storeImage(store: LayoutStore, name: string, options: { platform?: Platform; layers?: number[] } = {}): Promise<TestBlob> {
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = blobOf(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] } }));
  const layers = (options.layers ?? [2048]).map((size) => randomBlob(size));
  const manifest = imageManifest(config, layers);
  for (const blob of [config, ...layers, manifest]) await store.putBytes(blob.digest, blob.bytes);
  await store.tag(name, { mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.bytes.length });
  return manifest;
}
