import type { BlobCacheSettings } from '../../storage/local-copies/blob-cache.ts';
import { toAuthConfig, type AuthConfig } from '../auth/config.ts';
import { defaultTokenKey } from '../auth/token-key-location.ts';
import { DEFAULT_LISTEN } from './defaults.ts';
import { ConfigError } from './config-error.ts';
import { parseConfigFile, readConfigFile } from './config-file.ts';
import { parseListen, parseWorkers } from './parsers.ts';
import { storageLocation } from './storage-location.ts';
import { DEFAULT_LOG, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type LogSettings } from '../request-log/log-settings.ts';
import type { ConfigFile, StorageSection } from './schema.ts';

export { ConfigError } from './config-error.ts';

/** Settings of `berth serve`, from flags over environment over the YAML file over defaults. */
export interface ServeConfig {
  host: string;
  port: number;
  /** A directory, or `s3://BUCKET[/PREFIX]`. */
  storage: string;
  workers: number;
  /** The `storage.s3` section of the config file, passed to the S3 driver as is. */
  s3: StorageSection['s3'];
  /** Local copies of downloaded blobs (`storage.localCache`): S3 storage only, unless its size is 0. */
  localCache?: BlobCacheSettings;
  /** Uploads to local disk go past the page cache (O_DIRECT) where the filesystem takes it (`storage.directWrites`). */
  directWrites: boolean;
  /** The whole config file, checked, for the parts that read their own section (gc). */
  file: ConfigFile;
  /** The `auth` section, checked. */
  auth: AuthConfig;
  /** Serve HTTPS with these PEM files (`--tls-cert/--tls-key`, or the `tls` section's `cert`/`key`). */
  tls?: { cert: string; key: string };
  /** Serve `/metrics` here instead of on the main listener (`--metrics-listen`, `metrics.listen`). */
  metricsListen?: { host: string; port: number };
  /** The request log (`log` section, BERTH_LOG_LEVEL and BERTH_LOG_FORMAT over it). */
  log: LogSettings;
}

export interface ServeFlags {
  listen?: string;
  storage?: string;
  config?: string;
  workers?: string;
  tlsCert?: string;
  tlsKey?: string;
  metricsListen?: string;
}

/** The `storage.localCache` section: where and how much; undefined when off or pointless (local storage). */
function localCacheFor(storage: string, { path, size }: StorageSection['localCache']): BlobCacheSettings | undefined {
  if (!storage.startsWith('s3://') || size === 0) return undefined;
  return { ...(path ? { directory: path } : {}), ...(size !== undefined ? { maxBytes: size } : {}) };
}

/** The request log's settings: the environment over the file over the defaults, each value checked. */
function logFor(env: NodeJS.ProcessEnv, file: ConfigFile['log']): LogSettings {
  const level = env.BERTH_LOG_LEVEL ?? file.level ?? DEFAULT_LOG.level;
  const format = env.BERTH_LOG_FORMAT ?? file.format ?? DEFAULT_LOG.format;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`invalid log level "${level}" (want one of ${LOG_LEVELS.join(', ')})`);
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new ConfigError(`invalid log format "${format}" (want one of ${LOG_FORMATS.join(', ')})`);
  return { level: level as LogLevel, format: format as LogFormat };
}

function tlsFor(flags: ServeFlags, env: NodeJS.ProcessEnv, file: ConfigFile['tls']): ServeConfig['tls'] {
  const cert = flags.tlsCert ?? env.BERTH_TLS_CERT ?? file.cert;
  const key = flags.tlsKey ?? env.BERTH_TLS_KEY ?? file.key;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError('TLS needs both a certificate and a key (--tls-cert and --tls-key)');
  return { cert, key };
}

/**
 * Resolves the configuration. The file is checked whole against its schema (config-schema.ts)
 * before anything is used; flags and environment variables are checked with the same grammars.
 */
export async function loadServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<ServeConfig> {
  const configPath = flags.config ?? env.BERTH_CONFIG;
  const file = configPath ? await readConfigFile(configPath) : parseConfigFile({}, 'none');
  const listenText = flags.listen ?? env.BERTH_LISTEN ?? file.listen ?? DEFAULT_LISTEN;
  const listen = parseListen(listenText);
  if (!listen) throw new ConfigError(`invalid listen address "${listenText}" (want HOST:PORT)`);
  const workersText = flags.workers ?? env.BERTH_WORKERS ?? file.workers ?? 'auto';
  const workers = parseWorkers(workersText);
  if (workers === undefined) throw new ConfigError(`invalid worker count "${workersText}" (want a number or "auto")`);
  const { storage, s3 } = storageLocation(flags.storage, env, file.storage);
  const localCache = localCacheFor(storage, file.storage.localCache);
  const tls = tlsFor(flags, env, file.tls);
  const log = logFor(env, file.log);
  const metricsText = flags.metricsListen ?? env.BERTH_METRICS_LISTEN ?? file.metrics.listen;
  const metricsListen = metricsText === undefined ? undefined : parseListen(metricsText);
  if (metricsText !== undefined && !metricsListen) throw new ConfigError(`invalid metrics listen address "${metricsText}" (want HOST:PORT)`);
  const auth = toAuthConfig(file.auth, defaultTokenKey(storage, env));
  const resolved = { ...listen, storage, workers, s3, directWrites: file.storage.directWrites, file, auth };
  return { ...resolved, log, ...(localCache ? { localCache } : {}), ...(tls ? { tls } : {}), ...(metricsListen ? { metricsListen } : {}) };
}
