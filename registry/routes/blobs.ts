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
  const info = await store.repositories.blobInfo(name, digest);
  if (!info) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`, { detail: { digest: `${digest}` } });
  const headers = {
    'Docker-Content-Digest': `${digest}`,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  if (req.method === 'HEAD') {
    sendEmpty(res, 200, { ...headers, 'Content-Length': info.size });
    return;
  }
  const range = parseRange(req.headers.range, info.size);
  if (range === 'unsatisfiable') {
    throw new RegistryError('SIZE_INVALID', `range ${req.headers.range} is outside the ${info.size}-byte blob`, {
      status: 416,
      headers: { 'Content-Range': `bytes */${info.size}` },
    });
  }
  const redirect = await store.blobs.redirectURL(digest);
  if (redirect) {
    sendEmpty(res, 307, { Location: redirect, 'Docker-Content-Digest': `${digest}` });
    return;
  }
  // The whole blob is a range too: the driver then knows how much is coming (S3 splices large ones).
  const body = await store.blobs.reader(digest, range ?? { start: 0, end: info.size });
  if (range) {
    res.writeHead(206, {
      ...headers,
      'Content-Length': range.end - range.start,
      'Content-Range': `bytes ${range.start}-${range.end - 1}/${info.size}`,
    });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': info.size });
  }
  if (canSend(body)) await body.sendTo(res);
  else await pipeline(body, res);
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
