import { RegistryConnectionError } from './errors.ts';

/** Network errors that mean nothing answers at the address: waiting and asking again will not change that. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name cannot be resolved',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'no route to the network',
};

/** Node's codes for a certificate chain it will not trust (openssl's verify results and the host name check). */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The user's reading of an error that kept a request to `origin` from reaching the registry at all,
 * or undefined for any other error (a reset mid-transfer, a timeout), which callers keep as it is.
 */
export function connectionError(error: unknown, registry: string, origin: string): RegistryConnectionError | undefined {
  const code = codeOf(error);
  if (code === undefined) return undefined;
  const reason = UNREACHABLE[code];
  if (reason) return new RegistryConnectionError(`${registry} is not reachable: ${reason} (${origin})`, code, 'unreachable');
  if (UNTRUSTED.has(code)) {
    return new RegistryConnectionError(`${registry}: the TLS certificate of ${origin} is not trusted: ${(error as Error).message}`, code, 'untrusted');
  }
  return undefined;
}
