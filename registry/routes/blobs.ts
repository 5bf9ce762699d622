import { pipeline } from 'node:stream/promises';
import { Digest } from '../../oci/digest.ts';
import { canSend, PathNotFoundError, type ByteRange } from '../../storage/driver.ts';
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
  const unknown = () => new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`, { detail: { digest: `${digest}` } });
  const redirect = req.method === 'GET' ? await store.blobs.redirectURL(digest) : undefined;
  // With the size known from an earlier request, the bytes are asked for while the link is checked:
  // on S3 a download then waits for one round trip instead of two (link, then bytes).
  const linked = store.repositories.holdsBlob(name, digest);
  const known = store.blobs.knownSize(digest);
  const knownRange = known === undefined ? undefined : parseRange(req.headers.range, known);
  let early =
    req.method === 'GET' && !redirect && known !== undefined && knownRange !== 'unsatisfiable'
      ? store.blobs.download(digest, known, knownRange ?? { start: 0, end: known }, linked)
      : undefined;
  early?.catch(() => undefined);
  try {
    const [held, size] = await Promise.all([linked, known ?? store.blobs.size(digest)]);
    if (!held || size === undefined) throw unknown();
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
    // The whole blob is a range too: the driver then knows how much is coming (S3 splices large ones).
    const opening = early ?? store.blobs.download(digest, size, range ?? { start: 0, end: size }, linked);
    early = undefined;
    // Linked but gone (deleted since its size was read, or by hand): unknown, as for any client.
    const body = await opening.catch((error: unknown) => {
      throw error instanceof PathNotFoundError ? unknown() : error;
    });
    if (range) {
      res.writeHead(206, {
        ...headers,
        'Content-Length': range.end - range.start,
        'Content-Range': `bytes ${range.start}-${range.end - 1}/${size}`,
      });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': size });
    }
    if (canSend(body)) await body.sendTo(res);
    else await pipeline(body, res);
  } finally {
    // Opened early for a blob the repository does not hold (or a failed check): closed unread.
    if (early) void early.then((reader) => reader.destroy(), () => undefined);
  }
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
