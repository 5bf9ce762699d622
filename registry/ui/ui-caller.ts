import type { Request } from 'express';
import type { RuleAction } from '../auth/config.ts';
import { parseBasic } from '../auth/credentials.ts';
import type { AuthServices } from '../auth/load-auth.ts';
import { RegistryError } from '../errors.ts';

/** Who uses the web interface, and what the access rules let them do. */
export interface UiCaller {
  user: string | undefined;
  may(repository: string, action: RuleAction): boolean;
  /** The catalog grant: what `/v2/_catalog` needs. */
  mayList: boolean;
  /** The catalog grant and pull on every repository: what `/api/v1/analysis` needs. */
  isAdmin: boolean;
}

const EVERYONE: UiCaller = { user: undefined, may: () => true, mayList: true, isAdmin: true };

/**
 * The caller of a UI request. The pages send the user's password as Basic credentials in both
 * htpasswd and token modes (a token is scoped to one request's repositories; the pages need the
 * rules themselves), checked by the same rate-limited `Logins` and judged by the same `AccessRules`
 * as the distribution API. A wrong password is a 401 without a challenge header, so the browser
 * shows the page's own login form rather than its Basic dialog.
 */
export async function uiCaller(services: AuthServices | undefined, req: Request): Promise<UiCaller> {
  if (!services) return EVERYONE;
  const credentials = parseBasic(req.get('authorization'));
  let user: string | undefined;
  if (credentials) {
    if (!services.logins) throw new RegistryError('UNSUPPORTED', 'the web interface cannot log in with an external token issuer', { status: 501 });
    if (!(await services.logins.verify(credentials, req.ip ?? ''))) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
    user = credentials.user;
  }
  const { rules } = services;
  return {
    user,
    may: (repository, action) => rules.allowed(user, repository).has(action),
    mayList: user !== undefined,
    isAdmin: user !== undefined && rules.mayPullAll(user),
  };
}

/** Refuses a caller without a right: an anonymous one is asked to log in, a known one is denied. */
export function refuse(caller: UiCaller, what: string): RegistryError {
  if (caller.user === undefined) return new RegistryError('UNAUTHORIZED', `log in to ${what}`);
  return new RegistryError('DENIED', `${caller.user} may not ${what}`);
}

/**
 * Cross-site request forgery: a state-changing request must carry the pages' own header, which a
 * page of another origin cannot send without a CORS preflight Berth never grants, and must not
 * come from another site by the browser's own account (Sec-Fetch-Site, Origin).
 */
export function checkSameOrigin(req: Request): void {
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  // An opaque origin (`null`, from a sandboxed frame) does not parse: foreign too.
  const foreignOrigin = origin !== undefined && (!URL.canParse(origin) || new URL(origin).host !== req.get('host'));
  if (req.get('x-berth-ui') !== '1' || (site !== undefined && site !== 'same-origin') || foreignOrigin) {
    throw new RegistryError('DENIED', 'a state-changing request must come from the web interface itself (X-Berth-UI header, same origin)');
  }
}
