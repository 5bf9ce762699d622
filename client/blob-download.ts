import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Digest, DigestMismatchError } from '../oci/digest.ts';
import type { Descriptor } from '../oci/descriptor.ts';
import { BlobFile } from './blob-file.ts';
import { RegistryResponseError, SizeMismatchError } from './errors.ts';
import type { LayoutStore } from './layout-store.ts';
import type { TransferProgress } from './progress.ts';
import type { RegistryClient } from './registry-client.ts';

export interface DownloadOptions {
  /** Attempts per blob; each one resumes from the bytes already on disk. */
  attempts?: number;
  progress: TransferProgress;
}

async function partialSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The hash of the bytes a partial file already holds, to continue from. */
async function hashOf(path: string, algorithm: string): Promise<Hash> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

/** Counts bytes into the progress reporter, and stops a body that runs past the descriptor's size. */
function meter(descriptor: Descriptor, offset: number, progress: TransferProgress): (chunk: Buffer) => void {
  let seen = offset;
  return (chunk) => {
    seen += chunk.length;
    if (seen > descriptor.size) throw new SizeMismatchError(`${descriptor.digest}: more than the ${descriptor.size} bytes its descriptor gives`);
    progress.advance(descriptor.digest.toString(), chunk.length);
  };
}

function retryable(error: unknown): boolean {
  if (error instanceof DigestMismatchError || error instanceof SizeMismatchError) return false;
  if (error instanceof RegistryResponseError) return error.status >= 500 || error.status === 429 || error.status === 408;
  return true;
}

/**
 * Downloads one blob into the store: bytes go to a partial file and are hashed as they stream;
 * an interrupted transfer continues with `Range` from what the partial file holds (starting over
 * if the server answers 200 instead of 206); the blob lands under its digest only once verified.
 * Returns the bytes that crossed the wire.
 */
export async function downloadBlob(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  store: LayoutStore,
  options: DownloadOptions,
): Promise<number> {
  const { digest } = descriptor;
  const partial = store.partialPath(digest);
  const attempts = options.attempts ?? 5;
  let received = 0;
  options.progress.start(digest.toString(), descriptor.size);
  for (let attempt = 1; ; attempt++) {
    let offset = await partialSize(partial);
    if (offset > descriptor.size) {
      await truncate(partial, 0);
      offset = 0;
    }
    try {
      const hash = offset > 0 ? await hashOf(partial, digest.algorithm) : undefined;
      const response = await client.openBlob(repository, digest, offset);
      if (offset > 0 && response.status === 200) {
        // The server ignored Range: the body starts at byte 0, so the partial file does too.
        options.progress.rewind(digest.toString(), offset);
        return await finish(0, undefined, response.body);
      }
      if (attempt === 1) options.progress.advance(digest.toString(), offset);
      return await finish(offset, hash, response.body);
    } catch (error) {
      if (error instanceof DigestMismatchError || error instanceof SizeMismatchError) await store.discardPartial(digest);
      if (attempt >= attempts || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 5000)));
    }
  }

  async function finish(offset: number, hash: Hash | undefined, body: NodeJS.ReadableStream): Promise<number> {
    const file = new BlobFile(partial, offset > 0, hash ?? createHash(digest.algorithm), meter(descriptor, offset, options.progress));
    try {
      await pipeline(body, file);
    } finally {
      received += file.bytes;
    }
    const total = offset + file.bytes;
    if (total < descriptor.size) throw new Error(`${digest}: the body ended after ${total} of ${descriptor.size} bytes`);
    const actual = Digest.fromHash(digest.algorithm, file.hash);
    if (!actual.equals(digest)) throw new DigestMismatchError(digest, actual, `${repository}@${digest}`);
    await store.commitPartial(digest);
    options.progress.finish(digest.toString(), 'fetched', descriptor.size);
    return received;
  }
}
