import type { Digest } from '../oci/digest.ts';
import { immutableRule } from '../analysis/retention-plan.ts';
import type { ImmutableTagsRule } from '../analysis/retention-policy.ts';
import type { Store } from '../storage/store.ts';
import { RegistryError } from './errors.ts';

/** The rule as the config file spells it, for the message a client shows its user. */
function describeRule(rule: ImmutableTagsRule): string {
  return `retention.immutableTags rule {repositories: [${rule.repositories.join(', ')}], tags: [${rule.tags.join(', ')}]}`;
}

function denied(what: string, rule: ImmutableTagsRule): RegistryError {
  return new RegistryError('DENIED', `${what}: it is immutable by ${describeRule(rule)}`);
}

/**
 * A push that would move an immutable tag to another digest is refused (issue 22 "Immutable tags");
 * re-pushing the digest it already names, or creating the tag, is fine. Checked before anything is written.
 */
export async function checkTagMoves(rules: readonly ImmutableTagsRule[], store: Store, name: string, tags: string[], digest: Digest): Promise<void> {
  if (rules.length === 0) return;
  for (const tag of tags) {
    const rule = immutableRule(rules, name, tag);
    if (!rule) continue;
    const current = await store.repositories.resolveTag(name, tag);
    if (current && !current.equals(digest)) throw denied(`tag ${name}:${tag} names ${current} and cannot be moved to ${digest}`, rule);
  }
}

/** A delete of an immutable tag, or of a manifest one names (which would take the tag with it), is refused. */
export async function checkDelete(
  rules: readonly ImmutableTagsRule[],
  store: Store,
  name: string,
  target: { tag: string } | { digest: Digest },
): Promise<void> {
  if (rules.length === 0) return;
  if ('tag' in target) {
    // A tag that does not exist is not deleted: the route answers MANIFEST_UNKNOWN for it.
    const rule = immutableRule(rules, name, target.tag);
    if (rule && (await store.repositories.resolveTag(name, target.tag))) throw denied(`tag ${name}:${target.tag} cannot be deleted`, rule);
    return;
  }
  // Only the immutable tags are resolved, all at once: on S3 each is a round trip.
  const guarded = ((await store.repositories.listTags(name)) ?? []).flatMap((tag) => {
    const rule = immutableRule(rules, name, tag);
    return rule ? [{ tag, rule }] : [];
  });
  const targets = await Promise.all(guarded.map(({ tag }) => store.repositories.resolveTag(name, tag)));
  const naming = guarded.find((_, i) => targets[i]?.equals(target.digest));
  if (naming) throw denied(`manifest ${name}@${target.digest} cannot be deleted while immutable tag ${naming.tag} names it`, naming.rule);
}
