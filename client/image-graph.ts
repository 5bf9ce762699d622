import type { Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/descriptor.ts';
import { parseManifest } from '../oci/manifest.ts';
import { selectPlatform, type PlatformChoice } from './platform.ts';
import type { FetchedManifest } from './registry-client.ts';

/** The manifests (children before parents) and distinct blobs one image reference reaches. */
export interface ImageGraph {
  root: FetchedManifest;
  manifests: FetchedManifest[];
  blobs: Descriptor[];
}

export type ManifestSource = (digest: Digest) => Promise<FetchedManifest>;

export function descriptorOf(fetched: FetchedManifest): Descriptor {
  return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
}

/** A FetchedManifest from bytes already held (the local store), by their digest. */
export function manifestFromBytes(bytes: Buffer, digest: Digest, mediaType?: string): FetchedManifest {
  const manifest = parseManifest(bytes, mediaType);
  return { bytes, manifest, mediaType: manifest.mediaType, digest };
}

/**
 * Walks from `top`: an index narrows to one platform's image unless every platform is wanted,
 * in which case every child (and theirs) is included under the index.
 */
export async function resolveGraph(top: FetchedManifest, choice: PlatformChoice, fetch: ManifestSource): Promise<ImageGraph> {
  let root = top;
  if (root.manifest.kind === 'index' && !choice.all) root = await fetch(selectPlatform(root.manifest.manifests, choice.platform).digest);
  const manifests: FetchedManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const visit = async (node: FetchedManifest): Promise<void> => {
    if (seen.has(node.digest.toString())) return;
    seen.add(node.digest.toString());
    if (node.manifest.kind === 'index') {
      for (const child of node.manifest.manifests) await visit(await fetch(child.digest));
    } else {
      for (const blob of [node.manifest.config, ...node.manifest.layers]) blobs.set(blob.digest.toString(), blob);
    }
    manifests.push(node);
  };
  await visit(root);
  return { root, manifests, blobs: [...blobs.values()] };
}
