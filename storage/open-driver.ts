import type { Driver } from './driver.ts';
import { FsDriver, type FsDriverOptions } from './drivers/fs/fs-driver.ts';
import type { S3Settings } from './drivers/s3/s3-bucket.ts';

/**
 * A transfer's part and how many of them are in flight at once (storage.s3.partSize and
 * parallelParts). s3rver through a link of 100 MB/s per connection and 10 ms per request
 * (bench/s3-link.ts), asked directly for 256 MiB: ranged GETs 82 MB/s one at a time, 299 with four,
 * 252 with eight; uploads 49 MB/s a part at a time, 94 with four, 86 with eight. AWS advises 8–16 MB.
 */
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_PARALLEL_PARTS = 4;

export class StorageConfigError extends Error {}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * S3 settings for `s3://BUCKET[/PREFIX]`: the config file's `storage.s3` section over the
 * standard AWS environment variables. A custom endpoint defaults to path-style addressing.
 */
export function s3Settings(url: string, section: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new StorageConfigError(`invalid S3 storage URL "${url}" (want s3://BUCKET[/PREFIX])`);
  const endpoint = text(section.endpoint) ?? text(env.AWS_ENDPOINT_URL_S3) ?? text(env.AWS_ENDPOINT_URL);
  return {
    bucket: match[1]!,
    prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, ''),
    region: text(section.region) ?? text(env.AWS_REGION) ?? text(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: typeof section.forcePathStyle === 'boolean' ? section.forcePathStyle : endpoint !== undefined,
    accessKeyId: text(section.accessKeyId) ?? text(env.AWS_ACCESS_KEY_ID),
    secretAccessKey: text(section.secretAccessKey) ?? text(env.AWS_SECRET_ACCESS_KEY),
    redirect: section.redirect === true,
    fastPaths: section.fastPaths !== false,
    partSize: typeof section.partSize === 'number' ? section.partSize : DEFAULT_PART_SIZE,
    parallelParts: typeof section.parallelParts === 'number' ? section.parallelParts : DEFAULT_PARALLEL_PARTS,
  };
}

/**
 * Opens the driver a `--storage` value names: a directory, or `s3://BUCKET[/PREFIX]`. The S3
 * driver is loaded only for S3: the AWS SDK adds some 16 MB to each process that loads it.
 */
export async function openDriver(storage: string, s3Section?: Record<string, unknown>, options: FsDriverOptions = {}): Promise<Driver> {
  if (!storage.startsWith('s3://')) return new FsDriver(storage, options);
  const settings = s3Settings(storage, s3Section);
  const { S3Driver } = await import('./drivers/s3/s3-driver.ts');
  const driver = new S3Driver(settings);
  const redis = text(s3Section?.redis);
  if (!redis) return driver;
  const { LinkCache } = await import('./link-cache.ts');
  return LinkCache.open(driver, redis);
}
