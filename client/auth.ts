import type { Got } from 'got';
import { parseChallenge } from '../conformance/http.ts';
import type { Credentials } from './credentials.ts';
import { RegistryResponseError } from './errors.ts';

/**
 * Answers a registry's 401 challenges (auth-token.md): a Bearer token from the realm for the
 * challenge's service and scope, anonymous or with credentials, or Basic. Tokens are cached per
 * scope, and the last one that worked for a repository is sent up front next time.
 */
export class Authenticator {
  private readonly tokens = new Map<string, string>();
  private readonly byRepository = new Map<string, string>();

  constructor(
    private readonly http: Got,
    private readonly credentials: () => Promise<Credentials | undefined>,
  ) {}

  /** The Authorization header to send first for a repository (or `''` for registry-wide calls). */
  current(repository: string): string | undefined {
    return this.byRepository.get(repository);
  }

  /** Works out an Authorization header for a `WWW-Authenticate` challenge; undefined if none helps. */
  async answer(challenge: string, repository: string): Promise<string | undefined> {
    const { scheme, params } = parseChallenge(challenge);
    const rejected = this.byRepository.get(repository);
    let authorization: string | undefined;
    if (scheme === 'basic') {
      const credentials = await this.credentials();
      authorization = credentials ? basic(credentials) : undefined;
    } else if (scheme === 'bearer') {
      authorization = await this.bearer(params, rejected);
    }
    if (authorization) this.byRepository.set(repository, authorization);
    return authorization;
  }

  /** A token for the challenge's scope; a cached one again only if it is not the one just refused (expired). */
  private async bearer(params: Record<string, string>, rejected: string | undefined): Promise<string | undefined> {
    if (!params.realm) return undefined;
    const key = `${params.realm} ${params.service ?? ''} ${params.scope ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && cached !== rejected) return cached;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const scope of (params.scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
    const credentials = await this.credentials();
    const response = await this.http.get(url, {
      headers: credentials ? { authorization: basic(credentials) } : {},
      responseType: 'buffer',
    });
    if (response.statusCode !== 200) throw RegistryResponseError.from('GET', url.origin + url.pathname, response.statusCode, response.body);
    const body = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) return undefined;
    this.tokens.set(key, `Bearer ${token}`);
    return `Bearer ${token}`;
  }
}

export function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
