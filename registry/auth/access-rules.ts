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

/** The `auth.access` rules, first match wins; `user` undefined is an anonymous caller. */
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

  /** The actions `user` has on `repository`. */
  allowed(user: string | undefined, repository: string): Set<RuleAction> {
    const match = this.compiled.find(({ pattern }) => pattern.test(repository));
    return new Set(match && this.covers(match.rule, user) ? match.rule.actions : []);
  }

  /**
   * Whether `user` may pull every repository, present or future: each rule up to the first
   * catch-all (`**`) grants pull, and there is a catch-all.
   */
  mayPullAll(user: string | undefined): boolean {
    for (const { rule } of this.compiled) {
      if (!this.covers(rule, user) || !rule.actions.includes('pull')) return false;
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
