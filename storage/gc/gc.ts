import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import type { Digest } from '../../oci/digest.ts';
import { PathNotFoundError, type Driver, type PurgeOptions, type StaleWrites } from '../driver.ts';
import { imagesOfGarbage } from './garbage-images.ts';
import { GC_DEFAULTS, graceStart, markOptions, planGarbage, reclaimable, type GarbagePlan, type GcTiming, type PlanOptions } from './gc-plan.ts';
import { ManifestGraph } from '../manifest-graph.ts';
import { mark } from './mark.ts';
import { paths } from '../paths.ts';
import type { Store } from '../store.ts';
import { sum } from '../sum.ts';
import { digestsUnder, REPOSITORIES_IN_FLIGHT, repositoryDirectories, repositoryLinks, type StoredBlob } from './walk.ts';

// The defaults are gc's as much as the plan's: callers that only run gc take them from here.
export { GC_DEFAULTS } from './gc-plan.ts';

export interface GcOptions extends PlanOptions, Partial<Pick<GcTiming, 'settleMs'>> {
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Leftovers of writes are purged once idle this long at least, whatever the grace period. */
  staleWriteIdleMs?: number;
}

/**
 * A write in progress touches its temp file or multipart upload often, but not every instant: a
 * grace period of 0 (tests, a user emptying a registry) must not take one still being written.
 */
export const STALE_WRITE_IDLE_MS = 10 * 60_000;

/** An unreferenced blob, with the images it belonged to where that can be known (garbage-images.ts). */
export interface GarbageBlob {
  digest: string;
  size: number;
  images: string[];
}

export interface GcReport {
  dryRun: boolean;
  /** Unreferenced blobs younger than this are kept (`youngBlobs`). */
  gracePeriodMs: number;
  blobs: GarbageBlob[];
  blobBytes: number;
  revisions: { repository: string; digest: string }[];
  uploads: { repository: string; id: string; size: number }[];
  uploadBytes: number;
  /** Unreferenced blobs kept because they are younger than the grace period: a run once they are older frees them. */
  youngBlobs: GarbageBlob[];
  youngBlobBytes: number;
  /** Blobs gc was about to delete when a concurrent push linked them again: put back. */
  restored: string[];
  /** Leftovers of writes a dead process never finished (temp files, multipart uploads), idle past the grace period. */
  staleWrites: StaleWrites;
}

/**
 * Mark and sweep, safe while the registry serves pushes (README "Garbage collection"):
 * 1. mark from the roots; candidates are unmarked blobs older than the grace period;
 * 2. unlink the candidates from every repository (and drop untagged revisions), so from now on
 *    no manifest push can validate against them without linking them again;
 * 3. wait `settleMs` for pushes that validated before step 2, then mark again and spare what they reach;
 * 4. move the candidates into a quarantine, then mark once more and look for links written since
 *    step 2: a candidate marked or linked again is moved back, the rest deleted. A manifest push
 *    re-checks its blobs after writing its revision, so it either lands before this last mark
 *    or finds a quarantined blob missing and fails cleanly (registry/routes/manifests.ts).
 */
export async function collectGarbage(store: Store, options: GcOptions = {}): Promise<GcReport> {
  const log = options.log ?? (() => undefined);
  const graph = new ManifestGraph(store.blobs);
  if (!options.dryRun) await recoverQuarantine(store);
  const now = new Date();
  const idleSince = Math.min(graceStart(options, now).getTime(), now.getTime() - (options.staleWriteIdleMs ?? STALE_WRITE_IDLE_MS));
  // Side by side: the purge walks the whole tree one directory at a time, and what it removes no listing shows anyway.
  const [staleWrites, plan] = await Promise.all([
    purgeStaleWrites(store.driver, new Date(idleSince), { dryRun: options.dryRun ?? false }),
    planGarbage(store, graph, options, now),
  ]);
  const figures = reclaimable(plan);
  // Named before anything goes: the sweep removes the links that place a deleted manifest.
  const images = await imagesOfGarbage(store, graph, plan);
  const describe = (blobs: StoredBlob[]): GarbageBlob[] =>
    blobs.map((blob) => ({ digest: blob.digest.toString(), size: blob.size, images: images.get(blob.digest.toString()) ?? [] }));
  const report: GcReport = {
    dryRun: options.dryRun ?? false,
    gracePeriodMs: figures.gracePeriodMs,
    blobs: [],
    blobBytes: 0,
    revisions: plan.revisions.map(({ repository, digest }) => ({ repository, digest: digest.toString() })),
    uploads: plan.uploads.map(({ repository, id, size }) => ({ repository, id, size })),
    uploadBytes: figures.now.uploadBytes,
    youngBlobs: describe(plan.young),
    youngBlobBytes: figures.afterGracePeriod.bytes,
    restored: [],
    staleWrites,
  };
  const withBlobs = (blobs: StoredBlob[]): GcReport => Object.assign(report, { blobs: describe(blobs), blobBytes: sum(blobs.map((blob) => blob.size)) });
  if (options.dryRun) return withBlobs(plan.sweepable);

  for (const upload of plan.uploads) await store.driver.delete(paths.upload(upload.repository, upload.id));
  for (const { repository, digest } of plan.revisions) await dropRevision(store, graph, repository, digest);
  const candidates = new Map(plan.sweepable.map((blob) => [blob.digest.toString(), blob]));
  // Nothing to sweep: no need to read every repository's links again.
  if (candidates.size === 0) return withBlobs([]);
  const unlinked = await unlinkEverywhere(store, candidates);
  /** A candidate something turned out to need: its links come back as they were. */
  const spare = async (key: string, blob: StoredBlob): Promise<void> => {
    for (const name of unlinked.get(key) ?? []) await store.repositories.linkBlob(name, blob.digest);
    candidates.delete(key);
  };

  await sleep(options.settleMs ?? GC_DEFAULTS.settleMs);
  const remarked = await mark(store, graph, markOptions(options, now));
  for (const [key, blob] of candidates) {
    if (remarked.blobs.has(key)) await spare(key, blob);
    else if (!(await quarantine(store, blob.digest))) candidates.delete(key);
  }

  await relinkRetaggedRevisions(store, plan.revisions);
  const survivors = await mark(store, graph, markOptions(options, now));
  const linked = new Set<string>();
  await pMap(
    await repositoryDirectories(store.driver),
    async (name) => {
      for (const key of await repositoryLinks(store.driver, name)) linked.add(key);
    },
    { concurrency: REPOSITORIES_IN_FLIGHT },
  );
  for (const [key, blob] of candidates) {
    if (linked.has(key) || survivors.blobs.has(key)) {
      await store.driver.move(paths.gcQuarantine(blob.digest), paths.blobData(blob.digest));
      await spare(key, blob);
      report.restored.push(key);
      log(`kept ${key}: a push referenced it again while gc ran`);
    } else {
      // Only the quarantined copy: an upload finishing right now may have put its own bytes
      // back at the blob's path (storage/upload-store.ts), and those must stay.
      await store.driver.delete(paths.gcQuarantine(blob.digest));
      await store.driver.pruneEmpty?.(paths.blobDir(blob.digest));
    }
  }
  return withBlobs([...candidates.values()]);
}

