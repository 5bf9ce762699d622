import { parseChallenge, scopeKey } from './challenge.ts';
import type { Credentials } from './credentials.ts';
import { RegistryResponseError, retryAfterSeconds } from './errors.ts';
import type { Http } from './http.ts';

/**
 * Answers a registry's 401 challenges (auth-token.md): a Bearer token from the realm for the
 * challenge's service and scope, anonymous or with credentials, or Basic. Tokens are cached per
 * scope (its actions in any order), and the last one that worked for a repository is sent up front next time.
 */
export class Authenticator {
  private readonly tokens = new Map<string, Promise<string | undefined>>();
  private readonly byRepository = new Map<string, string>();

  constructor(
    private readonly http: Http,
    private readonly credentials: () => Promise<Credentials | undefined>,
    /** The registry as the user named it, for error messages. */
    private readonly registry: string,
  ) {}

  /** The Authorization header to send first for a repository (or `''` for registry-wide calls). */
  current(repository: string): string | undefined {
    return this.byRepository.get(repository);
  }

  /**
   * Works out an Authorization header for a `WWW-Authenticate` challenge to a request that carried
   * `refused` (or none); undefined if none helps.
   */
  async answer(challenge: string, repository: string, refused: string | undefined): Promise<string | undefined> {
    const { scheme, params } = parseChallenge(challenge);
    let authorization: string | undefined;
    if (scheme === 'basic') {
      const credentials = await this.credentials();
      authorization = credentials ? basic(credentials) : undefined;
    } else if (scheme === 'bearer') {
      authorization = await this.bearer(params, refused);
    }
    if (authorization) this.byRepository.set(repository, authorization);
    return authorization;
  }

  /**
   * A token for the challenge's scope; a cached one again only if it is not the one just refused
   * (expired). Requests refused at the same time share one fetch.
   */
  private async bearer(params: Record<string, string>, refused: string | undefined): Promise<string | undefined> {
    if (!params.realm) return undefined;
    const key = `${params.realm} ${params.service ?? ''} ${scopeKey(params.scope ?? '')}`;
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token !== refused) return token;
    }
    const fetching = this.fetchToken(params.realm, params.service, params.scope);
    this.tokens.set(key, fetching);
    fetching.catch(() => {
      if (this.tokens.get(key) === fetching) this.tokens.delete(key);
    });
    return fetching;
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string | undefined): Promise<string | undefined> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const resource of (scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', resource);
    const credentials = await this.credentials();
    const response = await this.http.request(url, { headers: credentials ? { authorization: basic(credentials) } : {} });
    if (response.statusCode !== 200) {
      const context = { registry: this.registry, repository: '', retryAfterSeconds: retryAfterSeconds(response.headers['retry-after']) };
      throw RegistryResponseError.from('GET', url.origin + url.pathname, response.statusCode, response.body, context);
    }
    const body = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}

export function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
