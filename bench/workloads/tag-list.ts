import { repositoryFiles } from '../seed-layout.ts';
import { timed, type Workload } from '../workload.ts';

const REPOSITORY = 'bench/tags';

/**
 * The whole tag list of a repository with `count` tags in one request. Not paged: Distribution
 * 2.8.2 ignores `n` on tag lists and always answers with every tag.
 */
export function tagListing(count: number, runs: number): Workload {
  const tags = Array.from({ length: count }, (_, i) => `v${String(i).padStart(5, '0')}`);
  return {
    name: `tag list, ${count} tags`,
    unit: 's',
    higherIsBetter: false,
    runs,
    setup: (server) => server.seed(repositoryFiles(REPOSITORY, tags)),
    async measure(server) {
      let listed = 0;
      const seconds = await timed(async () => {
        const response = await fetch(`${server.url}/v2/${REPOSITORY}/tags/list`);
        if (response.status !== 200) throw new Error(`${server.name} tag list: ${response.status}`);
        listed = ((await response.json()) as { tags: string[] }).tags.length;
      });
      if (listed !== count) throw new Error(`${server.name} listed ${listed} tags of ${count}`);
      return seconds;
    },
  };
}
