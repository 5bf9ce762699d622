import { isRepositoryName } from '../../oci/reference.ts';

/** One resource scope (auth-scope.md): `repository:team/app:pull,push` or `registry:catalog:*`. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** Parses a scope; the name may itself contain colons (a host with a port), so type and actions are the ends. */
export function parseScope(text: string): Scope | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = text
    .slice(last + 1)
    .split(',')
    .filter(Boolean);
  return { type: text.slice(0, first), name: text.slice(first + 1, last), actions };
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/**
 * Space-separated scopes of a token request or a challenge, malformed ones dropped; so is a
 * repository scope whose name is not a repository name: `team/**` matches `team/../secret`, and
 * a token must carry no grant that a reader normalising paths would take for `secret`.
 */
export function parseScopes(values: string[]): Scope[] {
  return values
    .flatMap((value) => value.split(' '))
    .flatMap((text) => parseScope(text) ?? [])
    .filter((scope) => scope.type !== 'repository' || isRepositoryName(scope.name));
}

export const CATALOG_SCOPE: Scope = { type: 'registry', name: 'catalog', actions: ['*'] };
