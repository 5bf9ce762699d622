import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';

/** A request about to be sent again, and why. */
export interface RetryNotice {
  method: string;
  url: string;
  /** The status that answered (`503`) or the network error's code (`ECONNRESET`). */
  reason: string;
  /** The retry about to happen, from 1, and how many there may be. */
  attempt: number;
  limit: number;
  delayMs: number;
}

export interface HttpOptions {
  /** Milliseconds without a byte before a request fails (connect, headers, or between body chunks). */
  idleTimeoutMs?: number;
  /** Retries of idempotent requests on network errors, 5xx and 429. */
  retries?: number;
  /** Skip TLS verification (self-signed test registries). */
  insecureTls?: boolean;
  /** Told of each retry before its wait, so a user sees why nothing happens meanwhile. */
  onRetry?: (notice: RetryNotice) => void;
}

/**
 * The longest Retry-After waited for. A registry asking for longer (a login locked out after failed
 * attempts, a pull quota) is reported at once with its wait: sitting through a minute or an hour
 * in a command line only to fail again helps nobody.
 */
export const MAX_RETRY_AFTER_MS = 10_000;

/**
 * The client's one got instance: keep-alive agents, timeouts, and retries with backoff on
 * 5xx/429 (honouring Retry-After) and network errors for idempotent methods only. Statuses are
 * returned, not thrown, so callers map them to registry errors; got drops Authorization when a
 * redirect leaves the origin. A refused connection or an unknown host name is not retried: nothing
 * answers at that address, and backing off for 15 s before saying so only hid it.
 */
export function createHttp(options: HttpOptions = {}): Got {
  const idle = options.idleTimeoutMs ?? 30_000;
  const limit = options.retries ?? 4;
  return got.extend({
    agent: {
      http: new HttpAgent({ keepAlive: true, maxSockets: 32 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }),
    },
    // No `send` or `request` limit: a large upload or download may take as long as it needs while bytes flow.
    timeout: { lookup: idle, connect: idle, secureConnect: idle, response: idle, socket: idle },
    retry: {
      limit,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'EPIPE', 'ENETUNREACH', 'EAI_AGAIN'],
      backoffLimit: 10_000,
      maxRetryAfter: MAX_RETRY_AFTER_MS,
      calculateDelay: ({ attemptCount, error, computedValue }) => {
        if (computedValue > 0) {
          options.onRetry?.({
            method: error.options.method,
            url: String(error.options.url),
            reason: error.response ? String(error.response.statusCode) : (error.code ?? error.message),
            attempt: attemptCount,
            limit,
            delayMs: computedValue,
          });
        }
        return computedValue;
      },
    },
    throwHttpErrors: false,
    followRedirect: true,
    https: { rejectUnauthorized: !options.insecureTls },
    headers: { 'user-agent': 'berth-client/0.1' },
  });
}
