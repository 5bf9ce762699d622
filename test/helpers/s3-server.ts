import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from './processes.ts';

/** A real S3-compatible server (s3rver) on loopback, in its own process, with one bucket. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Environment that points Berth (and the AWS SDK) at this server. */
  env: NodeJS.ProcessEnv;
  /** Stops it (for tests of an S3 outage); `stop` also removes its files. */
  kill(): Promise<void>;
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
 * itself, as S3 does, so the driver meets real S3 semantics here.
 */
const SCRIPT = `
const S3rver = require('@20minutes/s3rver');
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem');
const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (bucket, options) {
  if (!options.delimiter) return listObjects.call(this, bucket, options);
  const prefix = options.prefix || '';
  const all = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const commonPrefixes = new Set();
  const objects = [];
  for (const object of all.objects) {
    const at = object.key.indexOf(options.delimiter, prefix.length);
    if (at >= 0) commonPrefixes.add(object.key.slice(0, at + options.delimiter.length));
    else objects.push(object);
  }
  const maxKeys = options.maxKeys ?? Infinity;
  return { objects: objects.slice(0, maxKeys), commonPrefixes: [...commonPrefixes].sort(), isTruncated: objects.length > maxKeys };
};
const [port, directory, bucket, lacking] = process.argv.slice(1);
const S3Error = require('@20minutes/s3rver/lib/models/error');
const objectController = require('@20minutes/s3rver/lib/controllers/object');
for (const name of lacking.split(',').filter(Boolean)) objectController[name] = () => { throw new S3Error('NotImplemented'); };
new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, allowMismatchedSignatures: true,
  configureBuckets: [{ name: bucket }] })
  .run().then(() => console.log('s3rver ready'));
`;

/** Starts s3rver; `without` makes it answer 501 for those operations, as stricter or older servers do. */
export async function startS3Server(bucket = 'berth-test', without: OptionalS3Feature[] = []): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const port = await freePort();
  const lacking = without.map((feature) => CONTROLLERS[feature]).join(',');
  const server = await startProcess(process.execPath, ['-e', SCRIPT, String(port), directory, bucket, lacking], /s3rver ready/, {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    cwd: join(import.meta.dirname, '../..'),
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: KEY, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint },
    async kill() {
      await server.stop();
    },
    async stop() {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
