import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchServer } from '../servers.ts';
import { timed, type Workload } from '../workload.ts';

const LINK = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';

/**
 * Writes tags or repositories straight into a filesystem root in Distribution's layout, which
 * both servers read: 10,000 pushes over HTTP would measure the push, not the listing. A layer
 * link too, since Distribution's catalog finds repositories by their `_layers`.
 */
async function writeTagLinks(root: string, repository: string, tags: string[]): Promise<void> {
  const layer = join(root, 'docker/registry/v2/repositories', repository, '_layers/sha256', LINK.slice(7));
  await mkdir(layer, { recursive: true });
  await writeFile(join(layer, 'link'), LINK);
  const base = join(root, 'docker/registry/v2/repositories', repository, '_manifests/tags');
  for (let i = 0; i < tags.length; i += 200) {
    await Promise.all(
      tags.slice(i, i + 200).map(async (tag) => {
        await mkdir(join(base, tag, 'current'), { recursive: true });
        await writeFile(join(base, tag, 'current/link'), LINK);
      }),
    );
  }
}

/** Pages through a listing with n=1000 and Link headers, as a client does; seconds for all. */
async function pageThrough(server: BenchServer, path: string, field: 'tags' | 'repositories', expected: number): Promise<number> {
  let count = 0;
  const seconds = await timed(async () => {
    let next: string | undefined = `${path}?n=1000`;
    while (next) {
      const response: Response = await fetch(new URL(next, server.url));
      if (response.status !== 200) throw new Error(`${server.name} ${next}: ${response.status}`);
      count += ((await response.json()) as Record<string, string[]>)[field]!.length;
      next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    }
  });
  if (count < expected) throw new Error(`${server.name} listed ${count} ${field} of ${expected} at ${path}`);
  return seconds;
}

/** The whole tag list of a repository with `count` tags, paged by n=1000. */
export function tagListing(roots: Record<string, string>, count: number, runs: number): Workload {
  const tags = Array.from({ length: count }, (_, i) => `v${String(i).padStart(5, '0')}`);
  return {
    name: `tag list, ${count} tags`,
    unit: 's',
    higherIsBetter: false,
    runs,
    setup: (server) => writeTagLinks(roots[server.name]!, 'bench/tags', tags),
    measure: (server) => pageThrough(server, '/v2/bench/tags/tags/list', 'tags', count),
  };
}

/** The whole catalog of a registry with `count` repositories, paged by n=1000. */
export function catalogListing(roots: Record<string, string>, count: number, runs: number): Workload {
  return {
    name: `catalog, ${count} repositories`,
    unit: 's',
    higherIsBetter: false,
    runs,
    async setup(server) {
      for (let i = 0; i < count; i += 200) {
        await Promise.all(
          Array.from({ length: Math.min(200, count - i) }, (_, j) => writeTagLinks(roots[server.name]!, `catalog/repo${i + j}`, ['latest'])),
        );
      }
    },
    measure: (server) => pageThrough(server, '/v2/_catalog', 'repositories', count),
  };
}
