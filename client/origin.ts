import type { Http } from './http.ts';
import { codeOf, connectionError } from './connection-errors.ts';

export interface OriginOptions {
  /** Plain HTTP may serve where HTTPS is not spoken: loopback addresses, registries marked insecure. */
  plainAllowed: boolean;
  /** Told which protocol was chosen and why (`--verbose`). */
  log?: (line: string) => void;
}

/** Any answer at all, even 401 or 404, shows the protocol is spoken there. */
async function answers(http: Http, origin: string): Promise<void> {
  await http.request(`${origin}/v2/`, { retry: false, followRedirect: false });
}

/**
 * Where a registry's API answers, decided as docker and skopeo decide it: HTTPS first, and plain
 * HTTP only where allowed and only when HTTPS is not spoken there at all. An address where nothing
 * listens or a certificate that is not trusted is reported as such, never answered by falling
 * back to plain HTTP (which would send credentials in clear to whatever does answer).
 */
export async function chooseOrigin(http: Http, registry: string, host: string, options: OriginOptions): Promise<string> {
  const log = options.log ?? (() => undefined);
  const secure = `https://${host}`;
  if (!options.plainAllowed) {
    log(`${registry}: using HTTPS (${secure})`);
    return secure;
  }
  let tlsFailure: unknown;
  try {
    await answers(http, secure);
    log(`${registry}: using HTTPS (${secure})`);
    return secure;
  } catch (error) {
    const known = connectionError(error, registry, secure);
    if (known) throw known;
    tlsFailure = error;
  }
  const plain = `http://${host}`;
  const reason = (error: unknown) => codeOf(error) ?? (error as Error).message;
  try {
    await answers(http, plain);
  } catch (error) {
    throw (
      connectionError(error, registry, plain) ??
      new Error(`${registry}: neither HTTPS (${reason(tlsFailure)}) nor plain HTTP (${reason(error)}) answers at ${host}`)
    );
  }
  log(`${registry}: using plain HTTP (${plain}): HTTPS is not spoken there (${reason(tlsFailure)}); allowed for loopback addresses and insecure registries`);
  return plain;
}
