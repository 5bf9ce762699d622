/**
 * The mirror's test bench of real parts: Distribution 2.8.2 with htpasswd as `docker.io` (the
 * default upstream), a Berth in token mode as `ghcr.io`, each behind a proxy that counts what
 * crosses it, and the mirroring Berth in front of both.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import type { Credentials } from '../../client/credentials.ts';
import type { RegistryClient } from '../../client/registry-client.ts';
import type { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { startCountingProxy, type CountingProxy } from '../../peers/counting-proxy.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../../peers/reference-registry.ts';
import { hashPassword } from '../../registry/auth/htpasswd.ts';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { startServer, type RunningServer } from '../../registry/server.ts';
import { Store } from '../../storage/store.ts';
import { parseAuthConfig, type AuthConfig } from '../../registry/auth/config.ts';
import { ACCESS, USERS, writeUsers } from '../helpers/auth-berth.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { newStorage, type TestStorage } from '../helpers/backend.ts';
import { clientFor } from '../helpers/client-fixtures.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';

/** The mirror's own account at the Distribution upstream. */
export const HUB_USER: Credentials = { username: 'mirror', password: 'hub-secret' };
/** The mirror's account at the token upstream: alice may pull and push `team/**` there. */
export const GHCR_USER: Credentials = { username: 'alice', password: USERS.alice };

export interface Upstreams {
  hub: ReferenceRegistry;
  hubProxy: CountingProxy;
  ghcr: RunningBerth;
  ghcrProxy: CountingProxy;
  /** Pushes as the mirror's accounts, straight to each upstream. */
  hubClient: RegistryClient;
  ghcrClient: RegistryClient;
  stop(): Promise<void>;
}

export async function startUpstreams(): Promise<Upstreams> {
  const secrets = await mkdtemp(join(tmpdir(), 'mirror-upstream-'));
  const htpasswd = join(secrets, 'htpasswd');
  await writeFile(htpasswd, `${HUB_USER.username}:${await hashPassword(HUB_USER.password)}\n`);
  const hub = await startReferenceRegistry({ config: ['auth:', '  htpasswd:', '    realm: hub', `    path: ${htpasswd}`] });
  // A peer like Distribution: on local disk whatever backend the mirror is tested on.
  const auth = parseAuthConfig({ mode: 'token', htpasswd: await writeUsers(secrets), access: ACCESS, token: { key: join(secrets, 'token-key.pem') } });
  const ghcr = await startBerth({ root: join(secrets, 'ghcr'), auth });
  const [hubProxy, ghcrProxy] = await Promise.all([startCountingProxy(hub.url), startCountingProxy(ghcr.url)]);
  return {
    hub,
    hubProxy,
    ghcr,
    ghcrProxy,
    hubClient: clientFor(hub.host, HUB_USER),
    ghcrClient: clientFor(ghcr.host, GHCR_USER),
    async stop() {
      await Promise.all([hubProxy.stop(), ghcrProxy.stop()]);
      await Promise.all([hub.stop(), ghcr.stop()]);
      await rm(secrets, { recursive: true, force: true });
    },
  };
}

/** The `mirror:` section over the upstreams' proxies, as YAML; `hubTtl` is docker.io's tagTtl. */
export function mirrorYaml(upstreams: Upstreams, hubTtl = '1s'): string {
  return [
    'mirror:',
    '  upstreams:',
    '    - name: docker.io',
    `      url: ${upstreams.hubProxy.url}`,
    '      default: true',
    `      username: ${HUB_USER.username}`,
    '      passwordEnv: MIRROR_TEST_HUB_PASSWORD',
    '      repositories: ["library/**"]',
    `      tagTtl: ${hubTtl}`,
    '      timeout: 5s',
    '    - name: ghcr.io',
    `      url: ${upstreams.ghcrProxy.url}`,
    `      username: ${GHCR_USER.username}`,
    `      password: ${GHCR_USER.password}`,
    '      repositories: ["team/**"]',
    '      timeout: 5s',
    '',
  ].join('\n');
}

/** Where the mirror finds the Distribution password (`passwordEnv`): a child `berth serve` gets it in its environment. */
export const MIRROR_ENV = { MIRROR_TEST_HUB_PASSWORD: HUB_USER.password };
Object.assign(process.env, MIRROR_ENV);

export interface Mirror {
  url: string;
  host: string;
  storage: TestStorage;
  /** A store over the mirror's storage, to look at what it kept. */
  store: Store;
  server: RunningServer;
  stop(): Promise<void>;
}

/** The mirroring Berth, in this process, on new storage of the test backend; with `auth`, its own access rules. */
export async function startMirror(upstreams: Upstreams, hubTtl?: string, auth?: AuthConfig): Promise<Mirror> {
  const storage = await newStorage();
  const driver = storage.openDriver();
  await driver.check();
  const { mirror } = parseConfigFile(parse(mirrorYaml(upstreams, hubTtl)), 'mirror test');
  const server = await startServer({
    driver,
    host: '127.0.0.1',
    port: 0,
    mirror,
    auth,
    log: () => undefined,
    ...(storage.localCache ? { localCache: storage.localCache } : {}),
  });
  return {
    url: server.url,
    host: server.url.replace(/^https?:\/\//, ''),
    storage,
    store: new Store(storage.openDriver()),
    server,
    async stop() {
      await server.close(1000);
      // A fetch whose client already has its bytes may still be committing: its write lands as the directory goes.
      for (let attempt = 1; ; attempt++) {
        const failed = await storage.remove().catch((error: NodeJS.ErrnoException) => error);
        if (!failed || failed.code !== 'ENOTEMPTY' || attempt === 20) return failed && Promise.reject(failed);
        await sleep(100);
      }
    },
  };
}

/** An image pushed to an upstream: its manifest, config and layers. */
export interface PushedImage {
  manifest: TestBlob;
  config: TestBlob;
  layers: TestBlob[];
  /** Config and layer bytes: what a whole pull of it moves. */
  blobBytes: number;
}

/** Pushes a new OCI image of random layers of `sizes` bytes to `repository:tag` through `client`. */
export async function pushImage(client: RegistryClient, repository: string, tag: string, sizes = [300_000, 200_000]): Promise<PushedImage> {
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: Math.random() }));
  const layers = sizes.map((size) => randomBlob(size));
  for (const blob of [config, ...layers]) await client.uploadSmall(repository, blob.digest, blob.bytes);
  const manifest = imageManifest(config, layers);
  await client.putManifest(repository, tag, manifest.bytes, MediaType.ociManifest);
  return { manifest, config, layers, blobBytes: [config, ...layers].reduce((sum, blob) => sum + blob.bytes.length, 0) };
}

/** How many times each digest was fetched whole from the upstream behind `proxy`. */
export function blobGetsByDigest(proxy: CountingProxy): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of proxy.blobGets()) {
    if (request.status !== 200) continue;
    const digest = request.path.split('/blobs/')[1]!.split('?')[0]!;
    counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return counts;
}

/** Body bytes of the whole blob fetches (200) behind `proxy`: a refused first try (401) carries an error body only. */
export function fetchedBytes(proxy: CountingProxy): number {
  return proxy
    .blobGets()
    .filter((request) => request.status === 200)
    .reduce((sum, request) => sum + request.bytes, 0);
}

export const digests = (image: PushedImage): Digest[] => [image.config.digest, ...image.layers.map((layer) => layer.digest)];
