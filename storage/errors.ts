import type { Digest } from '../oci/digest.ts';

/** The upload session does not exist (never started, finished, or cancelled). */
export class UploadUnknownError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} is unknown`);
  }
}

/** The bytes received do not hash to the digest the client named. */
export class DigestMismatchError extends Error {
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
  ) {
    super(`content digest is ${actual}, not ${expected}`);
  }
}
