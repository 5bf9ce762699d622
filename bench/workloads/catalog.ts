import { setTimeout as sleep } from 'node:timers/promises';
import { CATALOG_REUSE_MS } from '../../storage/repository-store.ts';
import type { BenchServer } from '../servers.ts';
import { repositoryFiles } from '../seed-layout.ts';
import { timed, type Workload } from '../workload.ts';

const PAGE = 1000;

/** Pages through the catalog with n=1000 and Link headers, as a client does; returns how many it saw. */
async function pageThrough(server: BenchServer): Promise<number> {
  let count = 0;
  let next: string | undefined = `/v2/_catalog?n=${PAGE}`;
  while (next) {
    const response: Response = await fetch(new URL(next, server.url));
    if (response.status !== 200) throw new Error(`${server.name} ${next}: ${response.status}`);
    count += ((await response.json()) as { repositories: string[] }).repositories.length;
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return count;
}

/** The whole catalog of a registry with `count` repositories (besides any others), paged by n=1000. */
export function catalogListing(count: number, runs: number): Workload {
  /** When each server last listed: Berth reuses a walk for CATALOG_REUSE_MS (one walk serves a client's pages). */
  const listedAt = new Map<string, number>();
  return {
    name: `catalog, ${count} repositories`,
    unit: 's',
    higherIsBetter: false,
    runs,
    setup: (server) => server.seed(Array.from({ length: count }, (_, i) => repositoryFiles(`catalog/repo${i}`, ['latest'])).flat()),
    async measure(server) {
      // Each run starts cold: back-to-back runs of one server (B D | D B …) would otherwise reuse a walk.
      await sleep(Math.max(0, (listedAt.get(server.name) ?? 0) + CATALOG_REUSE_MS + 100 - Date.now()));
      let listed = 0;
      const seconds = await timed(async () => (listed = await pageThrough(server)));
      listedAt.set(server.name, Date.now());
      if (listed < count) throw new Error(`${server.name} listed ${listed} repositories of at least ${count}`);
      return seconds;
    },
  };
}
