/**
 * The manifest and descriptor parsers (oci/manifest.ts, oci/descriptor.ts): what a push is refused
 * for, and what reading stored bytes still tolerates. Sections refer to ../shared/specs/image-spec-v1.1.1/
 * and distribution-spec-v1.1.1/spec.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { ManifestParseError, parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';

const config = { mediaType: MediaType.ociConfig, digest: `${Digest.of('{}')}`, size: 2 };
const layer = { mediaType: MediaType.ociLayerTarGzip, digest: `${Digest.of('layer')}`, size: 5 };
const child = { mediaType: MediaType.ociManifest, digest: `${Digest.of('child')}`, size: 5 };

function image(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer], ...fields };
}

function index(manifests: unknown): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

function bytes(json: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(json));
}

/** Parses as a push with the manifest's own media type as Content-Type, unless one is given. */
function push(json: Record<string, unknown>, contentType = String(json.mediaType)): void {
  parseManifest(bytes(json), contentType, 'push');
}

function refused(json: Record<string, unknown>, message: RegExp, contentType?: string): void {
  assert.throws(
    () => push(json, contentType),
    (error: unknown) => error instanceof ManifestParseError && message.test(error.message),
    message.source,
  );
}

describe('parseManifest on push', () => {
  // manifest.md `layers` ("Each item in the array MUST be a descriptor"), `config` ("This REQUIRED property");
  // image-index.md `manifests` ("This REQUIRED property"); descriptor.md "Properties".
  it('refuses fields of the wrong type, naming the field', () => {
    push(image());
    push(index([{ ...child, platform: { os: 'linux', architecture: 'arm64', variant: 'v8', 'os.features': ['sse4'] } }]));
    const cases: [Record<string, unknown>, RegExp][] = [
      [image({ layers: null }), /^layers must be an array of descriptors, not null$/],
      [image({ layers: undefined }), /^layers is missing/],
      [image({ layers: { 0: layer } }), /^layers must be an array/],
      [image({ config: undefined }), /^config: descriptor must be an object$/],
      [image({ config: 'sha256:abc' }), /^config: descriptor must be an object$/],
      [index({ 0: child }), /^manifests must be an array/],
      [image({ layers: [{ ...layer, size: -1 }] }), /^layers\[0\]: size must be a non-negative integer$/],
      [image({ layers: [{ ...layer, size: 1.5 }] }), /^layers\[0\]: size must be a non-negative integer$/],
      [image({ layers: [{ ...layer, size: '5' }] }), /^layers\[0\]: size must be a non-negative integer$/],
      [image({ layers: [{ ...layer, digest: 5 }] }), /^layers\[0\]: digest is required$/],
      [image({ layers: [{ ...layer, mediaType: 'garbage/' }] }), /^layers\[0\]: mediaType "garbage\/" is not an RFC 6838 media type$/],
      [image({ layers: [{ ...layer, artifactType: 'sbom' }] }), /^layers\[0\]: artifactType "sbom" is not an RFC 6838 media type$/],
      [image({ artifactType: 'not a type' }), /^artifactType "not a type" is not an RFC 6838 media type$/],
      [index([{ ...child, platform: { os: 'linux', architecture: 'amd64', 'os.version': 10 } }]), /^manifests\[0\]: platform\.os\.version must be a string$/],
      [index([{ ...child, platform: { os: 'linux', architecture: 'arm', variant: 7 } }]), /^manifests\[0\]: platform\.variant must be a string$/],
      [
        index([{ ...child, platform: { os: 'windows', architecture: 'amd64', 'os.features': 'win32k' } }]),
        /^manifests\[0\]: platform\.os\.features must be an array of strings$/,
      ],
    ];
    for (const [json, message] of cases) refused(json, message);
  });

  // descriptor.md `data`: "The decoded data MUST be identical to the referenced content".
  it('refuses embedded data that is not base64 or not the content the descriptor names', () => {
    const embedded = { ...config, data: Buffer.from('{}').toString('base64') };
    push(image({ config: embedded }));
    refused(image({ config: { ...embedded, data: '{}' } }), /^config: data must be base64$/);
    refused(image({ config: { ...embedded, data: Buffer.from('{ }').toString('base64') } }), /^config: data holds 3 bytes, but size is 2$/);
    refused(image({ config: { ...embedded, data: Buffer.from('[]').toString('base64') } }), /^config: data does not match digest sha256:/);
  });

  // distribution-spec "Pushing Manifests": "If a manifest includes a `mediaType` field, clients MUST set the
  // `Content-Type` header to the value specified by the `mediaType` field."
  // "The registry SHOULD ignore parameters on the `Content-Type` header."
  it('refuses a Content-Type that is not a media type, or that disagrees with the mediaType field', () => {
    push(image(), `${MediaType.ociManifest}; charset=utf-8`);
    parseManifest(bytes(image()), undefined, 'push');
    refused(image(), /^Content-Type "garbage\/;;;" is not a media type$/, 'garbage/;;;');
    refused(image(), /^Content-Type ";;;" is not a media type$/, ';;;');
    refused(image(), /^mediaType "application\/vnd.oci.image.manifest.v1\+json" does not match Content-Type "application\/json"$/, 'application/json');
  });

  // image-index.md `manifests`: "This REQUIRED property contains a list of manifests", and of its `mediaType`:
  // "An encountered `mediaType` that is unknown to the implementation MUST NOT generate an error."
  it('refuses an index child typed as a layer or config, and accepts one of a media type it does not know', () => {
    refused(index([layer]), /^manifests\[0\]: application\/vnd.oci.image.layer.v1.tar\+gzip is not a manifest media type$/);
    refused(index([child, config]), /^manifests\[1\]: application\/vnd.oci.image.config.v1\+json is not a manifest media type$/);
    push(index([{ ...child, mediaType: 'application/vnd.example.future.manifest.v2+json' }]));
  });
});

describe('parseManifest on read', () => {
  // Go tools marshal a nil slice as `"layers": null`: a manifest another registry (or an older Berth) stored
  // that way must still be read, or gc would lose sight of its config.
  it('still reads stored bytes that a push is now refused for', () => {
    const stored = bytes(image({ layers: null, artifactType: 'sbom' }));
    assert.throws(() => parseManifest(stored, undefined, 'push'), ManifestParseError);
    const manifest = parseManifest(stored);
    assert.equal(manifest.kind === 'image' && manifest.layers.length, 0);
    assert.equal(parseManifest(bytes(image()), 'application/octet-stream').mediaType, MediaType.ociManifest);
  });
});
