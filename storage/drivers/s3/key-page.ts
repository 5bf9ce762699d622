import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';

/** One page of a listing of keys under a prefix (ListObjectsV2). */
export interface KeyPage {
  keys: { key: string; size: number; modified: Date }[];
  /** With a delimiter: each distinct start of the keys up to and including it. */
  prefixes: string[];
  /** Where the next page starts, when there is one. */
  next?: string;
}

/** The SDK's answer as a page. */
export function keyPageOf(output: ListObjectsV2CommandOutput): KeyPage {
  return {
    keys: (output.Contents ?? []).map((object) => ({ key: object.Key!, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) })),
    prefixes: (output.CommonPrefixes ?? []).map((common) => common.Prefix!),
    ...(output.IsTruncated && output.NextContinuationToken ? { next: output.NextContinuationToken } : {}),
  };
}

/**
 * Every value a string, as written: a key of digits stays a key, and one with spaces at its ends
 * keeps them. Numeric character references decoded: S3 writes a key's CR and LF as `&#13;`, `&#10;`.
 */
const parser = new XMLParser({
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => name === 'Contents' || name === 'CommonPrefixes',
});

/** A time as S3 writes it, or the epoch for one that is missing or unreadable. */
function timeOf(text: string | undefined): Date {
  const time = new Date(text ?? 0);
  return Number.isNaN(time.getTime()) ? new Date(0) : time;
}

interface ListBucketResult {
  IsTruncated?: string;
  NextContinuationToken?: string;
  Contents?: { Key?: string; Size?: string; LastModified?: string }[];
  CommonPrefixes?: { Prefix?: string }[];
}

/**
 * A ListObjectsV2 answer's body as a page; undefined where it is not a whole one (the parser takes
 * a body cut short as far as it goes), or names no next page though it says there is one.
 */
export function parseKeyPage(xml: string): KeyPage | undefined {
  if (!xml.trimEnd().endsWith('</ListBucketResult>')) return undefined;
  let result: ListBucketResult | undefined;
  try {
    result = (parser.parse(xml) as { ListBucketResult?: ListBucketResult }).ListBucketResult;
  } catch {
    return undefined;
  }
  if (!result || typeof result !== 'object') return undefined;
  const next = result.IsTruncated === 'true' ? result.NextContinuationToken : undefined;
  if (result.IsTruncated === 'true' && !next) return undefined;
  const contents = result.Contents ?? [];
  const prefixes = result.CommonPrefixes ?? [];
  if (contents.some((object) => typeof object.Key !== 'string') || prefixes.some((common) => typeof common.Prefix !== 'string')) return undefined;
  return {
    keys: contents.map((object) => ({ key: object.Key!, size: Number(object.Size ?? 0), modified: timeOf(object.LastModified) })),
    prefixes: prefixes.map((common) => common.Prefix!),
    ...(next ? { next } : {}),
  };
}
