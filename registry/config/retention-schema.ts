/**
 * The config file's `retention:` section (README "Retention"): Zot's spelling of the policies, plus
 * Berth's immutable tags. Its output is analysis/retention-policy.ts's `RetentionSettings`, durations in ms.
 */
import { z } from 'zod';
import type { RetentionSettings } from '../../analysis/retention-policy.ts';
import { parseDurationMs } from './parsers.ts';
import { duration, flag, optionalSection, section, text } from './values.ts';

const durationMs = duration.transform((value) => parseDurationMs(value)!);
const count = z.int({ error: 'must be a whole number' }).nonnegative({ error: 'must be 0 or more' });
const globs = z.array(text, { error: 'must be a list of globs' }).min(1, { error: 'must name at least one glob' });
const regex = text.refine(
  (value) => {
    try {
      new RegExp(value);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be a regular expression' },
);

const keepTagsEntry = section({
  patterns: z.array(regex, { error: 'must be a list of regular expressions' }).optional(),
  mostRecentlyPushedCount: count.optional(),
  mostRecentlyPulledCount: count.optional(),
  pushedWithin: durationMs.optional(),
  pulledWithin: durationMs.optional(),
});

const policy = section({
  repositories: globs,
  deleteUntagged: flag.default(true),
  deleteReferrers: flag.default(false),
  keepTags: z.array(keepTagsEntry, { error: 'must be a list' }).optional(),
});

const immutableTagsRule = section({ repositories: globs, tags: globs });

export const retentionSection = optionalSection({
  policies: z.array(policy, { error: 'must be a list of policies' }).default([]),
  immutableTags: z.array(immutableTagsRule, { error: 'must be a list of rules' }).default([]),
  /** How often `berth serve` applies the policies; absent, never. */
  schedule: durationMs.optional(),
  /** How long the runner's lease lasts unless renewed (default 1m): a crashed runner's passes on after it. */
  lease: durationMs.optional(),
});

// The section must produce what the plan reads: a change to either shows here first.
export type RetentionSection = z.output<typeof retentionSection>;
const _fits: (section: RetentionSection) => RetentionSettings = (section) => section;
void _fits;
