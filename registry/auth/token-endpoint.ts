import express, { type Request, type Response, type Router } from 'express';
import { RegistryError } from '../errors.ts';
import { sendJSON } from '../responses.ts';
import { parseBasic } from './credentials.ts';
import type { AuthServices } from './load-auth.ts';
import { formatScope, parseScopes } from './scope.ts';
import { InvalidTokenError } from './token-verifier.ts';

function values(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function checkService({ config }: AuthServices, service: unknown): void {
  if (service !== undefined && service !== config.token.service) {
    throw new RegistryError('DENIED', `this endpoint issues tokens for service "${config.token.service}", not "${String(service)}"`);
  }
}

/** A user who proved their password, and the fingerprint of the htpasswd entry it matched. */
interface Login {
  user: string;
  entry: string;
}

async function login(services: AuthServices, req: Request, user: string, password: string): Promise<Login> {
  const entry = await services.logins!.verify({ user, password }, req.ip ?? '');
  if (entry === undefined) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
  return { user, entry };
}

/**
 * The login a refresh token stands for, as long as its user's entry is the one it was issued
 * against: removing the user or changing their password revokes every refresh token they hold.
 */
async function refreshLogin(services: AuthServices, token: string): Promise<Login> {
  try {
    const { subject, entry } = await services.verifier!.verifyRefresh(token);
    if ((await services.logins!.users.fingerprint(subject)) !== entry) throw new InvalidTokenError(`revoked: ${subject} was removed or changed password`);
    return { user: subject, entry };
  } catch (error) {
    if (error instanceof InvalidTokenError) throw new RegistryError('UNAUTHORIZED', `invalid refresh token: ${error.message}`);
    throw error;
  }
}

/** GET /token (auth-token.md): Basic credentials or anonymous; `offline_token=true` adds a refresh token. */
async function getToken(services: AuthServices, req: Request, res: Response): Promise<void> {
  checkService(services, req.query.service);
  const credentials = parseBasic(req.get('authorization'));
  const caller = credentials ? await login(services, req, credentials.user, credentials.password) : undefined;
  const access = services.rules.grant(caller?.user, parseScopes(values(req.query.scope)));
  const issued = await services.issuer!.access(caller?.user ?? '', access);
  const refresh = caller && req.query.offline_token === 'true' ? await services.issuer!.refresh(caller.user, caller.entry) : undefined;
  sendJSON(res, 200, {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
    ...(refresh ? { refresh_token: refresh.token } : {}),
  });
}

/** POST /token (auth-oauth.md): `grant_type=password` or `refresh_token`, form-encoded. */
async function postToken(services: AuthServices, req: Request, res: Response): Promise<void> {
  const form = (req.body ?? {}) as Record<string, unknown>;
  checkService(services, form.service);
  let caller: Login;
  if (form.grant_type === 'password') {
    if (typeof form.username !== 'string' || typeof form.password !== 'string') throw new RegistryError('UNAUTHORIZED', 'username and password are required');
    caller = await login(services, req, form.username, form.password);
  } else if (form.grant_type === 'refresh_token') {
    if (typeof form.refresh_token !== 'string') throw new RegistryError('UNAUTHORIZED', 'refresh_token is required');
    caller = await refreshLogin(services, form.refresh_token);
  } else {
    throw new RegistryError('UNSUPPORTED', `grant_type must be password or refresh_token`, { status: 400 });
  }
  // The rules as they stand now decide, not those in force when a refresh token was issued.
  const access = services.rules.grant(caller.user, parseScopes(values(form.scope)));
  const issued = await services.issuer!.access(caller.user, access);
  const refresh = form.grant_type === 'password' && form.access_type === 'offline' ? await services.issuer!.refresh(caller.user, caller.entry) : undefined;
  sendJSON(res, 200, {
    access_token: issued.token,
    token: issued.token,
    scope: access.map(formatScope).join(' '),
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
    ...(refresh ? { refresh_token: refresh.token } : {}),
  });
}

/** Berth's built-in token endpoint at /token, outside /v2/. */
export function tokenRouter(services: AuthServices): Router {
  const router = express.Router();
  router.get('/token', (req, res) => getToken(services, req, res));
  router.post('/token', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => postToken(services, req, res));
  return router;
}
