import { ConfigError } from './config-error.ts';
import { DEFAULT_STORAGE } from './defaults.ts';
import type { StorageSection } from './schema.ts';

/** Where the registry's content lives: all a command that only opens the store needs of the configuration. */
export interface StorageLocation {
  /** A directory, or `s3://BUCKET[/PREFIX]`. */
  storage: string;
  /** The `storage.s3` section of the config file, BERTH_S3_REDIS over its `redis`. */
  s3: StorageSection['s3'];
}

/**
 * The `--storage` flag over BERTH_STORAGE over the config file over the default. It needs the file
 * only when there is one: `berth gc` and `berth analyze` on a directory start without loading the
 * file's schema (zod), a third of their start-up.
 */
export function storageLocation(flag: string | undefined, env: NodeJS.ProcessEnv, file?: StorageSection): StorageLocation {
  const storage = flag ?? env.BERTH_STORAGE ?? file?.url ?? file?.path ?? DEFAULT_STORAGE;
  const redis = env.BERTH_S3_REDIS;
  if (redis !== undefined && !URL.canParse(redis)) throw new ConfigError(`BERTH_S3_REDIS: invalid URL "${redis}" (want redis://HOST:PORT)`);
  return { storage, s3: redis === undefined ? (file?.s3 ?? {}) : { ...file?.s3, redis } };
}
