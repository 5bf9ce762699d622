import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLatencyProxy, type LatencyProxy } from '../peers/latency-proxy.ts';
import type { S3Server } from '../peers/s3-server.ts';

/** Where issue 29's roots are served from: local disk, s3rver, or s3rver behind a bucket's latency. */
export type ScaleStorage = 'disk' | 's3' | 's3-latency';
export const SCALE_STORAGES: readonly ScaleStorage[] = ['disk', 's3', 's3-latency'];

/** One root as both registries reach it: the same tree, each with its own way in. */
export interface ScaleTarget {
  storage: ScaleStorage;
  /** Berth's `--storage` and the environment it reads S3 settings from. */
  berth: { storage: string; env: NodeJS.ProcessEnv };
  /** Distribution's config file (its storage section; `http` added for serve) and its environment. */
  distribution: { config(http?: string): Promise<string>; env: NodeJS.ProcessEnv };
  /** Behind the latency proxies: the S3 requests each side made since the last call. */
  s3Requests?: Record<'berth' | 'distribution', () => number>;
  stop(): Promise<void>;
}

/**
 * aws-sdk-go refuses a custom CA bundle with the driver's own HTTP transport, and panics; the
 * endpoints here are plain HTTP. Tracing off: Distribution would try to export its spans.
 */
function distributionEnv(): NodeJS.ProcessEnv {
  const { AWS_CA_BUNDLE: _unused, ...env } = process.env;
  return { ...env, OTEL_TRACES_EXPORTER: 'none' };
}

/** Distribution's config for `storage` lines, written beside the root's other files in `directory`. */
function distributionConfig(directory: string, storage: string[]): (http?: string) => Promise<string> {
  return async (http) => {
    const file = join(directory, http ? 'distribution-serve.yml' : 'distribution.yml');
    const lines = ['version: 0.1', 'log: { level: info, accesslog: { disabled: true } }', 'storage:', ...storage];
    await writeFile(file, [...lines, ...(http ? [`http: { addr: "${http}" }`] : []), ''].join('\n'));
    return file;
  };
}

export function diskTarget(root: string): ScaleTarget {
  return {
    storage: 'disk',
    berth: { storage: root, env: process.env },
    distribution: { config: distributionConfig(root, [`  filesystem: { rootdirectory: "${root}" }`]), env: distributionEnv() },
    stop: () => Promise.resolve(),
  };
}

/** Counts and forgets the requests a proxy recorded: a gc at 5,000 repositories makes hundreds of thousands. */
function requestsSince(proxy: LatencyProxy): () => number {
  return () => {
    const count = proxy.requests.length;
    proxy.reset();
    return count;
  };
}

/**
 * The root under `prefix` in the s3rver bucket; with `latencyMs`, each registry's requests go
 * through a proxy of its own that holds each one that long (a real bucket's round trip).
 * `scratch` holds Distribution's config files.
 */
export async function bucketTarget(s3: S3Server, prefix: string, scratch: string, latencyMs?: number): Promise<ScaleTarget> {
  const proxies: LatencyProxy[] = latencyMs === undefined ? [] : await Promise.all([0, 1].map(() => startLatencyProxy(s3.endpoint, { latencyMs })));
  const [berthEndpoint, distributionEndpoint] = proxies.length ? proxies.map((proxy) => proxy.endpoint) : [s3.endpoint, s3.endpoint];
  const storage = [
    '  s3:',
    `    accesskey: ${s3.env.AWS_ACCESS_KEY_ID}`,
    `    secretkey: ${s3.env.AWS_SECRET_ACCESS_KEY}`,
    '    region: us-east-1',
    `    regionendpoint: ${distributionEndpoint}`,
    `    bucket: ${s3.bucket}`,
    `    rootdirectory: /${prefix}`,
    '    secure: false',
    '    v4auth: true',
    '  redirect: { disable: true }',
  ];
  return {
    storage: latencyMs === undefined ? 's3' : 's3-latency',
    berth: {
      storage: `s3://${s3.bucket}/${prefix}`,
      env: { ...process.env, ...s3.env, AWS_ENDPOINT_URL_S3: berthEndpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
    distribution: { config: distributionConfig(scratch, storage), env: distributionEnv() },
    ...(proxies.length ? { s3Requests: { berth: requestsSince(proxies[0]!), distribution: requestsSince(proxies[1]!) } } : {}),
    stop: async () => void (await Promise.all(proxies.map((proxy) => proxy.stop()))),
  };
}
