import type { ConformanceClient, Exchange } from './http.ts';
import type { ConformanceOptions, Workflow } from './options.ts';

/** A check's verdict; failures and skips say why. */
export type Outcome = { status: 'passed' } | { status: 'failed'; reason: string } | { status: 'skipped'; reason: string };

export interface CheckContext {
  client: ConformanceClient;
  options: ConformanceOptions;
  /** State a workflow's setup shares with its checks (pushed digests, upload locations…). */
  state: Map<string, unknown>;
}

/** One conformance check: the spec endpoint or section it tests, and how. */
export interface Check {
  /**
   * Stable name, `<workflow>.<what>` (e.g. `push.chunk-retry-stale`): what `--only`, the reports and
   * conformance/README.md's table of the official suite's counterparts refer to.
   */
  id: string;
  /** The endpoint (end-N) or spec section, e.g. `end-5` or `Listing Referrers`. */
  spec: string;
  title: string;
  /** Needs nothing from the workflow's setup: runs on a registry that refuses the setup's pushes. */
  standalone?: true;
  run(context: CheckContext): Promise<void>;
}

/** A workflow: setup, its checks in order, and teardown of what it pushed. */
export interface WorkflowDefinition {
  name: Workflow;
  setup?(context: CheckContext): Promise<void>;
  checks: Check[];
  /**
   * Deletes what setup and checks pushed. It runs (and is reported) as one more check whenever
   * setup succeeded, since its DELETEs are requests the spec judges like any other.
   */
  teardown?: Check;
}

/** Thrown by a check that does not hold. */
export class CheckFailure extends Error {}

/** Thrown by a check that cannot run here (a feature the registry may leave out, say). */
export class CheckSkipped extends Error {}

const BODY_EXCERPT = 300;

/** Shortens opaque query values (Distribution's `_state` runs to hundreds of characters). */
function shortPath(path: string): string {
  return path.replace(/=([^&]{16})[^&]{64,}/g, '=$1…');
}

/** What came back, in a form a failure message can carry. */
export function describe(exchange: Exchange, headers: string[] = []): string {
  const shown = headers.map((name) => `${name}: ${exchange.headers.get(name) ?? '(absent)'}`).join(', ');
  const text = exchange.body.toString('utf8').replace(/\s+/g, ' ').trim();
  const excerpt = text.length > BODY_EXCERPT ? `${text.slice(0, BODY_EXCERPT)}…` : text;
  return `${exchange.method} ${shortPath(exchange.path)} → ${exchange.status}${shown ? ` (${shown})` : ''}${excerpt ? ` body: ${excerpt}` : ''}`;
}

export function expectStatus(exchange: Exchange, expected: number | number[], what: string, headers: string[] = []): void {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(exchange.status)) {
    throw new CheckFailure(`${what}: expected ${allowed.join(' or ')}, got ${describe(exchange, headers)}`);
  }
}

export function expectHeader(exchange: Exchange, name: string, expected: string | RegExp, what: string): void {
  const actual = exchange.headers.get(name);
  const ok = actual !== null && (typeof expected === 'string' ? actual === expected : expected.test(actual));
  if (!ok) throw new CheckFailure(`${what}: expected header ${name}: ${expected}, got ${describe(exchange, [name])}`);
}

/**
 * The path and query a Location header names: it may be absolute or relative (RFC 9110 §10.2.2), and
 * the checks compare where it points on the registry, not how it is spelled.
 */
export function locationPath(exchange: Exchange): string | undefined {
  const location = exchange.headers.get('location');
  if (!location) return undefined;
  const url = new URL(location, `http://registry${exchange.path}`);
  return url.pathname + url.search;
}

export function expectThat(condition: boolean, message: string): void {
  if (!condition) throw new CheckFailure(message);
}

/** The spec's error codes (distribution-spec "Error Codes"). */
export const SPEC_ERROR_CODES: readonly string[] = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];
const ERROR_CODES = new Set(SPEC_ERROR_CODES);

/** The body as JSON, or a failure saying it is not. */
export function expectJSON<T>(exchange: Exchange, what: string): T {
  try {
    return JSON.parse(exchange.body.toString('utf8')) as T;
  } catch {
    throw new CheckFailure(`${what}: the body is not JSON: ${describe(exchange)}`);
  }
}

/** The `code` of each error in a spec error body; none when the body is not one. */
export function errorCodes(exchange: Exchange): string[] {
  try {
    const errors = (JSON.parse(exchange.body.toString('utf8')) as { errors?: { code?: unknown }[] }).errors;
    return Array.isArray(errors) ? errors.map((error) => String(error.code)) : [];
  } catch {
    return [];
  }
}

/**
 * A 4xx body that is JSON must be `{"errors":[{code,message,detail}]}` with a spec code ("Error Codes");
 * with `codes`, one of those, and the body must be JSON unless `onlyIfJSON` (4xx bodies MAY be any format).
 */
export function expectErrorBody(exchange: Exchange, what: string, codes?: readonly string[], { onlyIfJSON = false } = {}): void {
  let body: unknown;
  try {
    body = JSON.parse(exchange.body.toString('utf8'));
  } catch {
    if (codes && !onlyIfJSON) throw new CheckFailure(`${what}: expected a JSON error body with ${codes.join(' or ')}, got ${describe(exchange)}`);
    return;
  }
  const errors = (body as { errors?: { code?: unknown }[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0 || errors.some((e) => typeof e.code !== 'string' || !ERROR_CODES.has(e.code))) {
    throw new CheckFailure(`${what}: a JSON error body must list errors with the spec's codes, got ${describe(exchange)}`);
  }
  if (codes && !errors.some((e) => codes.includes(e.code as string))) {
    throw new CheckFailure(`${what}: expected error code ${codes.join(' or ')}, got ${describe(exchange)}`);
  }
}
