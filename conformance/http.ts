import { parseChallenge, scopeKey } from '../client/challenge.ts';

/** One HTTP exchange with the registry, kept whole so a failed check can show what came back. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface RequestOptions {
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

/** Raised when no check can run: the registry is unreachable, absent or shuts us out (exit status 2). */
export class RegistryUnavailableError extends Error {}

/**
 * Talks to the registry under test: relative paths against the root URL, redirects followed,
 * and the token dance (auth-token.md) or Basic auth when credentials are configured.
 */
export class ConformanceClient {
  private readonly tokens = new Map<string, string>();
  private lastAuthorization?: string;

  constructor(
    readonly rootURL: string,
    private readonly credentials?: { username: string; password: string },
  ) {}

  private basic(): string | undefined {
    if (!this.credentials) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  private async send(method: string, url: string, options: RequestOptions, authorization?: string): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        body: options.body as BodyInit | undefined,
        headers: { ...options.headers, ...(authorization ? { Authorization: authorization } : {}) },
        redirect: 'follow',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RegistryUnavailableError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }

  /** Fetches a token for the challenge's scope, anonymously or with the credentials. */
  private async token(params: Record<string, string>): Promise<string | undefined> {
    const key = `${params.realm} ${params.service} ${scopeKey(params.scope ?? '')}`;
    const cached = this.tokens.get(key);
    if (cached) return cached;
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const scope of (params.scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
    const response = await this.send('GET', url.href, {}, this.basic());
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) this.tokens.set(key, `Bearer ${token}`);
    return token ? `Bearer ${token}` : undefined;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Exchange> {
    const url = path.startsWith('http') ? path : `${this.rootURL}${path}`;
    // The last credentials that worked go along up front (to the registry only, never another host),
    // which saves a 401 round trip on nearly every request of a run.
    const sameOrigin = new URL(url).origin === this.rootURL;
    const sent = sameOrigin ? this.lastAuthorization : undefined;
    let response = await this.send(method, url, options, sent);
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 401 && challenge) {
      const { scheme, params } = parseChallenge(challenge);
      const authorization = scheme === 'bearer' ? await this.token(params) : this.basic();
      if (authorization && authorization !== sent) {
        await response.arrayBuffer();
        response = await this.send(method, url, options, authorization);
        if (sameOrigin && response.status !== 401) this.lastAuthorization = authorization;
      }
    }
    return {
      method,
      path: new URL(url).pathname + new URL(url).search,
      status: response.status,
      headers: response.headers,
      body: Buffer.from(await response.arrayBuffer()),
    };
  }
}
