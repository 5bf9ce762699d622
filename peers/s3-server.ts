import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreePort, startProcess } from './processes.ts';

/** A real S3-compatible server (s3rver) on loopback, in its own process, with one bucket. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Environment that points Berth (and the AWS SDK) at this server. */
  env: NodeJS.ProcessEnv;
  /** Makes an object look last written at `modified` (its LastModified), as `utimes` does a file on disk. */
  backdate(key: string, modified: Date): Promise<void>;
  /** Stops it (for tests of an S3 outage); `stop` also removes its files. */
  kill(): Promise<void>;
  /** Starts it again (after `kill`) on the same port, with the objects it held. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const KEY = 'S3RVER';

/** Optional operations some S3-compatible servers lack; s3rver answers 501 for those listed. */
export type OptionalS3Feature = 'CopyObject' | 'UploadPartCopy' | 'DeleteObjects';

/** s3rver's controller behind each optional operation. */
const CONTROLLERS: Record<OptionalS3Feature, string> = {
  CopyObject: 'putObjectCopy',
  UploadPartCopy: 'uploadPartCopy',
  DeleteObjects: 'deleteMultipleObjects',
};

/**
 * s3rver's listing tokens use DES, which OpenSSL 3 has only in its legacy provider. Its
 * delimiter listing skips the folders below a common prefix, so prefixes of keys two or more
 * levels down never appear; the shim below lists without the delimiter and groups the keys
 * itself, as S3 does, so the driver meets real S3 semantics here. s3rver also never splits its
 * common prefixes across pages: given a page size, the shim pages as S3 does, counting common
 * prefixes towards a page and continuing after its last entry, prefix or key.
 */
