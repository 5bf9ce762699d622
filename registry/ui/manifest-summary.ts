import type { Digest } from '../../oci/digest.ts';
import { referrerArtifactType } from '../../oci/manifest.ts';
import type { Store } from '../../storage/store.ts';
import type { ManifestReader } from './manifest-reader.ts';

/** One manifest as the repository and image pages list it. */
export interface ManifestSummary {
  digest: string;
  mediaType: string;
  kind: 'index' | 'image' | 'unreadable';
  /** A referrer's type (a signature, an SBOM, an attestation): its artifactType or config media type. */
  artifactType?: string;
  /** Bytes of the distinct blobs it reaches, itself included. */
  bytes: number;
  platforms: string[];
  pushed?: string;
  pulled?: string;
  annotations?: Record<string, string>;
}

export async function summarize(store: Store, reader: ManifestReader, name: string, digest: Digest): Promise<ManifestSummary> {
  const [manifest, bytes, times] = await Promise.all([reader.manifest(digest), reader.totalBytes(digest), store.times.read(name, digest)]);
  const artifactType = manifest && manifest.subject ? referrerArtifactType(manifest) : undefined;
  return {
    digest: digest.toString(),
    mediaType: manifest?.mediaType ?? 'unknown',
    kind: manifest?.kind ?? 'unreadable',
    ...(artifactType ? { artifactType } : {}),
    bytes,
    platforms: manifest ? await reader.platforms(manifest) : [],
    ...(times.pushed ? { pushed: times.pushed.toISOString() } : {}),
    ...(times.pulled ? { pulled: times.pulled.toISOString() } : {}),
    ...(manifest?.annotations ? { annotations: manifest.annotations } : {}),
  };
}