/**
 * Removes what interrupted writes left anywhere in the store, untouched since `olderThan`. gc
 * passes the start of its grace period: a temp file or a part is a blob-to-be, and a write in
 * progress keeps touching it.
 */
export async function purgeStaleWrites(driver: Driver, olderThan: Date, options: PurgeOptions = {}, under = paths.root): Promise<StaleWrites> {
  return (await driver.purgeStale?.(under, olderThan, options)) ?? { count: 0, bytes: 0 };
}

/** A run that stopped midway may have left blobs in quarantine: back they go, for this run's mark to judge. */
async function recoverQuarantine(store: Store): Promise<void> {
  for (const digest of await digestsUnder(store.driver, paths.gcQuarantineRoot)) {
    await store.driver.move(paths.gcQuarantine(digest), paths.blobData(digest));
  }
}

/** Moves a blob's data aside; false when it is already gone (another collection took it). */
async function quarantine(store: Store, digest: Digest): Promise<boolean> {
  try {
    await store.driver.move(paths.blobData(digest), paths.gcQuarantine(digest));
    return true;
  } catch (error) {
    if (error instanceof PathNotFoundError) return false;
    throw error;
  }
}

/** Removes a repository's revision link (and its referrers-index entry) unless a tag now names it. */
async function dropRevision(store: Store, graph: ManifestGraph, repository: string, digest: Digest): Promise<void> {
  if (await taggedIn(store, repository, digest)) return;
  const subject = (await graph.node(digest))?.subject;
  if (subject) await store.driver.delete(parentOf(paths.referrerLink(repository, subject, digest)));
  await store.driver.delete(parentOf(paths.revisionLink(repository, digest)));
  // Its push and pull times go with it, as with a DELETE (RepositoryStore.deleteManifest).
  await store.times.forget(repository, digest);
}

/** A push may tag a manifest just after gc dropped its revision: the tag wins. */
async function relinkRetaggedRevisions(store: Store, revisions: GarbagePlan['revisions']): Promise<void> {
  for (const { repository, digest } of revisions) {
    if (await taggedIn(store, repository, digest)) await store.driver.putContent(paths.revisionLink(repository, digest), digest.toString());
  }
}

async function taggedIn(store: Store, repository: string, digest: Digest): Promise<boolean> {
  return [...(await store.repositories.tagTargets(repository)).values()].some((target) => target.equals(digest));
}

/** Removes every repository's link to the candidates; returns, per candidate, the repositories it was linked in. */
async function unlinkEverywhere(store: Store, candidates: Map<string, StoredBlob>): Promise<Map<string, string[]>> {
  const unlinked = new Map<string, string[]>();
  const unlinkIn = async (name: string) => {
    for (const key of await repositoryLinks(store.driver, name)) {
      const blob = candidates.get(key);
      if (!blob || !(await store.repositories.unlinkBlob(name, blob.digest))) continue;
      unlinked.set(key, [...(unlinked.get(key) ?? []), name]);
    }
  };
  await pMap(await repositoryDirectories(store.driver), unlinkIn, { concurrency: REPOSITORIES_IN_FLIGHT });
  return unlinked;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
