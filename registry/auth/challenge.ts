import type { Request } from 'express';
import { RegistryError } from '../errors.ts';
import type { AuthServices } from './load-auth.ts';
import { formatScope, type Scope } from './scope.ts';

/**
 * A Host header that is a host name, an IPv4 address or a bracketed IPv6 address, with an optional
 * port: nothing else may reach the realm, which clients follow with the user's password.
 */
const VALID_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** An auth-param value as an RFC 9110 quoted-string, so no value can end the parameter early. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Berth's own /token on the host the client asked for; a missing or malformed Host falls back to
 * the address the request came in on. Production deployments set `auth.token.realm` instead.
 */
function defaultRealm(req: Request): string {
  const host = req.get('host');
  if (host !== undefined && VALID_HOST.test(host)) return `${req.protocol}://${host}/token`;
  const address = req.socket.localAddress ?? '127.0.0.1';
  return `${req.protocol}://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}/token`;
}

/** The 401 asking for credentials: Basic in htpasswd mode, Bearer naming the scopes in token mode. */
export function challenge(services: AuthServices, req: Request, scopes: Scope[], message: string, error?: string): RegistryError {
  const { config } = services;
  if (config.mode === 'htpasswd') return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': `Basic realm=${quoted(config.realm)}` } });
  const params = [`realm=${quoted(config.token.realm ?? defaultRealm(req))}`, `service=${quoted(config.token.service)}`];
  if (scopes.length > 0) params.push(`scope=${quoted(scopes.map(formatScope).join(' '))}`);
  if (error) params.push(`error=${quoted(error)}`);
  return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': `Bearer ${params.join(',')}` } });
}
