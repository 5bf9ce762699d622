import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { retryAfterSeconds } from './errors.ts';

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

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** False: sent once whatever answers (a caller that resumes by itself). */
  retry?: boolean;
  /** False: a redirect is the answer. */
  followRedirect?: boolean;
}

/** An answer with its body still to read. */
export interface HttpStreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The URL asked for. */
  requestUrl: URL;
  /** The URL that answered, after redirects. */
  url: string;
  body: IncomingMessage;
}

/** An answer read whole. */
export interface HttpResponse extends Omit<HttpStreamResponse, 'body'> {
  body: Buffer;
}

/** The client's HTTP: keep-alive connections, idle timeouts, retries, redirects. */
export interface Http {
  request(url: URL | string, init?: HttpRequest): Promise<HttpResponse>;
  stream(url: URL | string, init?: HttpRequest): Promise<HttpStreamResponse>;
  /** The same connections and settings without TLS certificate checks. */
  insecure(): Http;
}

/**
 * The longest Retry-After waited for. A registry asking for longer (a login locked out after failed
 * attempts, a pull quota) is reported at once with its wait: sitting through a minute or an hour
 * in a command line only to fail again helps nobody.
 */
export const MAX_RETRY_AFTER_MS = 10_000;

const BACKOFF_LIMIT_MS = 10_000;
const MAX_REDIRECTS = 10;
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRIED_ERRORS = new Set(['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'EPIPE', 'ENETUNREACH', 'EAI_AGAIN']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class IdleTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

/** Backoff of 1 s, 2 s, 4 s … (at most 10 s) plus up to 100 ms of noise; Retry-After where the answer gives one, unless too long. */
function retryDelay(attempt: number, headers: IncomingHttpHeaders | undefined): number | undefined {
  const asked = retryAfterSeconds(headers?.['retry-after']);
  if (asked !== undefined) return asked * 1000 <= MAX_RETRY_AFTER_MS ? asked * 1000 : undefined;
  return Math.min(2 ** (attempt - 1) * 1000 + Math.random() * 100, BACKOFF_LIMIT_MS);
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * node:http itself, with what a registry client needs around it, because loading got cost every
 * `berth` command some 40 ms of start-up, half of a re-pull whose blobs are all present (issue 26).
 */
class NodeHttp implements Http {
  constructor(
    private readonly options: HttpOptions,
    private readonly agents: { http: HttpAgent; https: HttpsAgent },
    private readonly verifyTls: boolean,
  ) {}

  insecure(): Http {
    return new NodeHttp(this.options, this.agents, false);
  }

  async request(url: URL | string, init: HttpRequest = {}): Promise<HttpResponse> {
    const response = await this.stream(url, init);
    return { ...response, body: await readAll(response.body) };
  }

  /**
   * Retries idempotent requests whose body can be sent again on 5xx, 429 and network errors, with
   * backoff (honouring Retry-After). A refused connection or an unknown host name is not retried:
   * nothing answers at that address, and backing off for 15 s before saying so only hid it.
   */
  async stream(target: URL | string, init: HttpRequest = {}): Promise<HttpStreamResponse> {
    const url = new URL(target);
    const method = init.method ?? 'GET';
    const limit = this.options.retries ?? 4;
    const retried = init.retry !== false && RETRIED_METHODS.has(method) && !(init.body && !Buffer.isBuffer(init.body));
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let delay: number | undefined;
      try {
        const response = await this.follow(url, method, init);
        if (!retried || attempt > limit || !RETRIED_STATUSES.has(response.statusCode)) return response;
        delay = retryDelay(attempt, response.headers);
        if (delay === undefined) return response;
        response.body.resume();
        reason = String(response.statusCode);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!retried || attempt > limit || !code || !RETRIED_ERRORS.has(code)) throw error;
        delay = retryDelay(attempt, undefined)!;
        reason = code;
      }
      this.options.onRetry?.({ method, url: url.toString(), reason, attempt, limit, delayMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Follows redirects; Authorization stays behind when one leaves the origin (S3 and CDN URLs carry their own). */
  private async follow(requestUrl: URL, requestMethod: string, init: HttpRequest): Promise<HttpStreamResponse> {
    let url = requestUrl;
    let method = requestMethod;
    let headers = init.headers ?? {};
    let body = init.body;
    for (let hops = 0; ; hops++) {
      const response = await this.send(url, method, headers, body);
      const location = response.headers.location;
      const resendable = body === undefined || Buffer.isBuffer(body);
      if (init.followRedirect === false || !REDIRECTS.has(response.statusCode ?? 0) || !location || hops >= MAX_REDIRECTS || !resendable) {
        return { statusCode: response.statusCode ?? 0, headers: response.headers, requestUrl, url: url.toString(), body: response };
      }
      response.resume();
      const next = new URL(location, url);
      if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
      if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  private send(url: URL, method: string, headers: Record<string, string>, body: Buffer | Readable | undefined): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    const idle = this.options.idleTimeoutMs ?? 30_000;
    const outgoing: Record<string, string> = { 'user-agent': 'berth-client/0.1', ...headers };
    if (Buffer.isBuffer(body)) outgoing['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(url, {
        method,
        headers: outgoing,
        agent: secure ? this.agents.https : this.agents.http,
        ...(secure ? { rejectUnauthorized: this.verifyTls } : {}),
      });
      request.setTimeout(idle, () => request.destroy(new IdleTimeoutError(`${method} ${url}: no byte for ${idle} ms`)));
      request.once('error', reject);
      request.once('response', (response) => {
        // A body nobody reads any more (a redirect, a retried answer) may still fail: that is no crash.
        response.once('error', () => undefined);
        request.once('error', (error) => response.destroy(error));
        resolve(response);
      });
      if (body === undefined || Buffer.isBuffer(body)) request.end(body);
      else {
        body.once('error', (error) => request.destroy(error));
        body.pipe(request);
      }
    });
  }
}

/** The client's one HTTP instance: keep-alive agents, idle timeouts, retries with backoff, redirects followed. */
export function createHttp(options: HttpOptions = {}): Http {
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 32 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }) };
  return new NodeHttp(options, agents, !options.insecureTls);
}
