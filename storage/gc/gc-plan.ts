import pMap from 'p-map';
import { Digest } from '../../oci/digest.ts';
import type { ManifestGraph } from '../manifest-graph.ts';
import { mark, type MarkOptions, type Marks } from './mark.ts';
import type { Store } from '../store.ts';
import { sum } from '../sum.ts';
import { StoredBlobs } from './stored-blobs.ts';
import { REPOSITORIES_IN_FLIGHT, repositoryTree, storedUploads, type RepositoryDirectory, type StoredBlob, type StoredUpload } from './walk.ts';

export interface GcTiming {
  /** Unreferenced blobs younger than this stay: a push uploads its blobs before the manifest naming them. */
  gracePeriodMs: number;
  /** Upload sessions idle for longer than this are purged. */
  uploadMaxAgeMs: number;
  /**
   * After unlinking what it will delete, how long gc waits for manifest pushes already past
   * validation to land. Berth's own pushes are safe without it (they re-check); it spares them a
   * failed push, and protects servers that do not re-check (Distribution) on the same storage.
   */
  settleMs: number;
}

export const GC_DEFAULTS: GcTiming = { gracePeriodMs: 60 * 60_000, uploadMaxAgeMs: 24 * 60 * 60_000, settleMs: 10_000 };

/** The settings that decide what a collection removes. */
export interface PlanOptions
  extends Pick<MarkOptions, 'deleteUntagged' | 'without' | 'onRepository'>, Partial<Pick<GcTiming, 'gracePeriodMs' | 'uploadMaxAgeMs'>> {}

/**
 * What a collection would remove, decided by one mark over the store. `berth gc` sweeps it and
 * `berth analyze` reports it, so both state the same figures under the same settings.
 */
export interface GarbagePlan {
  gracePeriodMs: number;
  deleteUntagged: boolean;
  marks: Marks;
  /** Every blob in the store. */
  stored: StoredBlobs;
  /** Blobs nothing marked reaches, whatever their age: `sweepable` and `young` together. */
  unreferenced: StoredBlob[];
  /** The unreferenced blobs past the grace period: what a sweep deletes. */
  sweepable: StoredBlob[];
  /** The unreferenced blobs within the grace period: kept now, swept by a run once they are older. */
  young: StoredBlob[];
  /** Revision links of manifests that do not survive (only with deleteUntagged). */
  revisions: { repository: string; digest: Digest }[];
  /** Upload sessions idle past the maximum age. */
  uploads: StoredUpload[];
}

/**
 * `walked` is the store's blobs read already (StoredBlobs.read with the graph's keys): the analysis
 * reads them first, to count sizes as the mark goes. Without it the walk runs beside the mark.
 */
export async function planGarbage(store: Store, graph: ManifestGraph, options: PlanOptions = {}, now = new Date(), walked?: StoredBlobs): Promise<GarbagePlan> {
  const gracePeriodMs = options.gracePeriodMs ?? GC_DEFAULTS.gracePeriodMs;
  const uploadMaxAgeMs = options.uploadMaxAgeMs ?? GC_DEFAULTS.uploadMaxAgeMs;
  // One walk of the repositories gives the mark its catalog and the uploads their directories.
  const walkAndMark = async (): Promise<{ tree: RepositoryDirectory[]; marks: Marks }> => {
    const tree = await repositoryTree(store.driver);
    const catalog = tree.filter((directory) => directory.linked).map((directory) => directory.name);
    return { tree, marks: await mark(store, graph, { ...markOptions(options, now), catalog }) };
  };
  const [stored, { tree, marks }] = await Promise.all([walked ?? StoredBlobs.read(store.driver, (digest) => graph.key(digest)), walkAndMark()]);
  // Only the few blobs nothing reaches become objects of their own.
  const unreferenced: StoredBlob[] = [];
  for (const [key, size, modified] of stored.entries()) {
    if (!marks.blobs.has(key)) unreferenced.push({ digest: Digest.parse(key), size, modified: new Date(modified) });
  }
  const uploading = tree.filter((directory) => directory.uploading);
  const uploads = (await pMap(uploading, ({ name }) => storedUploads(store.driver, name), { concurrency: REPOSITORIES_IN_FLIGHT })).flat();
  const old = (blob: StoredBlob): boolean => blob.modified <= graceStart(options, now);
  return {
    gracePeriodMs,
    deleteUntagged: options.deleteUntagged ?? false,
    marks,
    stored,
    unreferenced,
    sweepable: unreferenced.filter(old),
    young: unreferenced.filter((blob) => !old(blob)),
    revisions: marks.dropped,
    uploads: uploads.filter((upload) => upload.lastActive && now.getTime() - upload.lastActive.getTime() >= uploadMaxAgeMs),
  };
}

/** What a gc run with the plan's settings frees: the figures `berth gc --dry-run` and `berth analyze` print. */
export interface Reclaimable {
  gracePeriodMs: number;
  deleteUntagged: boolean;
  /** Freed by a run now: unreferenced blobs past the grace period, and uploads idle past their maximum age. */
  now: { bytes: number; blobs: number; blobBytes: number; uploads: number; uploadBytes: number };
  /** Unreferenced blobs younger than the grace period: a run now keeps them, a run once they are older frees them. */
  afterGracePeriod: { bytes: number; blobs: number };
}

export function reclaimable(plan: GarbagePlan): Reclaimable {
  const blobBytes = sum(plan.sweepable.map((blob) => blob.size));
  const uploadBytes = sum(plan.uploads.map((upload) => upload.size));
  return {
    gracePeriodMs: plan.gracePeriodMs,
    deleteUntagged: plan.deleteUntagged,
    now: { bytes: blobBytes + uploadBytes, blobs: plan.sweepable.length, blobBytes, uploads: plan.uploads.length, uploadBytes },
    afterGracePeriod: { bytes: sum(plan.young.map((blob) => blob.size)), blobs: plan.young.length },
  };
}

/** Blobs and untagged revisions written after this are young: the grace period protects them. */
export function graceStart(options: PlanOptions, now: Date): Date {
  return new Date(now.getTime() - (options.gracePeriodMs ?? GC_DEFAULTS.gracePeriodMs));
}

export function markOptions(options: PlanOptions, now: Date): MarkOptions {
  return {
    deleteUntagged: options.deleteUntagged ?? false,
    untaggedRootsSince: graceStart(options, now),
    ...(options.without ? { without: options.without } : {}),
    ...(options.onRepository ? { onRepository: options.onRepository } : {}),
  };
}
