import type { Readable } from 'node:stream';
import { DigestMismatchError, type Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/descriptor.ts';
import { RegistryResponseError } from './errors.ts';
import type { BlobOutcome, TransferProgress } from './progress.ts';
import type { RegistryClient } from './registry-client.ts';

/** Blobs up to this size go in one request; larger ones stream in a PATCH. */
export const SMALL_BLOB_LIMIT = 1024 * 1024;

/** Where a blob's bytes come from for an upload: the local store or another registry. */
export interface BlobSource {
  /** The whole blob in memory (used for small blobs only). */
  bytes(descriptor: Descriptor): Promise<Buffer>;
  /** The blob's bytes from `offset` on. */
  open(descriptor: Descriptor, offset: number): Promise<Readable>;
}

export interface UploadOptions {
  source: BlobSource;
  /** Repositories of the target registry known to hold the blob: mount from these first. */
  mountFrom: string[];
  progress: TransferProgress;
  /** Streamed upload attempts; each resumes from the registry's reported offset. */
  attempts?: number;
}

/** Counts bytes into the progress reporter as they leave; `sent()` says how many did. */
function metered(stream: Readable, digest: Digest, progress: TransferProgress): { stream: Readable; sent: () => number } {
  let sent = 0;
  stream.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    progress.advance(digest.toString(), chunk.length);
  });
  return { stream, sent: () => sent };
}

/**
 * Makes `descriptor` present in `repository`: nothing if the registry has it (HEAD), a mount if a
 * known repository holds it, else an upload: one request when small, a streamed PATCH when large,
 * resumed from the offset the registry reports after a failure.
 */
export async function uploadBlob(client: RegistryClient, repository: string, descriptor: Descriptor, options: UploadOptions): Promise<BlobOutcome> {
  const { digest, size } = descriptor;
  const { progress } = options;
  const done = (outcome: BlobOutcome): BlobOutcome => {
    progress.finish(digest.toString(), outcome, size);
    return outcome;
  };
  if (await client.hasBlob(repository, digest)) return done('exists');
  for (const from of options.mountFrom.filter((name) => name !== repository)) {
    if (await client.mountBlob(repository, digest, from)) return done('mounted');
  }
  progress.start(digest.toString(), size);
  if (size <= SMALL_BLOB_LIMIT) {
    await client.uploadSmall(repository, digest, await options.source.bytes(descriptor));
    progress.advance(digest.toString(), size);
    return done('uploaded');
  }
  let location = await client.startUpload(repository);
  let offset = 0;
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const body = metered(await options.source.open(descriptor, offset), digest, progress);
    try {
      location = await client.patchUpload(repository, location, body.stream, offset, size - offset);
      break;
    } catch (error) {
      body.stream.destroy();
      if (attempt >= attempts || error instanceof DigestMismatchError) throw error;
      const status = await client.uploadStatus(repository, location).catch(async (statusError: unknown) => {
        // A registry that lost the session, or cannot resume it after a broken request (Distribution
        // checks its `_state` offset), gets the blob again in a new session.
        if (!(statusError instanceof RegistryResponseError) || statusError.status >= 500) throw statusError;
        return { offset: 0, location: await client.startUpload(repository) };
      });
      // Bytes the registry did not keep are sent again: take them off the progress count.
      progress.rewind(digest.toString(), offset + body.sent() - status.offset);
      ({ offset, location } = status);
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 5000)));
    }
  }
  await client.finishUpload(repository, location, digest);
  return done('uploaded');
}
