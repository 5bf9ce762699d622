import type { AccessRule, RuleAction } from './config.ts';
import type { Scope } from './scope.ts';

/** `*` matches within one path segment, `**` across segments; everything else literally. */
export function globToRegExp(glob: string): RegExp {
  const source = glob
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * The `auth.access` rules: the first rule whose glob matches the repository and whose users or
 * groups include the caller decides. `user` undefined is an anonymous caller.
 */
export class AccessRules {
  private readonly compiled: { rule: AccessRule; pattern: RegExp }[];

  constructor(
    rules: AccessRule[],
    private readonly groups: Record<string, string[]>,
  ) {
    this.compiled = rules.map((rule) => ({ rule, pattern: globToRegExp(rule.repository) }));
  }

  private covers(rule: AccessRule, user: string | undefined): boolean {
    if (user === undefined) return rule.users.includes('anonymous');
    return rule.users.includes('*') || rule.users.includes(user) || rule.groups.some((group) => this.groups[group]?.includes(user));
  }

  /** The actions `user` has on `repository`: from the first rule matching both. */
  allowed(user: string | undefined, repository: string): Set<RuleAction> {
    const match = this.compiled.find(({ rule, pattern }) => this.covers(rule, user) && pattern.test(repository));
    return new Set(match?.rule.actions ?? []);
  }

  /**
   * Whether `user` may pull every repository, present or future: among the rules covering the
   * user, each up to the first catch-all (`**`) grants pull, and there is such a catch-all.
   */
  mayPullAll(user: string | undefined): boolean {
    for (const { rule } of this.compiled.filter(({ rule }) => this.covers(rule, user))) {
      if (!rule.actions.includes('pull')) return false;
      if (rule.repository === '**') return true;
    }
    return false;
  }

  /**
   * What a token request may have: the intersection of the asked and the allowed actions
   * (`*` asks for all of them); the catalog for any logged-in user, filtered when listed.
   */
  grant(user: string | undefined, requested: Scope[]): Scope[] {
    return requested.flatMap((scope) => {
      if (scope.type === 'registry' && scope.name === 'catalog') return user === undefined ? [] : [{ ...scope, actions: ['*'] }];
      if (scope.type !== 'repository') return [];
      const allowed = this.allowed(user, scope.name);
      const actions = [...allowed].filter((action) => scope.actions.includes(action) || scope.actions.includes('*'));
      return actions.length > 0 ? [{ ...scope, actions }] : [];
    });
  }
}
