import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { statusOf, type S3Bucket } from './s3-bucket.ts';

/** S3's limit for CopyObject and for one UploadPartCopy. */
const MAX_COPY = 5 * 1024 ** 3;
/** Ranges of a large source copied as separate parts. */
const COPY_PART = 1024 ** 3;
/** Every multipart part but the last must be at least this large. */
export const MIN_PART = 5 * 1024 * 1024;

/** A source for one server-side part copy: a key, optionally a byte range of it. */
export interface PartSource {
  key: string;
  start: number;
  end: number;
}

/** CopySource must be URL-encoded (`encodeURI`), bucket first. */
function copySource(bucket: S3Bucket, key: string): string {
  return encodeURI(`${bucket.settings.bucket}/${key}`);
}

/**
 * The server refused this way of copying: it lacks the operation (501, 405) or rejects the part
 * layout (400, e.g. R2 wants parts of equal size). Streaming the bytes once still works there.
 */
function copyRefused(error: unknown): boolean {
  const status = statusOf(error);
  return status === 400 || status === 405 || status === 501 || (error as Error).name === 'NotImplemented';
}

/**
 * Assembles `to` from server-side part copies. Returns false, leaving nothing behind, when the
 * server refuses them, so the caller can stream the bytes instead.
 */
export async function copyParts(bucket: S3Bucket, sources: PartSource[], to: string): Promise<boolean> {
  const name = bucket.settings.bucket;
  const { UploadId } = await bucket.call(() => bucket.client.send(new CreateMultipartUploadCommand({ Bucket: name, Key: to })));
  try {
    const parts: CompletedPart[] = [];
    for (const [i, source] of sources.entries()) {
      const result = await bucket.call(() =>
        bucket.client.send(
          new UploadPartCopyCommand({
            Bucket: name,
            Key: to,
            UploadId,
            PartNumber: i + 1,
            CopySource: copySource(bucket, source.key),
            CopySourceRange: `bytes=${source.start}-${source.end - 1}`,
          }),
        ),
      );
      parts.push({ PartNumber: i + 1, ETag: result.CopyPartResult?.ETag });
    }
    await bucket.call(() => bucket.client.send(new CompleteMultipartUploadCommand({ Bucket: name, Key: to, UploadId, MultipartUpload: { Parts: parts } })));
    return true;
  } catch (error) {
    await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: name, Key: to, UploadId })).catch(() => undefined);
    if (copyRefused(error)) return false;
    throw error;
  }
}

/** Splits one object into part-copy ranges S3 accepts: at most 5 GiB, and no tail under 5 MiB. */
export function rangesOf(key: string, size: number): PartSource[] {
  const ranges: PartSource[] = [];
  for (let start = 0; start < size; start += COPY_PART) ranges.push({ key, start, end: Math.min(start + COPY_PART, size) });
  const tail = ranges[ranges.length - 1];
  if (ranges.length > 1 && tail && tail.end - tail.start < MIN_PART) {
    ranges.pop();
    ranges[ranges.length - 1]!.end = tail.end;
  }
  return ranges;
}

/** Streams bytes into `to`: the fallback when server-side copies are out. */
export async function streamInto(bucket: S3Bucket, source: () => Promise<Readable>, to: string): Promise<void> {
  await bucket.upload(to, await source());
}

/** Copies one object server-side: CopyObject up to 5 GiB, part copies above, streaming as a last resort. */
export async function copyObject(bucket: S3Bucket, from: string, to: string, size: number): Promise<void> {
  if (size <= MAX_COPY) {
    try {
      await bucket.call(() => bucket.client.send(new CopyObjectCommand({ Bucket: bucket.settings.bucket, Key: to, CopySource: copySource(bucket, from) })));
      return;
    } catch (error) {
      if (!copyRefused(error)) throw error;
    }
  } else if (await copyParts(bucket, rangesOf(from, size), to)) {
    return;
  }
  await streamInto(bucket, () => bucket.reader(from), to);
}
