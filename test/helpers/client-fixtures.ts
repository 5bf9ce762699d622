import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttp } from '../../client/http.ts';
import { LayoutStore } from '../../client/layout-store.ts';
import { RegistryClient } from '../../client/registry-client.ts';
import type { Credentials } from '../../client/credentials.ts';
import { startBerth } from './berth.ts';
import type { Peer } from './peers.ts';
import { startReferenceRegistry } from '../../peers/reference-registry.ts';

/** The registries client tests run against: Berth and Distribution 2.8.2, with the peer each needs. */
export const REGISTRIES = [
  { name: 'Berth', start: () => startBerth(), peers: [] as Peer[] },
  { name: 'Distribution 2.8.2', start: () => startReferenceRegistry(), peers: ['docker-registry'] as Peer[] },
] as const;

const http = createHttp({ retries: 3 });

export function clientFor(host: string, credentials?: Credentials): RegistryClient {
  return new RegistryClient(host, { http, credentials: async () => credentials });
}

/** A fresh local store in its own temp directory. */
export async function tempStore(): Promise<{ store: LayoutStore; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-store-'));
  return { store: await LayoutStore.open(dir), remove: () => rm(dir, { recursive: true, force: true }) };
}
