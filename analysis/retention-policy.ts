/**
 * Retention settings as the config file's `retention:` section gives them (Zot's spelling, README
 * "Retention"), durations already in milliseconds. Plain types: the registry's schema produces
 * them, the plan reads them, and neither room imports the other's code.
 */

/** One `keepTags` entry: a tag is kept if it matches `patterns` AND any one of the other conditions. */
export interface KeepTagsRule {
  /** Regexes; absent means every tag. */
  patterns?: string[];
  mostRecentlyPushedCount?: number;
  mostRecentlyPulledCount?: number;
  pushedWithin?: number;
  pulledWithin?: number;
}

export interface RetentionPolicy {
  /** Repository globs (analysis/glob.ts); the first policy with a matching glob applies. */
  repositories: string[];
  /** Manifests no tag names and no kept index reaches go (Zot's default: true). */
  deleteUntagged: boolean;
  /** Referrers whose subject goes (or is already missing) go too (Zot's default: false). */
  deleteReferrers: boolean;
  /** Absent: every tag is kept. */
  keepTags?: KeepTagsRule[];
}

/** Tags no push may move and no delete may remove, and retention never deletes. */
export interface ImmutableTagsRule {
  repositories: string[];
  /** Tag globs, such as `v*` or `release-*`. */
  tags: string[];
}

export interface RetentionSettings {
  policies: RetentionPolicy[];
  immutableTags: ImmutableTagsRule[];
}