const SCRIPT = `
const S3rver = require('@20minutes/s3rver');
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem');
const [port, directory, bucket, lacking, checkSignatures, pageSizeText] = process.argv.slice(1);
const pageSize = pageSizeText ? Number(pageSizeText) : undefined;
const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (bucket, options) {
  const limit = Math.min(options.maxKeys ?? Infinity, pageSize ?? Infinity);
  if (!options.delimiter) return listObjects.call(this, bucket, { ...options, maxKeys: limit });
  const prefix = options.prefix || '';
  const after = options.startAfter || '';
  // In pages: s3rver reads every listed object's metadata at once, and 10,000 keys ran out of descriptors.
  const all = [];
  for (let page = { isTruncated: true }; page.isTruncated; ) {
    page = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: 500, startAfter: all.at(-1)?.key ?? options.startAfter });
    all.push(...page.objects);
  }
  if (pageSize === undefined) {
    const commonPrefixes = new Set();
    const objects = [];
    for (const object of all) {
      const at = object.key.indexOf(options.delimiter, prefix.length);
      if (at >= 0) commonPrefixes.add(object.key.slice(0, at + options.delimiter.length));
      else objects.push(object);
    }
    return { objects: objects.slice(0, limit), commonPrefixes: [...commonPrefixes].sort(), isTruncated: objects.length > limit };
  }
  const entries = new Map();
  for (const object of all) {
    const at = object.key.indexOf(options.delimiter, prefix.length);
    const key = at >= 0 ? object.key.slice(0, at + options.delimiter.length) : object.key;
    // A page that ended on a common prefix continues after everything below it.
    if (key > after && !entries.has(key)) entries.set(key, at >= 0 ? undefined : object);
  }
  const keys = [...entries.keys()].sort();
  const page = keys.slice(0, limit);
  const commonPrefixes = page.filter((key) => entries.get(key) === undefined);
  const objects = page.filter((key) => entries.get(key) !== undefined).map((key) => entries.get(key));
  const isTruncated = keys.length > limit;
  // s3rver's controller makes the continuation token of the last object's key: a page that ends
  // on a common prefix lists it last as a stand-in object too, which getBucket below takes out.
  if (isTruncated && commonPrefixes.at(-1) === page.at(-1)) {
    objects.push({ key: page.at(-1), size: 0, lastModifiedDate: new Date(0), metadata: { etag: '""' } });
  }
  return { objects, commonPrefixes, isTruncated };
};
const bucketController = require('@20minutes/s3rver/lib/controllers/bucket');
const getBucket = bucketController.getBucket;
bucketController.getBucket = async function (ctx) {
  await getBucket.call(this, ctx);
  const result = ctx.body?.ListBucketResult;
  if (!result?.Delimiter) return;
  // A key that is also a common prefix is the stand-in above: a real one would have been grouped.
  const prefixes = new Set(result.CommonPrefixes.map((common) => common.Prefix));
  result.Contents = result.Contents.filter((object) => !prefixes.has(object.Key));
  if (result.KeyCount !== undefined) result.KeyCount = result.Contents.length + result.CommonPrefixes.length;
};
const S3Error = require('@20minutes/s3rver/lib/models/error');
const objectController = require('@20minutes/s3rver/lib/controllers/object');
// Distribution's s3 driver resumes an upload with ListMultipartUploads and ListParts, and gc aborts
// abandoned ones with AbortMultipartUpload: s3rver lacks all three.
const fs = require('fs/promises');
const path = require('path');
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account');
const owner = { ID: DUMMY_ACCOUNT.id, DisplayName: DUMMY_ACCOUNT.displayName };
const xmlns = { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' };
FilesystemStore.prototype.listUploads = async function (bucket) {
  const root = this.getResourcePath(bucket, undefined, 'uploads');
  const uploads = await Promise.all((await fs.readdir(root).catch(() => [])).map(async (uploadId) => {
    const dir = path.join(root, uploadId);
    // The key file's time, not the directory's birthtime, which some filesystems do not keep.
    const [key, stat] = await Promise.all([fs.readFile(path.join(dir, 'key'), 'utf8'), fs.stat(path.join(dir, 'key'))]).catch(() => []);
    return key === undefined ? null : { key, uploadId, initiated: stat.mtime };
  }));
  return uploads.filter(Boolean);
};
FilesystemStore.prototype.listParts = async function (bucket, uploadId) {
  const dir = path.join(this.getResourcePath(bucket, undefined, 'uploads'), path.basename(uploadId));
  const [key, names] = await Promise.all([fs.readFile(path.join(dir, 'key'), 'utf8'), fs.readdir(dir)]).catch(() => []);
  if (key === undefined) return null;
  // putPart writes a part's .md5 once its bytes are in, so only finished parts are listed.
  const numbers = names.filter((name) => name.endsWith('.md5')).map((name) => Number(name.slice(0, -4))).sort((a, b) => a - b);
  const parts = await Promise.all(numbers.map(async (number) => {
    const [stat, md5] = await Promise.all([fs.stat(path.join(dir, String(number))), fs.readFile(path.join(dir, number + '.md5'), 'utf8')]);
    return { number, size: stat.size, etag: JSON.stringify(md5), lastModified: stat.mtime };
  }));
  return { key, parts };
};
bucketController.listMultipartUploads = async function (ctx) {
  const prefix = ctx.query.prefix || '';
  const uploads = (await ctx.store.listUploads(ctx.params.bucket)).filter((upload) => upload.key.startsWith(prefix))
    .sort((a, b) => (a.key === b.key ? a.initiated - b.initiated : a.key < b.key ? -1 : 1));
  ctx.body = { ListMultipartUploadsResult: { '@': xmlns, Bucket: ctx.params.bucket, KeyMarker: '', UploadIdMarker: '', Prefix: prefix,
    MaxUploads: 1000, IsTruncated: false, Upload: uploads.map((upload) => ({ Key: upload.key, UploadId: upload.uploadId,
      Initiator: owner, Owner: owner, StorageClass: 'STANDARD', Initiated: upload.initiated.toISOString() })) } };
};
objectController.listParts = async function (ctx) {
  const { uploadId } = ctx.query;
  const upload = await ctx.store.listParts(ctx.params.bucket, uploadId);
  if (upload?.key !== ctx.params.key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
  const marker = Number(ctx.query['part-number-marker'] || 0);
  const maxParts = Math.min(1000, Number(ctx.query['max-parts'] || 1000));
  const after = upload.parts.filter((part) => part.number > marker);
  const parts = after.slice(0, maxParts);
  ctx.body = { ListPartsResult: { '@': xmlns, Bucket: ctx.params.bucket, Key: ctx.params.key, UploadId: uploadId, Initiator: owner, Owner: owner,
    StorageClass: 'STANDARD', PartNumberMarker: marker, NextPartNumberMarker: parts.at(-1)?.number ?? marker, MaxParts: maxParts,
    IsTruncated: after.length > parts.length, Part: parts.map((part) => ({ PartNumber: part.number,
      LastModified: part.lastModified.toISOString(), ETag: part.etag, Size: part.size })) } };
};
objectController.abortMultipartUpload = async function (ctx) {
  const { uploadId } = ctx.query;
  const upload = await ctx.store.listParts(ctx.params.bucket, uploadId);
  if (upload?.key !== ctx.params.key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
  await fs.rm(path.join(ctx.store.getResourcePath(ctx.params.bucket, undefined, 'uploads'), path.basename(uploadId)), { recursive: true });
  ctx.status = 204;
};
// The router answers these queries itself (501, 405), so its routes hand them to the controllers above.
const listings = { 'GET /:bucket': ['uploads', 'listMultipartUploads', bucketController], 'GET /:bucket/:key+': ['uploadId', 'listParts', objectController],
  'DELETE /:bucket/:key+': ['uploadId', 'abortMultipartUpload', objectController] };
for (const layer of require('@20minutes/s3rver/lib/routes').stack) {
  const entry = layer.methods.map((method) => listings[method + ' ' + layer.path]).find(Boolean);
  if (!entry) continue;
  const [query, name, controller] = entry;
  const route = layer.stack.pop();
  layer.stack.push((ctx) => (ctx.params.queryMethod === query ? controller[name](ctx) : route(ctx)));
}
for (const name of lacking.split(',').filter(Boolean)) objectController[name] = () => { throw new S3Error('NotImplemented'); };
new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, allowMismatchedSignatures: checkSignatures !== 'true',
  configureBuckets: [{ name: bucket }] })
  .run().then(() => console.log('s3rver ready'));
`;

