import { globToRegExp, matchesAny } from './glob.ts';
import type { ImmutableTagsRule, KeepTagsRule, RetentionPolicy, RetentionSettings } from './retention-policy.ts';

/** One manifest of a repository as the policies see it. */
export interface ManifestState {
  digest: string;
  pushed?: Date;
  pulled?: Date;
  /** An index's child manifests. */
  children: string[];
  subject?: string;
}

/** A repository's tags (tag → digest) and manifests, with their times. */
export interface RepositoryState {
  name: string;
  tags: Map<string, string>;
  manifests: ManifestState[];
}

/** What a plan deletes in one repository: tags first, then manifests by digest. */
export interface RepositoryDeletion {
  name: string;
  tags: string[];
  manifests: string[];
}

/** The policy for a repository: the first whose globs match it, or none (keep everything). */
export function policyFor(settings: RetentionSettings, repository: string): RetentionPolicy | undefined {
  return settings.policies.find((policy) => matchesAny(policy.repositories, repository));
}

/** Whether a rule makes the tag immutable in the repository; the rule itself, to name it. */
export function immutableRule(rules: readonly ImmutableTagsRule[], repository: string, tag: string): ImmutableTagsRule | undefined {
  return rules.find((rule) => matchesAny(rule.repositories, repository) && rule.tags.some((glob) => globToRegExp(glob).test(tag)));
}

/**
 * What the policies delete in one repository (issue 22 "Policies"), a pure function of its state:
 * 1. a tag stays if a `keepTags` entry keeps it, or it is immutable;
 * 2. a manifest stays if a kept tag names it, or a kept index reaches it; with `deleteUntagged`
 *    false, so do manifests that were never part of a tagged image;
 * 3. a referrer stays while its subject stays; when the subject goes (or is missing), it goes
 *    only with `deleteReferrers`;
 * the rest goes: tags not kept, and the manifests they alone held.
 */
export function planRepository(state: RepositoryState, settings: RetentionSettings, now: Date): RepositoryDeletion {
  const policy = policyFor(settings, state.name);
  if (!policy) return { name: state.name, tags: [], manifests: [] };
  const byDigest = new Map(state.manifests.map((manifest) => [manifest.digest, manifest]));
  const keptTags = keptTagNames(state, policy, settings.immutableTags, byDigest, now);

  const closure = (roots: Iterable<string>): Set<string> => {
    const reached = new Set<string>();
    const pending = [...roots];
    for (let digest = pending.pop(); digest !== undefined; digest = pending.pop()) {
      if (reached.has(digest) || !byDigest.has(digest)) continue;
      reached.add(digest);
      pending.push(...byDigest.get(digest)!.children);
    }
    return reached;
  };
  const partOfTaggedImages = closure(state.tags.values());
  const isReferrer = (manifest: ManifestState): boolean => manifest.subject !== undefined;
  const standalone = state.manifests.filter((manifest) => !partOfTaggedImages.has(manifest.digest) && !isReferrer(manifest));
  const roots = [...keptTags].map((tag) => state.tags.get(tag)!);
  if (!policy.deleteUntagged) roots.push(...standalone.map((manifest) => manifest.digest));
  const surviving = closure(roots);

  // A referrer stays while its subject stays (to a fixpoint: a signature of an attestation of an
  // image), and whatever its subject's fate unless `deleteReferrers`.
  const referrers = state.manifests.filter((manifest) => isReferrer(manifest) && !partOfTaggedImages.has(manifest.digest));
  for (let changed = true; changed;) {
    changed = false;
    for (const referrer of referrers) {
      if (surviving.has(referrer.digest) || (policy.deleteReferrers && !surviving.has(referrer.subject!))) continue;
      for (const digest of closure([referrer.digest])) surviving.add(digest);
      changed = true;
    }
  }

  return {
    name: state.name,
    tags: [...state.tags.keys()].filter((tag) => !keptTags.has(tag)).sort(),
    manifests: state.manifests
      .map((manifest) => manifest.digest)
      .filter((digest) => !surviving.has(digest))
      .sort(),
  };
}

/** Tags some `keepTags` entry keeps (all of them when the policy has none), and the immutable ones. */
function keptTagNames(
  state: RepositoryState,
  policy: RetentionPolicy,
  immutable: readonly ImmutableTagsRule[],
  byDigest: Map<string, ManifestState>,
  now: Date,
): Set<string> {
  const tags = [...state.tags.keys()];
  const kept = new Set(tags.filter((tag) => immutableRule(immutable, state.name, tag)));
  if (!policy.keepTags) return new Set(tags);
  const timesOf = (tag: string): ManifestState | undefined => byDigest.get(state.tags.get(tag)!);
  for (const rule of policy.keepTags) for (const tag of keptBy(rule, tags, timesOf, now)) kept.add(tag);
  return kept;
}

/** The tags one entry keeps: those matching its patterns AND any of its other conditions (all of them when it has none). */
function keptBy(rule: KeepTagsRule, tags: string[], timesOf: (tag: string) => ManifestState | undefined, now: Date): string[] {
  const patterns = rule.patterns?.map((pattern) => new RegExp(pattern));
  const matching = patterns ? tags.filter((tag) => patterns.some((pattern) => pattern.test(tag))) : tags;
  const conditions = [rule.mostRecentlyPushedCount, rule.mostRecentlyPulledCount, rule.pushedWithin, rule.pulledWithin];
  if (conditions.every((condition) => condition === undefined)) return matching;
  const time = (tag: string, which: 'pushed' | 'pulled'): number | undefined => timesOf(tag)?.[which]?.getTime();
  const newest = (which: 'pushed' | 'pulled', count: number): string[] =>
    matching
      .filter((tag) => time(tag, which) !== undefined)
      .sort((a, b) => time(b, which)! - time(a, which)! || (a < b ? -1 : 1))
      .slice(0, count);
  const within = (which: 'pushed' | 'pulled', ms: number): string[] => matching.filter((tag) => now.getTime() - (time(tag, which) ?? -Infinity) <= ms);
  return [
    ...(rule.mostRecentlyPushedCount !== undefined ? newest('pushed', rule.mostRecentlyPushedCount) : []),
    ...(rule.mostRecentlyPulledCount !== undefined ? newest('pulled', rule.mostRecentlyPulledCount) : []),
    ...(rule.pushedWithin !== undefined ? within('pushed', rule.pushedWithin) : []),
    ...(rule.pulledWithin !== undefined ? within('pulled', rule.pulledWithin) : []),
  ];
}
