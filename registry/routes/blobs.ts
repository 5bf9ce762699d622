import { pipeline } from 'node:stream/promises';
import { Digest } from '../../oci/digest.ts';
import { canSend, type ByteRange } from '../../storage/driver.ts';
import { RegistryError } from '../errors.ts';
import { sendEmpty } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

/**
 * Parses a single `bytes=` range (RFC 9110 §14.1.2) against the blob size. Undefined means
 * "send it all" (no header, or a form this server ignores, as RFC 9110 allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size };
  }
  const start = Number(first);
  const end = last === '' ? size : Math.min(Number(last) + 1, size);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}

async function getBlob({ req, res, store, name, params }: RouteContext): Promise<void> {
  const digest = Digest.parse(params.digest!);
  const redirect = req.method === 'GET' ? await store.blobs.redirectURL(digest) : undefined;
  // The bytes a GET answered here sends: none for a range outside the blob (416 below). The whole
  // blob is a range too: the driver then knows how much is coming (S3 splices large ones).
  const sent = (size: number): ByteRange | undefined => {
    const range = parseRange(req.headers.range, size);
    return range === 'unsatisfiable' ? undefined : (range ?? { start: 0, end: size });
  };
  const blob = await store.repositories.openBlob(name, digest, req.method === 'GET' && !redirect ? sent : undefined);
  if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`, { detail: { digest: `${digest}` } });
  const { size, body } = blob;
  const headers = {
    'Docker-Content-Digest': `${digest}`,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  if (req.method === 'HEAD') {
    sendEmpty(res, 200, { ...headers, 'Content-Length': size });
    return;
  }
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new RegistryError('SIZE_INVALID', `range ${req.headers.range} is outside the ${size}-byte blob`, {
      status: 416,
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  if (redirect) {
    sendEmpty(res, 307, { Location: redirect, 'Docker-Content-Digest': `${digest}` });
    return;
  }
  // A GET answered here, in a range within the blob: `sent` had its bytes opened.
  const bytes = body!;
  if (range) {
    res.writeHead(206, {
      ...headers,
      'Content-Length': range.end - range.start,
      'Content-Range': `bytes ${range.start}-${range.end - 1}/${size}`,
    });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': size });
  }
  if (canSend(bytes)) await bytes.sendTo(res);
  else await pipeline(bytes, res);
}

async function deleteBlob({ res, store, name, params }: RouteContext): Promise<void> {
  const digest = Digest.parse(params.digest!);
  if (!(await store.repositories.unlinkBlob(name, digest))) {
    throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`);
  }
  sendEmpty(res, 202, { 'Docker-Content-Digest': `${digest}` });
}

/** end-2 (GET/HEAD a blob) and end-10 (DELETE a blob). */
export const blobsRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/,
  methods: {
    GET: { id: 'end-2', action: 'pull', handle: getBlob },
    HEAD: { id: 'end-2', action: 'pull', handle: getBlob },
    DELETE: { id: 'end-10', action: 'delete', handle: deleteBlob },
  },
};
