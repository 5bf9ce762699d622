import { DescriptorParseError, isMediaType, parseDescriptor, type Descriptor, type ParseMode } from './descriptor.ts';
import { bareMediaType, IMAGE_MANIFEST_TYPES, INDEX_TYPES, MANIFEST_TYPES, MediaType } from './media-types.ts';

export class ManifestParseError extends Error {}

interface ManifestCommon {
  /** The media type the manifest declares, or that its Content-Type and shape imply. */
  mediaType: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An image manifest (OCI or Docker schema2): a config and layers. */
export interface ImageManifest extends ManifestCommon {
  kind: 'image';
  config: Descriptor;
  layers: Descriptor[];
}

/** An image index or Docker manifest list: child manifests. */
export interface ImageIndex extends ManifestCommon {
  kind: 'index';
  manifests: Descriptor[];
}

export type Manifest = ImageManifest | ImageIndex;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses manifest bytes. The media type comes from the body's `mediaType`, else from the
 * Content-Type, else from the shape (image-spec manifest.md / image-index.md); a body whose
 * `mediaType` contradicts its Content-Type is invalid (distribution-spec "Pushing Manifests").
 * `mode` says whether these are bytes pushed to the registry or bytes it reads (see ParseMode).
 */
export function parseManifest(bytes: Uint8Array, contentType?: string, mode: ParseMode = 'read'): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ManifestParseError('manifest is not valid JSON');
  }
  if (!isRecord(json)) throw new ManifestParseError('manifest must be a JSON object');
  if (json.schemaVersion !== 2) throw new ManifestParseError('schemaVersion must be 2');
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw new ManifestParseError('mediaType must be a string');
  const header = bareMediaType(contentType);
  const headerIsManifest = header !== undefined && MANIFEST_TYPES.includes(header);
  checkContentType(contentType, header, declared, mode === 'push' || headerIsManifest);
  const mediaType = declared ?? (headerIsManifest ? header : 'manifests' in json ? MediaType.ociIndex : MediaType.ociManifest);
  try {
    return INDEX_TYPES.includes(mediaType) ? parseIndex(json, mediaType, mode) : parseImage(json, mediaType, mode);
  } catch (error) {
    if (error instanceof DescriptorParseError) throw new ManifestParseError(error.message);
    throw error;
  }
}

/**
 * distribution-spec "Pushing Manifests": the Content-Type names a media type (its parameters are
 * ignored), and "If a manifest includes a `mediaType` field, clients MUST set the `Content-Type`
 * header to the value specified by the `mediaType` field." A push is held to both (`strict`); a
 * manifest read from another server only to a manifest Content-Type, as servers label them loosely.
 */
function checkContentType(contentType: string | undefined, header: string | undefined, declared: string | undefined, strict: boolean): void {
  if (!strict || !contentType?.trim()) return;
  if (!isMediaType(header)) throw new ManifestParseError(`Content-Type "${contentType}" is not a media type`);
  if (declared && declared.toLowerCase() !== header) {
    throw new ManifestParseError(`mediaType "${declared}" does not match Content-Type "${header}"`);
  }
}

function common(json: Record<string, unknown>, mediaType: string, mode: ParseMode): ManifestCommon {
  const { subject, artifactType, annotations } = json;
  if (artifactType !== undefined && typeof artifactType !== 'string') throw new ManifestParseError('artifactType must be a string');
  // manifest.md / image-index.md `artifactType`: "the value MUST comply with RFC 6838".
  if (mode === 'push' && artifactType !== undefined && !isMediaType(artifactType)) {
    throw new ManifestParseError(`artifactType "${artifactType}" is not an RFC 6838 media type`);
  }
  if (annotations !== undefined && (!isRecord(annotations) || Object.values(annotations).some((v) => typeof v !== 'string'))) {
    throw new ManifestParseError('annotations must map strings to strings');
  }
  return {
    mediaType,
    ...(subject !== undefined ? { subject: parseDescriptor(subject, 'subject', mode) } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(annotations !== undefined ? { annotations: annotations as Record<string, string> } : {}),
  };
}

function descriptorList(value: unknown, field: string, mode: ParseMode): Descriptor[] {
  if (value === undefined) throw new ManifestParseError(`${field} is missing: it must be an array of descriptors`);
  if (!Array.isArray(value)) throw new ManifestParseError(`${field} must be an array of descriptors, not ${value === null ? 'null' : typeof value}`);
  return value.map((item, i) => parseDescriptor(item, `${field}[${i}]`, mode));
}

function parseImage(json: Record<string, unknown>, mediaType: string, mode: ParseMode): ImageManifest {
  if (!IMAGE_MANIFEST_TYPES.includes(mediaType)) throw new ManifestParseError(`unsupported manifest media type "${mediaType}"`);
  if ('manifests' in json) throw new ManifestParseError('an image manifest has no "manifests" field');
  return {
    kind: 'image',
    ...common(json, mediaType, mode),
    config: parseDescriptor(json.config, 'config', mode),
    // Go tools marshal a nil slice as `"layers": null`; such manifests stored elsewhere are still read.
    layers: descriptorList(mode === 'push' ? json.layers : (json.layers ?? []), 'layers', mode),
  };
}

/** Media types Berth knows to name content other than a manifest: a layer, a config, the empty blob. */
const NOT_MANIFEST_TYPES: readonly string[] = Object.values(MediaType).filter((type) => !MANIFEST_TYPES.includes(type));

function parseIndex(json: Record<string, unknown>, mediaType: string, mode: ParseMode): ImageIndex {
  if ('config' in json || 'layers' in json) throw new ManifestParseError('an index has no "config" or "layers" field');
  const manifests = descriptorList(json.manifests, 'manifests', mode);
  // image-index.md: `manifests` "contains a list of manifests"; a type unknown here "MUST NOT generate an error".
  const blob = mode === 'push' ? manifests.findIndex((child) => NOT_MANIFEST_TYPES.includes(child.mediaType)) : -1;
  if (blob >= 0) throw new ManifestParseError(`manifests[${blob}]: ${manifests[blob]!.mediaType} is not a manifest media type`);
  return { kind: 'index', ...common(json, mediaType, mode), manifests };
}

/** Every descriptor the manifest references and a registry must hold (subject excluded). */
export function referencedDescriptors(manifest: Manifest): Descriptor[] {
  return manifest.kind === 'image' ? [manifest.config, ...manifest.layers] : manifest.manifests;
}

/** The artifactType a referrers listing reports (distribution-spec "Listing Referrers"). */
export function referrerArtifactType(manifest: Manifest): string | undefined {
  if (manifest.artifactType) return manifest.artifactType;
  return manifest.kind === 'image' ? manifest.config.mediaType : undefined;
}

const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/**
 * The media type stored manifest bytes declare, without validating them, so content another
 * registry wrote (a Docker schema1 manifest in a registry:2 root, say) is still served.
 */
export function declaredMediaType(bytes: Uint8Array): string {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    if (typeof json.mediaType === 'string') return json.mediaType;
    if (json.schemaVersion === 1) return DOCKER_SCHEMA1_SIGNED;
    return 'manifests' in json ? MediaType.ociIndex : MediaType.ociManifest;
  } catch {
    return MediaType.ociManifest;
  }
}
