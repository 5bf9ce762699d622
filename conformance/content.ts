import { randomBytes } from 'node:crypto';
import { Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';

/** Content to push: bytes and their digest. */
export interface Content {
  bytes: Buffer;
  digest: Digest;
}

export function contentOf(data: string | Buffer, algorithm: DigestAlgorithm = 'sha256'): Content {
  const bytes = Buffer.from(data);
  return { bytes, digest: Digest.of(bytes, algorithm) };
}

/** Fresh random bytes, so each run pushes content no registry holds yet. */
export function randomContent(size = 1024, algorithm: DigestAlgorithm = 'sha256'): Content {
  return contentOf(randomBytes(size), algorithm);
}

export interface ManifestExtras {
  subject?: Content;
  artifactType?: string;
  annotations?: Record<string, string>;
  configMediaType?: string;
}

/** An OCI image manifest over a config and layers (image-spec manifest.md). */
export function imageManifest(config: Content, layers: Content[], extra: ManifestExtras = {}): Content {
  return contentOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
      config: { mediaType: extra.configMediaType ?? MediaType.ociConfig, digest: `${config.digest}`, size: config.bytes.length },
      layers: layers.map((layer) => ({ mediaType: MediaType.ociLayerTarGzip, digest: `${layer.digest}`, size: layer.bytes.length })),
      ...(extra.subject
        ? { subject: { mediaType: MediaType.ociManifest, digest: `${extra.subject.digest}`, size: extra.subject.bytes.length } }
        : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    }),
  );
}

/** An OCI image index over platform manifests (image-spec image-index.md). */
export function imageIndex(children: { manifest: Content; platform: { os: string; architecture: string } }[]): Content {
  return contentOf(
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
