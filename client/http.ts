import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';

export interface HttpOptions {
  /** Milliseconds without a byte before a request fails (connect, headers, or between body chunks). */
  idleTimeoutMs?: number;
  /** Retries of idempotent requests on network errors, 5xx and 429. */
  retries?: number;
  /** Skip TLS verification (self-signed test registries). */
  insecureTls?: boolean;
}

/**
 * The client's one got instance: keep-alive agents, timeouts, and retries with backoff on
 * 5xx/429 (honouring Retry-After) and network errors for idempotent methods only. Statuses are
 * returned, not thrown, so callers map them to registry errors; got drops Authorization when a
 * redirect leaves the origin.
 */
export function createHttp(options: HttpOptions = {}): Got {
  const idle = options.idleTimeoutMs ?? 30_000;
  return got.extend({
    agent: {
      http: new HttpAgent({ keepAlive: true, maxSockets: 32 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }),
    },
    // No `send` or `request` limit: a large upload or download may take as long as it needs while bytes flow.
    timeout: { lookup: idle, connect: idle, secureConnect: idle, response: idle, socket: idle },
    retry: {
      limit: options.retries ?? 4,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN'],
      backoffLimit: 10_000,
      maxRetryAfter: 60_000,
    },
    throwHttpErrors: false,
    followRedirect: true,
    https: { rejectUnauthorized: !options.insecureTls },
    headers: { 'user-agent': 'berth-client/0.1' },
  });
}
