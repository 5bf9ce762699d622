import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parse } from 'yaml';
import type { BlobCacheSettings } from '../storage/blob-cache.ts';
import { parseAuthConfig, type AuthConfig } from './auth/config.ts';

/** Settings of `berth serve`, from flags over environment over the YAML file over defaults. */
export interface ServeConfig {
  host: string;
  port: number;
  /** A directory, or `s3://BUCKET[/PREFIX]`. */
  storage: string;
  workers: number;
  /** The `storage.s3` section of the config file, passed to the S3 driver as is. */
  s3: Record<string, unknown>;
  /** Local copies of downloaded blobs (`storage.localCache`): S3 storage only, unless its size is 0. */
  localCache?: BlobCacheSettings;
  /** Uploads to local disk go past the page cache (O_DIRECT) where the filesystem takes it (`storage.directWrites`). */
  directWrites: boolean;
  /** Every section of the config file, for the parts that read their own (auth, gc). */
  file: Record<string, unknown>;
  /** The `auth` section, checked. */
  auth: AuthConfig;
  /** Serve HTTPS with these PEM files (`--tls-cert/--tls-key`, or the `tls` section's `cert`/`key`). */
  tls?: { cert: string; key: string };
}

export interface ServeFlags {
  listen?: string;
  storage?: string;
  config?: string;
  workers?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export const DEFAULT_LISTEN = '0.0.0.0:5000';
export const DEFAULT_STORAGE = './data';

export class ConfigError extends Error {}

function parseListen(text: string): { host: string; port: number } {
  const match = text.match(/^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ConfigError(`invalid listen address "${text}" (want HOST:PORT)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  const workers = Number(text);
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`invalid worker count "${text}" (want a number or "auto")`);
  return workers;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must be a YAML mapping`);
  return parsed as Record<string, unknown>;
}

function section(file: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = file[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const SIZE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A byte count: a number, or a string such as `512MiB` or `2 GiB` (binary units only, so no one guesses). */
function parseByteSize(value: unknown, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB)?$/.exec(String(value).trim());
  if ((typeof value !== 'number' && typeof value !== 'string') || !match) {
    throw new ConfigError(`invalid ${what} "${String(value)}" (want bytes, or a number with KiB, MiB, GiB or TiB)`);
  }
  return Math.floor(Number(match[1]) * SIZE_UNITS[match[2] ?? '']!);
}

/** The `storage.localCache` section: where and how much; undefined when off or pointless (local storage). */
function parseLocalCache(storage: string, file: Record<string, unknown>): BlobCacheSettings | undefined {
  const { path, size } = file;
  if (path !== undefined && (typeof path !== 'string' || path === '')) throw new ConfigError('storage.localCache.path must be a directory');
  const maxBytes = size === undefined ? undefined : parseByteSize(size, 'storage.localCache.size');
  if (!storage.startsWith('s3://') || maxBytes === 0) return undefined;
  return { ...(path ? { directory: path } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) };
}

/**
 * Resolves the configuration. The file's `storage` may be a string or a mapping with
 * `path` or `url`, `directWrites`, and `s3` and `localCache` sections; `workers` defaults to one per core.
 */
export async function loadServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<ServeConfig> {
  const configPath = flags.config ?? env.BERTH_CONFIG;
  const file = configPath ? await readConfigFile(configPath) : {};
  const storageSection = section(file, 'storage');
  const fileStorage = typeof file.storage === 'string' ? file.storage : (storageSection.url ?? storageSection.path);
  const listen = parseListen(flags.listen ?? env.BERTH_LISTEN ?? (typeof file.listen === 'string' ? file.listen : DEFAULT_LISTEN));
  const storage = flags.storage ?? env.BERTH_STORAGE ?? (typeof fileStorage === 'string' ? fileStorage : DEFAULT_STORAGE);
  const workersText = flags.workers ?? env.BERTH_WORKERS ?? (file.workers !== undefined ? String(file.workers) : 'auto');
  const tls = parseTls(flags, env, section(file, 'tls'));
  const localCache = parseLocalCache(storage, section(storageSection, 'localCache'));
  const directWrites = storageSection.directWrites ?? true;
  if (typeof directWrites !== 'boolean') throw new ConfigError(`storage.directWrites must be true or false, not "${String(directWrites)}"`);
  const resolved = { ...listen, storage, workers: parseWorkers(workersText), s3: section(storageSection, 's3'), directWrites, file, auth: parseAuthConfig(file.auth) };
  return { ...resolved, ...(localCache ? { localCache } : {}), ...(tls ? { tls } : {}) };
}

function parseTls(flags: ServeFlags, env: NodeJS.ProcessEnv, file: Record<string, unknown>): ServeConfig['tls'] {
  const cert = flags.tlsCert ?? env.BERTH_TLS_CERT ?? (typeof file.cert === 'string' ? file.cert : undefined);
  const key = flags.tlsKey ?? env.BERTH_TLS_KEY ?? (typeof file.key === 'string' ? file.key : undefined);
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError('TLS needs both a certificate and a key (--tls-cert and --tls-key)');
  return { cert, key };
}
