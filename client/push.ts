import type { Reference } from '../oci/reference.ts';
import { uploadBlob, type BlobSource } from './blob-upload.ts';
import { NotInStoreError } from './errors.ts';
import { manifestFromBytes, resolveGraph, type ImageGraph } from './image-graph.ts';
import type { LayoutStore } from './layout-store.ts';
import { mapLimit } from './parallel.ts';
import { silentProgress, type BlobOutcome, type TransferProgress } from './progress.ts';
import { storeName, type TransferCounts } from './pull.ts';
import type { RegistryClient } from './registry-client.ts';
import { findStoredImage } from './store-names.ts';

export const DEFAULT_PUSH_CONCURRENCY = 4;

export interface PushOptions {
  store: LayoutStore;
  /** The store's name for the image when it differs from the target reference, or a short name that only it ends in. */
  from?: string;
  concurrency?: number;
  progress?: TransferProgress;
}

export interface PushResult {
  reference: string;
  digest: string;
  mediaType: string;
  uploaded: TransferCounts;
  mounted: TransferCounts;
  existing: TransferCounts;
}

function storeSource(store: LayoutStore): BlobSource {
  return {
    bytes: (descriptor) => store.readBytes(descriptor.digest),
    open: async (descriptor, offset) => store.openBlob(descriptor.digest, offset),
  };
}

/** The spellings a store may know an image by: Berth's full reference, skopeo's `oci:DIR:NAME`. */
function candidateNames(reference: Reference, from: string | undefined): string[] {
  if (from) return [from];
  const names = [storeName(reference), `${reference.repository}:${reference.manifestReference}`];
  if (reference.tag) names.push(reference.tag);
  return names;
}

/** The image the store names (`--from` may be a short name), with everything it reaches (all platforms of an index). */
async function localGraph(store: LayoutStore, names: string[], short: string | undefined): Promise<ImageGraph> {
  const { name, descriptor } = await findStoredImage(store, names, short);
  const read = async (digest: typeof descriptor.digest) => {
    if (!(await store.has(digest))) throw new NotInStoreError(`${store.dir} lacks manifest ${digest} of ${name}`);
    return manifestFromBytes(await store.readBytes(digest), digest);
  };
  return resolveGraph(await read(descriptor.digest), { all: true }, read);
}

/** A push's result before any blob moved: every count at zero. */
export function emptyPushResult(reference: Reference, graph: ImageGraph): PushResult {
  return {
    reference: reference.toString(),
    digest: graph.root.digest.toString(),
    mediaType: graph.root.mediaType,
    uploaded: { blobs: 0, bytes: 0 },
    mounted: { blobs: 0, bytes: 0 },
    existing: { blobs: 0, bytes: 0 },
  };
}

/** Adds the outcome of one blob of `size` bytes to the right count. */
export function tally(result: Pick<PushResult, 'uploaded' | 'mounted' | 'existing'>, outcome: BlobOutcome, size: number): void {
  const counts = outcome === 'mounted' ? result.mounted : outcome === 'exists' ? result.existing : result.uploaded;
  counts.blobs += 1;
  counts.bytes += size;
}

/** Pushes manifests after every blob, children before the index that lists them. */
export async function pushManifests(client: RegistryClient, reference: Reference, graph: ImageGraph): Promise<void> {
  for (const node of graph.manifests) {
    const target = node === graph.root ? reference.manifestReference : node.digest.toString();
    await client.putManifest(reference.repository, target, node.bytes, node.mediaType);
  }
}

/**
 * Pushes an image from the store: blobs the registry lacks (HEAD first, mounted where the store
 * recorded another repository of this registry holding them), then the manifests.
 */
export async function push(client: RegistryClient, reference: Reference, options: PushOptions): Promise<PushResult> {
  const { store } = options;
  const progress = options.progress ?? silentProgress;
  const graph = await localGraph(store, candidateNames(reference, options.from), options.from);
  const result = emptyPushResult(reference, graph);
  const source = storeSource(store);
  try {
    await mapLimit(graph.blobs, options.concurrency ?? DEFAULT_PUSH_CONCURRENCY, async (blob) => {
      const mountFrom = await store.sourcesIn(reference.registry, blob.digest);
      tally(result, await uploadBlob(client, reference.repository, blob, { source, mountFrom, progress }), blob.size);
    });
  } finally {
    progress.close();
  }
  await pushManifests(client, reference, graph);
  await store.recordSource([...graph.blobs.map((b) => b.digest), ...graph.manifests.map((m) => m.digest)], reference.registry, reference.repository);
  return result;
}
