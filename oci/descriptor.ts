import { Digest } from './digest.ts';

/** A content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export class DescriptorParseError extends Error {}

/**
 * How strictly bytes are held to the spec. A push (`push`) is refused for anything the spec forbids:
 * a registry that stores a lie serves it to every later pull. Bytes already stored or fetched
 * (`read`) are held only to what reading them needs, so content an older Berth or another registry
 * accepted still pulls, and gc still sees every blob it references.
 */
export type ParseMode = 'push' | 'read';

/** RFC 6838 §4.2 restricted names, `type/subtype` (image-spec descriptor.md `mediaType`). */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE.test(value);
}

/** RFC 4648 §4 base64 (descriptor.md `data`): whole quanta, padding only at the end. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new DescriptorParseError(`${where}: annotations must map strings to strings`);
  }
  return value as Record<string, string>;
}

/** Parses one descriptor from decoded JSON; `where` names it in errors (e.g. `layers[2]`). */
export function parseDescriptor(value: unknown, where: string, mode: ParseMode = 'read'): Descriptor {
  if (!isRecord(value)) throw new DescriptorParseError(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, urls, annotations, artifactType, platform } = value;
  if (!isMediaType(mediaType)) {
    throw new DescriptorParseError(`${where}: mediaType ${JSON.stringify(mediaType)} is not an RFC 6838 media type`);
  }
  if (typeof digest !== 'string') throw new DescriptorParseError(`${where}: digest is required`);
  const parsed = Digest.tryParse(digest);
  if (!parsed) throw new DescriptorParseError(`${where}: invalid digest "${digest}"`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new DescriptorParseError(`${where}: size must be a non-negative integer`);
  }
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) {
    throw new DescriptorParseError(`${where}: urls must be strings`);
  }
  if (artifactType !== undefined && typeof artifactType !== 'string') {
    throw new DescriptorParseError(`${where}: artifactType must be a string`);
  }
  if (platform !== undefined && (!isRecord(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string')) {
    throw new DescriptorParseError(`${where}: platform needs os and architecture`);
  }
  if (mode === 'push') checkPushed(value, where, parsed, size);
  return {
    mediaType,
    digest: parsed,
    size,
    ...(urls ? { urls: urls as string[] } : {}),
    ...(annotations !== undefined ? { annotations: stringMap(annotations, where) } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(platform ? { platform: platform as unknown as Platform } : {}),
  };
}

/** The descriptor rules a push is held to beyond what reading needs (descriptor.md, image-index.md `platform`). */
function checkPushed(value: Record<string, unknown>, where: string, digest: Digest, size: number): void {
  const { artifactType, platform, data } = value;
  if (artifactType !== undefined && !isMediaType(artifactType)) {
    throw new DescriptorParseError(`${where}: artifactType ${JSON.stringify(artifactType)} is not an RFC 6838 media type`);
  }
  if (isRecord(platform)) {
    for (const field of ['os.version', 'variant'] as const) {
      if (platform[field] !== undefined && typeof platform[field] !== 'string') {
        throw new DescriptorParseError(`${where}: platform.${field} must be a string`);
      }
    }
    const features = platform['os.features'];
    if (features !== undefined && (!Array.isArray(features) || features.some((f) => typeof f !== 'string'))) {
      throw new DescriptorParseError(`${where}: platform.os.features must be an array of strings`);
    }
  }
  if (data !== undefined) checkEmbeddedData(data, where, digest, size);
}

/** descriptor.md `data`: "The decoded data MUST be identical to the referenced content." */
function checkEmbeddedData(data: unknown, where: string, digest: Digest, size: number): void {
  if (typeof data !== 'string' || !BASE64.test(data)) throw new DescriptorParseError(`${where}: data must be base64`);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== size) throw new DescriptorParseError(`${where}: data holds ${bytes.length} bytes, but size is ${size}`);
  if (!Digest.of(bytes, digest.algorithm).equals(digest)) throw new DescriptorParseError(`${where}: data does not match digest ${digest}`);
}

/** A descriptor as JSON (digest as text), the form written into manifests and indexes. */
export function descriptorJSON(descriptor: Descriptor): Record<string, unknown> {
  return { ...descriptor, digest: descriptor.digest.toString() };
}

export function platformString(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
