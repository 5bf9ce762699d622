import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, type MultipartUpload, type Part } from '@aws-sdk/client-s3';
import type { PurgeOptions, StaleWrites } from '../../driver.ts';
import { statusOf, type S3Bucket } from './s3-bucket.ts';

/** The upload was completed or aborted meanwhile (by the writer, another replica, another gc). */
function isGone(error: unknown): boolean {
  return statusOf(error) === 404 || (error as Error).name === 'NoSuchUpload';
}

/** The server has no ListMultipartUploads: it then keeps no uploads this could list either. */
function isUnsupported(error: unknown): boolean {
  return statusOf(error) === 501 || statusOf(error) === 405 || (error as Error).name === 'NotImplemented';
}

/**
 * Aborts the multipart uploads under `prefix` (a key prefix ending in `/`) that were started before
 * `olderThan` and got no part since. A process killed mid-write (a streamed blob, an upload
 * segment, a part copy) leaves its multipart upload open: no object listing shows it, yet its parts
 * are stored, and billed, until someone aborts it. An old upload still receiving parts is a large
 * write in progress, and stays.
 */
export async function abortAbandonedUploads(bucket: S3Bucket, prefix: string, olderThan: Date, options: PurgeOptions = {}): Promise<StaleWrites> {
  const purged: StaleWrites = { count: 0, bytes: 0 };
  for await (const upload of multipartUploads(bucket, prefix)) {
    if (options.signal?.aborted) break;
    if (!upload.Initiated || upload.Initiated >= olderThan) continue;
    const parts = await partsOf(bucket, upload);
    if (!parts || parts.some((part) => part.LastModified && part.LastModified >= olderThan)) continue;
    if (!options.dryRun && !(await abort(bucket, upload))) continue;
    purged.count++;
    purged.bytes += parts.reduce((total, part) => total + (part.Size ?? 0), 0);
  }
  return purged;
}

async function* multipartUploads(bucket: S3Bucket, prefix: string): AsyncGenerator<MultipartUpload> {
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (;;) {
    const page = await bucket
      .call(() => bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.settings.bucket, Prefix: prefix, ...markers })))
      .catch((error: unknown) => {
        if (isUnsupported(error)) return undefined;
        throw error;
      });
    yield* page?.Uploads ?? [];
    if (!page?.IsTruncated) return;
    markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
  }
}

/** Every part uploaded so far, or undefined when the upload is gone. */
async function partsOf(bucket: S3Bucket, upload: MultipartUpload): Promise<Part[] | undefined> {
  const parts: Part[] = [];
  let marker: string | undefined;
  try {
    for (;;) {
      const page = await bucket.call(() =>
        bucket.client.send(new ListPartsCommand({ Bucket: bucket.settings.bucket, Key: upload.Key, UploadId: upload.UploadId, PartNumberMarker: marker })),
      );
      parts.push(...(page.Parts ?? []));
      if (!page.IsTruncated) return parts;
      marker = page.NextPartNumberMarker;
    }
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/** False when the upload was already gone. */
async function abort(bucket: S3Bucket, upload: MultipartUpload): Promise<boolean> {
  try {
    await bucket.call(() =>
      bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.settings.bucket, Key: upload.Key, UploadId: upload.UploadId })),
    );
    return true;
  } catch (error) {
    if (isGone(error)) return false;
    throw error;
  }
}
