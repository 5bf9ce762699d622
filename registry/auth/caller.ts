import type { Request } from 'express';
import { challenge } from './challenge.ts';
import type { RuleAction } from './config.ts';
import { parseBasic } from './credentials.ts';
import type { AuthServices } from './load-auth.ts';
import type { Scope } from './scope.ts';
import { InvalidTokenError } from './token-verifier.ts';

/** Who is asking and what they may do; `user` undefined is an anonymous caller. */
export interface Caller {
  user: string | undefined;
  may(type: string, name: string, action: string): boolean;
  /** Pull on another repository (mount source, catalog entries); `*` is every repository. */
  mayPull(repository: string): boolean;
}

type Grant = (type: string, name: string, action: string) => boolean;

/**
 * A caller whose own request is judged by `granted` (a token's access claim) or else by the rules;
 * pulls from other repositories (mount sources, catalog entries) by either.
 */
function callerOf({ rules }: AuthServices, user: string | undefined, granted?: Grant): Caller {
  const byRules = (name: string, action: string) => rules.allowed(user, name).has(action as RuleAction);
  const may: Grant =
    granted ?? ((type, name, action) => (type === 'repository' ? byRules(name, action) : type === 'registry' && name === 'catalog' && user !== undefined));
  return {
    user,
    may,
    mayPull: (repository) => (repository === '*' ? rules.mayPullAll(user) : may('repository', repository, 'pull') || byRules(repository, 'pull')),
  };
}

/**
 * Identifies the caller from the Authorization header. Wrong credentials and invalid tokens are
 * a 401; a missing header is an anonymous caller in htpasswd mode and a 401 in token mode
 * (token clients always fetch a token, anonymous or not, at the challenge's realm).
 */
export async function identify(services: AuthServices, req: Request, scopes: Scope[]): Promise<Caller> {
  const header = req.get('authorization');
  if (services.config.mode === 'htpasswd') {
    const credentials = parseBasic(header);
    if (!credentials) return callerOf(services, undefined);
    if (!(await services.logins!.verify(credentials, req.ip ?? ''))) throw challenge(services, req, scopes, 'invalid username or password');
    return callerOf(services, credentials.user);
  }
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!bearer) throw challenge(services, req, scopes, 'a bearer token is required');
  try {
    const token = await services.verifier!.verifyAccess(bearer);
    const granted: Grant = (type, name, action) =>
      token.access.some((scope) => scope.type === type && scope.name === name && (scope.actions.includes(action) || scope.actions.includes('*')));
    return callerOf(services, token.subject || undefined, granted);
  } catch (error) {
    if (error instanceof InvalidTokenError) throw challenge(services, req, scopes, `invalid token: ${error.message}`, 'invalid_token');
    throw error;
  }
}
