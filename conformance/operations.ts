import { MANIFEST_ACCEPT, MediaType } from '../oci/media-types.ts';
import { CheckFailure, describe, type CheckContext } from './check.ts';
import { imageManifest, randomContent, type Content } from './content.ts';
import type { CleanupTarget } from './deletes.ts';

/** Pushes a blob the portable way (end-4a POST, then end-6 PUT with the body), for setups. */
export async function pushBlob({ client }: CheckContext, name: string, blob: Content): Promise<void> {
  const start = await client.request('POST', `/v2/${name}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new CheckFailure(`setup: could not start an upload: ${describe(start, ['location'])}`);
  const put = await client.request('PUT', withQuery(location, `digest=${blob.digest}`), {
    body: blob.bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new CheckFailure(`setup: could not push blob ${blob.digest}: ${describe(put)}`);
}

export async function pushManifest({ client }: CheckContext, name: string, reference: string, manifest: Content, mediaType: string = MediaType.ociManifest) {
  return client.request('PUT', `/v2/${name}/manifests/${reference}`, { body: manifest.bytes, headers: { 'Content-Type': mediaType } });
}

/** A config, one layer and the manifest over them. */
export interface TestImage {
  config: Content;
  layer: Content;
  manifest: Content;
}

/** The repository the checks push to (OCI_NAMESPACE). */
export const namespace = (context: CheckContext): string => context.options.namespace;

/**
 * Workflow setup: pushes a small image under each of `tags`, and by digest too when asked (alone, an
 * untagged manifest); a refusal fails the setup with what came back.
 */
export async function pushTestImage(context: CheckContext, name: string, how: { tags?: string[]; byDigest?: boolean; layerSize?: number }): Promise<TestImage> {
  const { tags = [], byDigest = false, layerSize = 1024 } = how;
  const config = randomContent(256);
  const layer = randomContent(layerSize);
  const manifest = imageManifest(config, [layer]);
  await pushBlob(context, name, config);
  await pushBlob(context, name, layer);
  for (const reference of byDigest ? [...tags, `${manifest.digest}`] : tags) {
    const put = await pushManifest(context, name, reference, manifest);
    if (put.status !== 201) throw new CheckFailure(`setup: could not push the test manifest as ${reference}: ${describe(put)}`);
  }
  return { config, layer, manifest };
}

/** GET or HEAD a manifest, accepting every manifest type as clients do ("Pulling manifests"). */
export function fetchManifest({ client }: CheckContext, method: 'GET' | 'HEAD', name: string, reference: string) {
  return client.request(method, `/v2/${name}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
}

/** Appends query parameters to a Location that may already carry some (Distribution's `_state`). */
export function withQuery(location: string, query: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${query}`;
}

/** What cleanup deletes for images pushed to one repository. */
export function imagesTarget(name: string, images: TestImage[]): CleanupTarget {
  return {
    name,
    manifests: images.map((image) => `${image.manifest.digest}`),
    blobs: images.flatMap((image) => [`${image.config.digest}`, `${image.layer.digest}`]),
  };
}
