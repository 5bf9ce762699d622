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

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

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
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value)) throw new DescriptorParseError(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, urls, annotations, artifactType, platform } = value;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType)) {
    throw new DescriptorParseError(`${where}: mediaType must be a media type`);
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

/** A descriptor as JSON (digest as text), the form written into manifests and indexes. */
export function descriptorJSON(descriptor: Descriptor): Record<string, unknown> {
  return { ...descriptor, digest: descriptor.digest.toString() };
}

export function platformString(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
