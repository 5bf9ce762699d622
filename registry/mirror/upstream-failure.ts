import { RegistryResponseError } from '../../client/errors.ts';
import { DigestMismatchError } from '../../oci/digest.ts';
import { RegistryError } from '../errors.ts';
import type { Upstream } from './upstream.ts';

/** An upstream's definite "no such manifest or blob": the cache answers as if it were not a mirror. */
export function isNotFound(error: unknown): boolean {
  return error instanceof RegistryResponseError && error.status === 404;
}

/** The upstream did not answer, or its body broke off: told apart from the store's failures, which are answered as such. */
export class UpstreamFault extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A failure of the upstream's (no answer, an error status, a cut or wrong body), as against the store's. */
export function isUpstreamFault(error: unknown): boolean {
  return error instanceof RegistryResponseError || error instanceof UpstreamFault || error instanceof DigestMismatchError;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/[\r\n"\\]+/g, ' ').slice(0, 300);
}

/** RFC 9111 §5.5's Warning (111: revalidation failed) on an answer the cache gave because the upstream did not. */
export function staleWarning(upstream: Upstream, error: unknown): string {
  return `111 - "Revalidation Failed: upstream ${upstream.name}: ${reason(error)}"`;
}

/**
 * The error a client gets when the upstream failed and nothing is cached: its 429 with its
 * Retry-After, 502 for content that does not match its digest, else 503.
 */
export function upstreamError(upstream: Upstream, error: unknown): RegistryError {
  const detail = { upstream: upstream.name };
  if (error instanceof RegistryResponseError && error.status === 429) {
    const wait = error.context.retryAfterSeconds;
    return new RegistryError('TOOMANYREQUESTS', `upstream ${upstream.name} is rate-limiting: ${reason(error)}`, {
      detail,
      headers: wait !== undefined ? { 'Retry-After': String(wait) } : {},
    });
  }
  if (error instanceof DigestMismatchError) {
    return new RegistryError('UNAVAILABLE', `upstream ${upstream.name} sent content that does not match its digest: ${reason(error)}`, { detail, status: 502 });
  }
  return new RegistryError('UNAVAILABLE', `upstream ${upstream.name} failed: ${reason(error)}`, { detail });
}
