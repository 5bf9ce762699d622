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

/** The subject, artifactType and annotations fields of a manifest or index (image-spec v1.1). */
function extraFields(extra: ManifestExtras): Record<string, unknown> {
  return {
    ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
    ...(extra.subject ? { subject: { mediaType: MediaType.ociManifest, digest: `${extra.subject.digest}`, size: extra.subject.bytes.length } } : {}),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

/** An OCI image manifest over a config and layers (image-spec manifest.md). */
export function imageManifest(config: Content, layers: Content[], extra: ManifestExtras = {}): Content {
  const { artifactType, subject, annotations } = extraFields(extra);
  return contentOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType,
      config: { mediaType: extra.configMediaType ?? MediaType.ociConfig, digest: `${config.digest}`, size: config.bytes.length },
      layers: layers.map((layer) => ({ mediaType: MediaType.ociLayerTarGzip, digest: `${layer.digest}`, size: layer.bytes.length })),
      subject,
      annotations,
    }),
  );
}

/** An OCI image index over manifests, each with its platform if it has one (image-spec image-index.md). */
export function imageIndex(children: { manifest: Content; platform?: { os: string; architecture: string } }[], extra: ManifestExtras = {}): Content {
  return contentOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: children.map(({ manifest, platform }) => ({
        mediaType: MediaType.ociManifest,
        digest: `${manifest.digest}`,
        size: manifest.bytes.length,
        ...(platform ? { platform } : {}),
      })),
      ...extraFields(extra),
    }),
  );
}
