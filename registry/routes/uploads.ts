import type { Request } from 'express';
import { Digest, isDigestAlgorithm } from '../../oci/digest.ts';
import { isRepositoryName } from '../../oci/reference.ts';
import { handOverChunks } from '../../storage/chunk-ownership.ts';
import { OffsetMismatchError } from '../../storage/driver.ts';
import type { UploadStatus } from '../../storage/upload-store.ts';
import { RegistryError } from '../errors.ts';
import { blobLocation, sendEmpty, singleQuery, uploadLocation, uploadRange } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uploadId({ params }: RouteContext): string {
  const id = params.uploadId!;
  if (!UUID.test(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown`);
  return id;
}

function uploadHeaders(name: string, status: UploadStatus) {
  return {
    Location: uploadLocation(name, status.id),
    Range: uploadRange(status.offset),
    'Docker-Upload-UUID': status.id,
  };
}

/** The digest a request names in `?digest=`, required where `what` says so. */
function queryDigest(req: Request): Digest | undefined {
  const text = singleQuery(req.query.digest, 'digest');
  return text === undefined ? undefined : Digest.parse(text);
}

/** Whether the request carries a body (a chunk), by its framing headers. */
function hasBody(req: Request): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/**
 * `Content-Range: <start>-<end>` of a chunk (end-5; "bytes " prefix tolerated). The chunk must
 * start where the upload stands; a declared Content-Length must agree with the range.
 */
function chunkStart(req: Request): number | undefined {
  const header = req.headers['content-range'];
  if (header === undefined) return undefined;
  const match = header.trim().match(/^(?:bytes )?(\d+)-(\d+)$/);
  if (!match) throw new RegistryError('BLOB_UPLOAD_INVALID', `malformed Content-Range "${header}"`, { status: 416 });
  const start = Number(match[1]);
  const end = Number(match[2]);
  const length = req.headers['content-length'];
  if (end < start || (length !== undefined && Number(length) !== end - start + 1)) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `Content-Range ${header} does not match Content-Length ${length}`, { status: 416 });
  }
  return start;
}

/** Appends the request body; on a misplaced chunk answers 416 with where the upload stands. */
async function appendChunk(context: RouteContext, id: string): Promise<UploadStatus> {
  const { req, store, name } = context;
  try {
    return await store.uploads.append(name, id, handOverChunks(req), chunkStart(req));
  } catch (error) {
    if (error instanceof OffsetMismatchError || (error instanceof RegistryError && error.status === 416)) {
      const status = await store.uploads.status(name, id);
      throw new RegistryError('BLOB_UPLOAD_INVALID', error.message, { status: 416, headers: uploadHeaders(name, status) });
    }
    throw error;
  }
}

function sendCreated(context: RouteContext, digest: Digest): void {
  sendEmpty(context.res, 201, { Location: blobLocation(context.name, digest), 'Docker-Content-Digest': `${digest}` });
}

/** Repositories checked at once while looking for one that links a blob. */
const HOLDER_BATCH = 32;

/**
 * Whether some other repository the caller may pull links the blob: an automatic mount must never
 * hand over a blob the caller could not have pulled.
 */
async function pullableHolder(context: RouteContext, digest: Digest): Promise<boolean> {
  const { store } = context;
  const candidates = (await store.repositories.catalog()).filter((repository) => context.mayPull(repository));
  for (let start = 0; start < candidates.length; start += HOLDER_BATCH) {
    const batch = candidates.slice(start, start + HOLDER_BATCH);
    const held = await Promise.all(batch.map((repository) => store.repositories.holdsBlob(repository, digest)));
    if (held.includes(true)) return true;
  }
  return false;
}

/** end-11: mount from `from`, or from anywhere the caller may pull when `from` is absent. */
async function tryMount(context: RouteContext, digest: Digest): Promise<boolean> {
  const { req, store, name } = context;
  const from = singleQuery(req.query.from, 'from');
  if (from !== undefined) {
    if (!isRepositoryName(from) || !context.mayPull(from)) return false;
    if (!(await store.repositories.blobInfo(from, digest))) return false;
  } else if (!(await store.blobs.stat(digest)) || !(context.mayPull('*') || (await pullableHolder(context, digest)))) {
    return false;
  }
  await store.repositories.linkBlob(name, digest);
  // A concurrent gc may have taken the blob between the check and the link: then it is no mount.
  return (await store.blobs.stat(digest)) !== undefined;
}

async function startUpload(context: RouteContext): Promise<void> {
  const { req, res, store, name } = context;
  const mount = singleQuery(req.query.mount, 'mount');
  if (mount !== undefined) {
    const digest = Digest.parse(mount);
    if (await tryMount(context, digest)) {
      req.resume();
      sendCreated(context, digest);
      return;
    }
  }
  const digest = queryDigest(req);
  if (digest) {
    await store.uploads.ingest(name, handOverChunks(req), digest);
    sendCreated(context, digest);
    return;
  }
  const algorithm = singleQuery(req.query['digest-algorithm'], 'digest-algorithm') ?? 'sha256';
  if (!isDigestAlgorithm(algorithm)) throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithm}"`);
  req.resume();
  const status = await store.uploads.start(name, algorithm);
  sendEmpty(res, 202, uploadHeaders(name, status));
}

async function uploadStatus(context: RouteContext): Promise<void> {
  const status = await context.store.uploads.status(context.name, uploadId(context));
  sendEmpty(context.res, 204, uploadHeaders(context.name, status));
}

async function patchUpload(context: RouteContext): Promise<void> {
  const status = await appendChunk(context, uploadId(context));
  sendEmpty(context.res, 202, uploadHeaders(context.name, status));
}

async function finishUpload(context: RouteContext): Promise<void> {
  const { req, store, name } = context;
  const id = uploadId(context);
  const digest = queryDigest(req);
  if (!digest) {
    throw new RegistryError('DIGEST_INVALID', 'the closing PUT needs ?digest= naming the whole blob');
  }
  if (hasBody(req)) await appendChunk(context, id);
  else req.resume();
  const blob = await store.uploads.complete(name, id, digest);
  // For the request's observers (a webhook's push event): no header of a closing PUT says the size.
  context.res.locals.blobSize = blob.size;
  sendCreated(context, digest);
}

async function cancelUpload(context: RouteContext): Promise<void> {
  context.req.resume();
  await context.store.uploads.cancel(context.name, uploadId(context));
  sendEmpty(context.res, 204);
}

/** end-4a/4b/4c and end-11: start an upload, push in one request, or mount. */
export const uploadsRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/,
  methods: { POST: { id: 'end-4', action: 'push', handle: startUpload } },
};

/** end-13 (status), end-5 (chunk), end-6 (close), end-14 (cancel). */
export const uploadRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uploadId>[^/]+)$/,
  methods: {
    GET: { id: 'end-13', action: 'push', handle: uploadStatus },
    PATCH: { id: 'end-5', action: 'push', handle: patchUpload },
    PUT: { id: 'end-6', action: 'push', handle: finishUpload },
    DELETE: { id: 'end-14', action: 'push', handle: cancelUpload },
  },
};
