import { Readable } from 'node:stream';
import { imageManifest, randomContent, type Content } from '../conformance/content.ts';
import { MediaType } from '../oci/media-types.ts';
import { pushBlob, type BlobSource } from './blob-push.ts';
import type { BenchServer } from './servers.ts';

/** The repository and tag of the small image the request-rate workloads hammer. */
export const SMALL_IMAGE = { repository: 'bench/small', tag: 'latest' };

const layers = new Map<string, Content>();

function source(content: Content): BlobSource {
  return { digest: `${content.digest}`, size: content.bytes.length, stream: () => Readable.from([content.bytes]) };
}

/** Pushes a small image (one 4 KiB layer) once per running server; returns the digest of its layer. */
export async function pushSmallImage(server: BenchServer): Promise<string> {
  const pushed = layers.get(server.url);
  if (pushed) return `${pushed.digest}`;
  const config = randomContent(300);
  const layer = randomContent(4096);
  await pushBlob(server, SMALL_IMAGE.repository, source(config));
  await pushBlob(server, SMALL_IMAGE.repository, source(layer));
  const manifest = imageManifest(config, [layer]);
  const response = await fetch(`${server.url}/v2/${SMALL_IMAGE.repository}/manifests/${SMALL_IMAGE.tag}`, {
    method: 'PUT',
    body: manifest.bytes as unknown as BodyInit,
    headers: { 'Content-Type': MediaType.ociManifest },
  });
  if (response.status !== 201) throw new Error(`manifest push to ${server.name}: ${response.status} ${await response.text()}`);
  layers.set(server.url, layer);
  return `${layer.digest}`;
}
