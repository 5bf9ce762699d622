import { STATUS_CODES } from 'node:http';

/** One entry of a registry's error body (distribution-spec "Error Codes"). */
export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** What the client was doing when a registry said no: the registry as the user named it, the repository. */
export interface ResponseContext {
  registry?: string;
  /** `''` for registry-wide requests (`/v2/`, the token endpoint). */
  repository?: string;
  /** Seconds the registry asked to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
}

/** The right a request needs (auth-token.md's scope actions): reads pull, deletes delete, the rest push. */
export function accessFor(method: string): 'pull' | 'push' | 'delete' {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' ? 'delete' : 'push';
}

/** Retry-After in seconds, from its delay-seconds or HTTP-date form. */
export function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  const seconds = /^\d+$/.test(header) ? Number(header) : Math.ceil((Date.parse(header) - Date.now()) / 1000);
  return Number.isFinite(seconds) ? Math.max(seconds, 0) : undefined;
}

/**
 * The message says what was refused before how: `host: push access to team/app denied: 403 …`
 * names the repository and the right even when a HEAD's answer has no body to say it.
 */
function describe(method: string, url: string, status: number, errors: RegistryErrorEntry[], context: ResponseContext): string {
  const what = `${status} ${errors.length ? errors.map((e) => `${e.code}: ${e.message}`).join('; ') : (STATUS_CODES[status] ?? 'HTTP error')}`;
  const request = `${method} ${url}`;
  const { registry, repository } = context;
  if (status === 429) {
    const wait = context.retryAfterSeconds !== undefined ? `, try again in ${context.retryAfterSeconds} s` : '';
    return `${registry ?? new URL(url).host}: rate-limited${wait}: ${what} (${request})`;
  }
  if ((status === 401 || status === 403) && registry !== undefined) {
    const refused = repository ? `${accessFor(method)} access to ${repository} denied` : status === 401 ? 'credentials refused' : 'access denied';
    return `${registry}: ${refused}: ${what} (${request})`;
  }
  return `${request}: ${what}`;
}

/** A registry answered with an unexpected status; carries its error codes and messages. */
export class RegistryResponseError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly errors: RegistryErrorEntry[],
    readonly context: ResponseContext = {},
  ) {
    super(describe(method, url, status, errors, context));
  }

  get codes(): string[] {
    return this.errors.map((e) => e.code);
  }

  /** Reads the spec's `{"errors":[...]}` body when there is one. */
  static from(method: string, url: string, status: number, body: Buffer | string | undefined, context: ResponseContext = {}): RegistryResponseError {
    let errors: RegistryErrorEntry[] = [];
    try {
      const parsed = JSON.parse(String(body ?? '')) as { errors?: RegistryErrorEntry[] };
      if (Array.isArray(parsed.errors)) errors = parsed.errors.filter((e) => typeof e?.code === 'string');
    } catch {
      // not a spec error body: the status alone says what happened
    }
    return new RegistryResponseError(method, url, status, errors, context);
  }
}

/** Nothing answered at the registry's address, or its certificate is not trusted: no request reached it. */
export class RegistryConnectionError extends Error {
  constructor(
    message: string,
    /** The system's or TLS's code: ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, … */
    readonly code: string,
    readonly kind: 'unreachable' | 'untrusted',
  ) {
    super(message);
  }
}

/** A blob or manifest body whose length differs from its descriptor's size. */
export class SizeMismatchError extends Error {}

/** The local store has no image under the requested name. */
export class NotInStoreError extends Error {}
