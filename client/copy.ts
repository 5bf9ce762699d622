import { Transform, type Readable } from 'node:stream';
import { DigestingStream, DigestMismatchError } from '../oci/digest.ts';
import type { Descriptor } from '../oci/descriptor.ts';
import type { Reference } from '../oci/reference.ts';
import { uploadBlob, type BlobSource } from './blob-upload.ts';
import { RegistryResponseError } from './errors.ts';
import { resolveGraph } from './image-graph.ts';
import { mapLimit } from './parallel.ts';
import { checkImagePlatform, type PlatformChoice } from './platform.ts';
import { silentProgress, type TransferProgress } from './progress.ts';
import { DEFAULT_PUSH_CONCURRENCY, emptyPushResult, pushManifests, tally, type PushResult } from './push.ts';
import type { RegistryClient } from './registry-client.ts';

export interface CopyOptions {
  /** Every platform of an index by default, as `crane copy` and `skopeo copy --all` do. */
  platform?: PlatformChoice;
  concurrency?: number;
  progress?: TransferProgress;
}

export interface CopyResult extends PushResult {
  source: string;
}

/** Fails the stream at its end if the bytes that went through do not hash to the descriptor's digest. */
function verifying(descriptor: Descriptor, source: string): Transform {
  const digesting = new DigestingStream(descriptor.digest.algorithm);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      digesting.hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = digesting.digest();
      callback(actual.equals(descriptor.digest) ? null : new DigestMismatchError(descriptor.digest, actual, source));
    },
  });
}

/** Blobs read from another registry as they are sent: nothing lands on local disk. */
function remoteSource(client: RegistryClient, repository: string): BlobSource {
  return {
    bytes: (descriptor) => client.getBlobBytes(repository, descriptor.digest),
    async open(descriptor, offset): Promise<Readable> {
      const response = await client.openBlob(repository, descriptor.digest, offset);
      if (offset === 0) return response.body.pipe(verifying(descriptor, `${client.registry}/${repository}@${descriptor.digest}`));
      if (response.status === 206) return response.body;
      response.body.destroy();
      // The destination checks the digest of a resumed upload; without Range the source cannot resume.
      throw new RegistryResponseError('GET', `${client.registry}/${repository}@${descriptor.digest}`, response.status, [
        { code: 'RANGE_UNSUPPORTED', message: `cannot resume at byte ${offset}: the source ignored Range` },
      ]);
    },
  };
}

/**
 * Copies an image registry to registry, streaming each blob from source to destination. Within
 * one registry blobs are mounted from the source repository instead of moved.
 */
export async function copy(source: RegistryClient, from: Reference, target: RegistryClient, to: Reference, options: CopyOptions = {}): Promise<CopyResult> {
  const progress = options.progress ?? silentProgress;
  const top = await source.getManifest(from.repository, from.manifestReference);
  const platform = options.platform ?? { all: true };
  await checkImagePlatform(from.toString(), top.manifest, platform, (digest) => source.getBlobBytes(from.repository, digest));
  const graph = await resolveGraph(top, platform, (digest) => source.getManifest(from.repository, digest.toString()));
  const mountFrom = source.registry === target.registry ? [from.repository] : [];
  const result: CopyResult = { source: from.toString(), ...emptyPushResult(to, graph) };
  const blobSource = remoteSource(source, from.repository);
  try {
    await mapLimit(graph.blobs, options.concurrency ?? DEFAULT_PUSH_CONCURRENCY, async (blob) => {
      tally(result, await uploadBlob(target, to.repository, blob, { source: blobSource, mountFrom, progress }), blob.size);
    });
  } finally {
    progress.close();
  }
  await pushManifests(target, to, graph);
  return result;
}
