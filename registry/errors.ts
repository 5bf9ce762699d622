import type { Response } from 'express';
import { DigestMismatchError, DigestParseError } from '../oci/digest.ts';
import { ManifestParseError } from '../oci/manifest.ts';
import { ReferenceParseError } from '../oci/reference.ts';
import { OffsetMismatchError, StorageUnavailableError } from '../storage/driver.ts';
import { UploadUnknownError } from '../storage/errors.ts';

/** distribution-spec "Error Codes" (code-1 … code-14), with the status each is answered with. */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  /** Distribution's codes for server faults; 5xx bodies are outside the spec's list. */
  UNKNOWN: { status: 500, message: 'unknown error' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorEntry {
  code: ErrorCode;
  message: string;
  detail?: unknown;
}

/** An error answered with the spec's JSON body; `status` overrides the code's usual one. */
export class RegistryError extends Error {
  readonly entries: ErrorEntry[];
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, options: { detail?: unknown; status?: number; headers?: Record<string, string>; more?: ErrorEntry[] } = {}) {
    super(message ?? ERROR_CODES[code].message);
    this.entries = [{ code, message: this.message, ...(options.detail !== undefined ? { detail: options.detail } : {}) }, ...(options.more ?? [])];
    this.status = options.status ?? ERROR_CODES[code].status;
    this.headers = options.headers ?? {};
  }

  get code(): ErrorCode {
    return this.entries[0]!.code;
  }
}

/** Maps what the layers below throw onto the spec's errors; anything else is a 500. */
export function toRegistryError(error: unknown): RegistryError | undefined {
  if (error instanceof RegistryError) return error;
  if (error instanceof DigestParseError) return new RegistryError('DIGEST_INVALID', error.message);
  if (error instanceof DigestMismatchError) {
    return new RegistryError('DIGEST_INVALID', error.message, { detail: { expected: `${error.expected}`, actual: `${error.actual}` } });
  }
  if (error instanceof ManifestParseError) return new RegistryError('MANIFEST_INVALID', error.message);
  if (error instanceof ReferenceParseError) return new RegistryError('MANIFEST_INVALID', error.message);
  if (error instanceof UploadUnknownError) return new RegistryError('BLOB_UPLOAD_UNKNOWN', error.message);
  if (error instanceof OffsetMismatchError) {
    return new RegistryError('BLOB_UPLOAD_INVALID', `chunk must start at byte ${error.actual}, not ${error.expected}`, {
      status: 416,
      detail: { expected: error.actual, received: error.expected },
    });
  }
  if (error instanceof StorageUnavailableError) return new RegistryError('UNAVAILABLE', error.message);
  return storageFault(error);
}

/** Operating-system errors of the storage below: what the operator must fix, named in the answer. */
const STORAGE_FAULTS: Record<string, { status: number; code: ErrorCode; cause: string }> = {
  ENOSPC: { status: 507, code: 'UNKNOWN', cause: 'no space left on device' },
  EDQUOT: { status: 507, code: 'UNKNOWN', cause: 'disk quota exceeded' },
  EIO: { status: 500, code: 'UNKNOWN', cause: 'input/output error' },
  EROFS: { status: 500, code: 'UNKNOWN', cause: 'read-only file system' },
  EACCES: { status: 500, code: 'UNKNOWN', cause: 'permission denied' },
  EPERM: { status: 500, code: 'UNKNOWN', cause: 'operation not permitted' },
  EMFILE: { status: 503, code: 'UNAVAILABLE', cause: 'too many open files' },
  ECONNRESET: { status: 503, code: 'UNAVAILABLE', cause: 'connection reset' },
  ECONNREFUSED: { status: 503, code: 'UNAVAILABLE', cause: 'connection refused' },
  ETIMEDOUT: { status: 503, code: 'UNAVAILABLE', cause: 'timed out' },
};

/**
 * A storage error the request cannot get past: 507 when storage is full, 503 when it is out of
 * reach, 500 otherwise. Only reached while the client is still connected (registry/app.ts), so a
 * reset here is the storage's, not the client's.
 */
function storageFault(error: unknown): RegistryError | undefined {
  const fault = STORAGE_FAULTS[(error as NodeJS.ErrnoException | undefined)?.code ?? ''];
  if (!fault) return undefined;
  return new RegistryError(fault.code, `storage failed: ${fault.cause}`, { status: fault.status });
}

/** Writes an error response in the spec's format (HEAD gets the status and headers only). */
export function sendError(res: Response, method: string, error: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: error.entries });
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(method === 'HEAD' ? undefined : body);
}
