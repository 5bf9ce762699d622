import type { NextFunction, Request, Response } from 'express';
import { isRepositoryName } from '../../oci/reference.ts';
import { RegistryError } from '../errors.ts';
import type { RouteMatch } from '../route.ts';
import { identify, type Caller } from './caller.ts';
import { challenge } from './challenge.ts';
import type { AuthServices } from './load-auth.ts';
import { CATALOG_SCOPE, type Scope } from './scope.ts';

/** What a request must hold, as [type, name, action], and the scopes its challenge names. */
function requirement(match: RouteMatch, req: Request): { need?: [string, string, string]; scopes: Scope[] } {
  const { endpoint, params } = match;
  if (endpoint.id === 'end-1') return { scopes: [] };
  if (endpoint.action === 'catalog') return { need: ['registry', 'catalog', '*'], scopes: [CATALOG_SCOPE] };
  const name = params.name!;
  // The endpoint's own action, not its method's: an upload's status (GET) and cancel (DELETE) are part of a push.
  const { action } = endpoint;
  // Clients push after checking what exists, so a push token carries pull as well.
  const scopes: Scope[] = [{ type: 'repository', name, actions: action === 'push' ? ['pull', 'push'] : [action] }];
  const from = req.query.from;
  if (action === 'push' && typeof from === 'string' && from !== name && isRepositoryName(from))
    scopes.push({ type: 'repository', name: from, actions: ['pull'] });
  return { need: ['repository', name, action], scopes };
}

/**
 * Why a caller who lacks the right is refused: anonymous Basic callers are asked for credentials,
 * and so is a token holder whom the built-in endpoint would grant the right (clients fetch a token
 * per scope and upgrade on a 401, as Distribution answers `insufficient_scope`); anyone else is denied.
 */
function refusal(services: AuthServices, req: Request, caller: Caller, scopes: Scope[], need?: [string, string, string]): RegistryError {
  if (caller.user === undefined && services.config.mode === 'htpasswd') return challenge(services, req, scopes, 'authentication required');
  const [type, name, action] = need ?? [];
  if (services.issuer && type && name && action && services.rules.grant(caller.user, [{ type, name, actions: [action] }]).length > 0) {
    return challenge(services, req, scopes, `the token does not grant ${action} on ${name}`, 'insufficient_scope');
  }
  return new RegistryError('DENIED', `access to ${need ? `${type} ${name}` : 'the registry'} is denied`);
}

/**
 * The one auth layer for /v2/: after route matching, before dispatch. Answers 401 with the
 * challenge naming the needed scope, or 403 DENIED when a known caller lacks the right; else
 * leaves `res.locals.mayPull` for the handlers' checks on other repositories.
 */
export function authMiddleware(services: AuthServices) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const match = res.locals.match as RouteMatch | undefined;
    if (!match) return next();
    const { need, scopes } = requirement(match, req);
    const caller = await identify(services, req, scopes);
    // /v2/ itself needs no right, only a login in htpasswd mode (or any valid token) so clients learn how to authenticate.
    const allowed = need ? caller.may(...need) : caller.user !== undefined || services.config.mode === 'token';
    if (!allowed) throw refusal(services, req, caller, scopes, need);
    res.locals.mayPull = caller.mayPull;
    // For the request log: who was let in.
    res.locals.user = caller.user;
    next();
  };
}

/** Guards `/metrics` on the main listener: the catalog grant, as for listing repositories. */
export function catalogMiddleware(services: AuthServices) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const caller = await identify(services, req, [CATALOG_SCOPE]);
    if (caller.may('registry', 'catalog', '*')) return next();
    throw refusal(services, req, caller, [CATALOG_SCOPE]);
  };
}

/**
 * Guards Berth's admin report (`/api/v1/analysis`), which names every repository unfiltered:
 * it needs the catalog grant and pull on every repository.
 */
export function adminMiddleware(services: AuthServices) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const caller = await identify(services, req, [CATALOG_SCOPE]);
    if (caller.may('registry', 'catalog', '*') && caller.mayPull('*')) return next();
    throw refusal(services, req, caller, [CATALOG_SCOPE]);
  };
}
