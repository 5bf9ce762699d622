import { ManifestGraph } from '../storage/manifest-graph.ts';
import type { Store } from '../storage/store.ts';
import { sum } from '../storage/sum.ts';
import { planGarbage } from '../storage/gc/gc-plan.ts';
import { planRepository, type RepositoryDeletion } from './retention-plan.ts';
import type { RetentionSettings } from './retention-policy.ts';
import { readRepositoryState } from './retention-state.ts';

/** What `berth retention plan` reports (`--json` prints it as is). */
export interface RetentionPlan {
  /**
   * Bytes of the blobs (manifests included) that some image reaches now and none would after the
   * plan, in any repository: what `berth gc --dry-run --grace-period 0` adds after `apply`.
   */
  bytesFreed: number;
  /** Repositories where something goes, in catalog order. */
  repositories: RepositoryDeletion[];
  /** Blobs no image reaches already, whatever the plan: gc frees them too, and they are not the plan's doing. */
  alreadyUnreferencedBytes: number;
  /** When the plan was made (ISO). */
  plannedAt: string;
}

/**
 * The dry run: each repository judged by its policy (retention-plan.ts), then gc's own mark run twice,
 * on the store as it is and as it would be without what goes. Only blobs the second mark misses
 * and the first reaches count: a layer shared with any remaining image, in any repository, frees nothing.
 */
export async function planRetention(store: Store, settings: RetentionSettings, now = new Date()): Promise<RetentionPlan> {
  const graph = new ManifestGraph(store.blobs);
  const repositories: RepositoryDeletion[] = [];
  for (const name of await store.repositories.catalog()) {
    const deletion = planRepository(await readRepositoryState(store, graph, name), settings, now);
    if (deletion.tags.length || deletion.manifests.length) repositories.push(deletion);
  }
  const without = new Map(repositories.map(({ name, tags, manifests }) => [name, { tags: new Set(tags), manifests: new Set(manifests) }]));
  // Grace period 0: every unreferenced blob counts, as in `gc --grace-period 0`; untagged manifests stay roots, as gc's default.
  const [before, after] = await Promise.all([
    planGarbage(store, graph, { gracePeriodMs: 0 }, now),
    planGarbage(store, graph, { gracePeriodMs: 0, without }, now),
  ]);
  const already = new Set(before.unreferenced.map((blob) => blob.digest.toString()));
  return {
    bytesFreed: sum(after.unreferenced.filter((blob) => !already.has(blob.digest.toString())).map((blob) => blob.size)),
    repositories,
    alreadyUnreferencedBytes: sum(before.unreferenced.map((blob) => blob.size)),
    plannedAt: now.toISOString(),
  };
}
