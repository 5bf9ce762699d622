import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttp } from '../../client/http.ts';
import { LayoutStore } from '../../client/layout-store.ts';
import { parsePlatform } from '../../client/platform.ts';
import { pull } from '../../client/pull.ts';
import { RegistryClient } from '../../client/registry-client.ts';
import { imageManifest, randomContent } from '../../conformance/content.ts';
import { MediaType } from '../../oci/media-types.ts';
import { Reference } from '../../oci/reference.ts';
import { timed } from '../workload.ts';

const http = createHttp();

export function clientOf(host: string): RegistryClient {
  return new RegistryClient(host, { http, credentials: async () => undefined });
}

/** Pushes an image of new random layers of `sizes` bytes (so no cache holds any of it) to `repository:v1` at `host`. */
export async function pushFreshImage(host: string, repository: string, sizes: number[]): Promise<void> {
  const client = clientOf(host);
  const config = randomContent(512);
  const layers = sizes.map((size) => randomContent(size));
  for (const blob of [config, ...layers]) await client.uploadSmall(repository, blob.digest, blob.bytes);
  await client.putManifest(repository, 'v1', imageManifest(config, layers).bytes, MediaType.ociManifest);
}

/** Seconds `berth pull`'s library takes to pull `repository:v1` from `host` into an empty store. */
export async function timedPull(host: string, repository: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-mirror-pull-'));
  try {
    const store = await LayoutStore.open(dir);
    return await timed(() => pull(clientOf(host), Reference.parse(`${host}/${repository}:v1`), { store, platform: parsePlatform(undefined) }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The names Berth's mirror gives the bench's upstream, its path prefixes: on loopback, and behind a proxy that delays each request as distance would. */
export const UPSTREAM_NAME = 'upstream';
export const DISTANT_NAME = 'distant';

/** Berth's `mirror:` section for the bench: each upstream under its path prefix, defaults for the rest. */
export function mirrorConfig(upstreams: Record<string, string>): string {
  return `mirror:\n  upstreams:\n${Object.entries(upstreams)
    .map(([name, url]) => `    - name: ${name}\n      url: ${url}\n`)
    .join('')}`;
}
