import { Digest } from '../oci/digest.ts';
import { ManifestGraph } from '../storage/manifest-graph.ts';
import type { Store } from '../storage/store.ts';
import { immutableRule } from './retention-plan.ts';
import type { RetentionSettings } from './retention-policy.ts';
import type { RetentionPlan } from './retention.ts';

/** What `apply` did: the tags and manifests it deleted, and what it left. */
export interface RetentionResult {
  deletedTags: number;
  deletedManifests: number;
  /** `repository:tag` (immutable) or `repository@digest` (tagged again since the plan) left alone. */
  skipped: string[];
}

/**
 * Deletes what a plan names through the repository store, tags first, then manifests. `berth
 * retention apply` plans just before, and a manifest is re-checked just before it goes: one a tag
 * names again (a push landed meanwhile) stays, since deleting it would take that tag with it.
 * An immutable tag is never deleted, whatever the plan says.
 */
export async function applyRetention(store: Store, plan: RetentionPlan, settings: RetentionSettings): Promise<RetentionResult> {
  const graph = new ManifestGraph(store.blobs);
  const result: RetentionResult = { deletedTags: 0, deletedManifests: 0, skipped: [] };
  for (const { name, tags, manifests } of plan.repositories) {
    for (const tag of tags) {
      if (immutableRule(settings.immutableTags, name, tag)) result.skipped.push(`${name}:${tag}`);
      else if (await store.repositories.deleteTag(name, tag)) result.deletedTags++;
    }
    const tagged = new Set([...(await store.repositories.tagTargets(name)).values()].map(String));
    for (const text of manifests) {
      const digest = Digest.parse(text);
      if (tagged.has(text)) {
        result.skipped.push(`${name}@${text}`);
        continue;
      }
      const subject = (await graph.node(digest))?.subject;
      if (await store.repositories.deleteManifest(name, digest, subject)) result.deletedManifests++;
    }
  }
  return result;
}
