import { randomBytes } from 'node:crypto';
import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';

/** A blob for tests: random bytes and their digest. */
export interface TestBlob {
  bytes: Buffer;
  digest: Digest;
}

export function randomBlob(size = 1024): TestBlob {
  const bytes = randomBytes(size);
  return { bytes, digest: Digest.of(bytes) };
}

export function blobOf(content: string | Buffer): TestBlob {
  const bytes = Buffer.from(content);
  return { bytes, digest: Digest.of(bytes) };
}

/** An OCI image manifest over a config and layers, with optional subject/artifactType. */
export function imageManifest(
  config: TestBlob,
  layers: TestBlob[],
  extra: { subject?: TestBlob; artifactType?: string; annotations?: Record<string, string>; configMediaType?: string } = {},
): TestBlob {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
    config: { mediaType: extra.configMediaType ?? MediaType.ociConfig, digest: `${config.digest}`, size: config.bytes.length },
    layers: layers.map((layer) => ({ mediaType: MediaType.ociLayerTarGzip, digest: `${layer.digest}`, size: layer.bytes.length })),
    ...(extra.subject
      ? { subject: { mediaType: MediaType.ociManifest, digest: `${extra.subject.digest}`, size: extra.subject.bytes.length } }
      : {}),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
  return blobOf(JSON.stringify(manifest));
}

export function imageIndex(children: { manifest: TestBlob; platform: { os: string; architecture: string } }[]): TestBlob {
  return blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: children.map(({ manifest, platform }) => ({
        mediaType: MediaType.ociManifest,
        digest: `${manifest.digest}`,
        size: manifest.bytes.length,
        platform,
      })),
    }),
  );
}
