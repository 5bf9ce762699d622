import type { z } from 'zod';

/** A key's full name as a user would look for it in the file: `auth.access[0].actions`. */
export function keyName(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}

/** Values never echoed back in an error, wherever they sit: the line may end up in a CI log. */
const SECRET_KEYS = new Set(['accessKeyId', 'secretAccessKey']);

/** Sections whose every value may be a secret (a webhook's `Authorization` header). */
const SECRET_SECTIONS = new Set(['headers']);

function isSecret(path: readonly PropertyKey[]): boolean {
  return SECRET_KEYS.has(String(path.at(-1))) || path.some((part) => SECRET_SECTIONS.has(String(part)));
}

/**
 * A short rendering of the value found, for ", not …": a scalar as written, and what a list or
 * mapping is only where a scalar was wanted (a rule about a whole section has its own words);
 * nothing for a secret or a long value.
 */
function shown(issue: z.core.$ZodIssue): string | undefined {
  const { input } = issue as { input?: unknown };
  if (input === undefined || isSecret(issue.path)) return undefined;
  if (input === null) return 'empty';
  if (typeof input === 'object') return issue.code !== 'invalid_type' ? undefined : Array.isArray(input) ? 'a list' : 'a mapping';
  const text = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return text.length <= 60 ? text : undefined;
}

/**
 * One line for the issue a user should fix first (issues come from a parse with `reportInput`).
 * A misspelt key comes first: what it causes elsewhere (a required key then missing) would mislead.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return 'invalid configuration';
  // The schema's own message for unknown keys names them in full (config-values.ts).
  if (issue.code === 'unrecognized_keys') return issue.message;
  const key = keyName(issue.path);
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return `${key} is required`;
  const value = shown(issue);
  return `${key ? `${key} ` : ''}${issue.message}${value ? `, not ${value}` : ''}`;
}