/**
 * Starts s3rver; `without` makes it answer 501 for those operations, as stricter or older servers
 * do. It takes any well-formed signature unless told to check them (`checkSignatures`). With
 * `pageSize`, a listing answers at most that many keys and common prefixes per page (S3 answers up
 * to 1,000), so that a test's listings span pages with a few hundred objects. With `directory`, its
 * objects live there and stay after `stop` (a benchmark's bucket, slow to fill, reused between runs).
 */
export async function startS3Server(
  bucket = 'berth-test',
  without: OptionalS3Feature[] = [],
  { checkSignatures = false, pageSize, directory: kept }: { checkSignatures?: boolean; pageSize?: number; directory?: string } = {},
): Promise<S3Server> {
  const directory = kept ?? (await mkdtemp(join(tmpdir(), 's3rver-')));
  const lacking = without.map((feature) => CONTROLLERS[feature]).join(',');
  const launch = (port: number) =>
    startProcess(process.execPath, ['-e', SCRIPT, String(port), directory, bucket, lacking, String(checkSignatures), String(pageSize ?? '')], /s3rver ready/, {
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
      cwd: join(import.meta.dirname, '..'),
    });
  const started = await onFreePort(async (port) => ({ port, server: await launch(port) }));
  const port = started.port;
  let server = started.server;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: KEY, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint },
    async backdate(key, modified) {
      // s3rver's filesystem store answers an object's LastModified from its file's mtime.
      const parts = key.split('/');
      await utimes(join(directory, bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`), modified, modified);
    },
    async kill() {
      await server.stop();
    },
    async restart() {
      await server.stop();
      server = await launch(port);
    },
    async stop() {
      await server.stop();
      if (!kept) await rm(directory, { recursive: true, force: true });
    },
  };
}
