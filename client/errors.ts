import type { Digest } from '../oci/digest.ts';

/** One entry of a registry's error body (distribution-spec "Error Codes"). */
export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** A registry answered with an unexpected status; carries its error codes and messages. */
export class RegistryResponseError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly errors: RegistryErrorEntry[],
  ) {
    const what = errors.length ? errors.map((e) => `${e.code}: ${e.message}`).join('; ') : `HTTP ${status}`;
    super(`${method} ${url}: ${status} ${what}`);
  }

  get codes(): string[] {
    return this.errors.map((e) => e.code);
  }

  /** Reads the spec's `{"errors":[...]}` body when there is one. */
  static from(method: string, url: string, status: number, body: Buffer | string | undefined): RegistryResponseError {
    let errors: RegistryErrorEntry[] = [];
    try {
      const parsed = JSON.parse(String(body ?? '')) as { errors?: RegistryErrorEntry[] };
      if (Array.isArray(parsed.errors)) errors = parsed.errors.filter((e) => typeof e?.code === 'string');
    } catch {
      // not a spec error body: the status alone says what happened
    }
    return new RegistryResponseError(method, url, status, errors);
  }
}

/** Content hashed to something other than the digest that named it. */
export class DigestMismatchError extends Error {
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
    readonly source: string,
  ) {
    super(`digest mismatch for ${source}: expected ${expected}, got ${actual}`);
  }
}

/** A blob or manifest body whose length differs from its descriptor's size. */
export class SizeMismatchError extends Error {}

/** The local store has no image under the requested name. */
export class NotInStoreError extends Error {}
