import type { RetentionPlan } from '../analysis/retention.ts';
import type { RetentionResult } from '../analysis/retention-apply.ts';
import { formatBytes } from './format-bytes.ts';

/** `berth retention plan`'s table: one row per repository, then each tag and manifest that goes, then the bytes freed. */
export function renderRetentionPlan(plan: RetentionPlan, done = false): string {
  const [verb, frees] = done ? ['deleted', 'frees'] : ['would delete', 'would free'];
  if (plan.repositories.length === 0) return `the policies delete nothing: ${frees} 0 B (0 bytes)\n`;
  const width = Math.max(10, ...plan.repositories.map((repository) => repository.name.length));
  const lines = [`${'REPOSITORY'.padEnd(width)}  TAGS  MANIFESTS`];
  for (const { name, tags, manifests } of plan.repositories) {
    lines.push(`${name.padEnd(width)}  ${String(tags.length).padStart(4)}  ${String(manifests.length).padStart(9)}`);
  }
  for (const { name, tags, manifests } of plan.repositories) {
    lines.push(...tags.map((tag) => `${verb} tag ${name}:${tag}`), ...manifests.map((digest) => `${verb} manifest ${name}@${digest}`));
  }
  lines.push(`${frees} ${formatBytes(plan.bytesFreed)} (${plan.bytesFreed} bytes): the blobs no remaining image in any repository reaches, once gc runs`);
  if (plan.alreadyUnreferencedBytes) {
    lines.push(`gc also frees ${formatBytes(plan.alreadyUnreferencedBytes)} (${plan.alreadyUnreferencedBytes} bytes) no image reaches already`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderRetentionResult(result: RetentionResult): string {
  const lines = [`deleted ${result.deletedTags} tags and ${result.deletedManifests} manifests`];
  lines.push(...result.skipped.map((what) => `kept ${what}: ${what.includes('@') ? 'a tag names it again' : 'an immutable tag'}`));
  return `${lines.join('\n')}\n`;
}
