import type { Workload } from '../workload.ts';
import { pushFreshImage, timedPull } from './mirror-image.ts';

/**
 * A cold pull through Berth's mirror (every blob fetched upstream as it streams to the client)
 * against the same pull straight from the upstream, Distribution 2.8.2: what the mirror adds.
 * Each run pulls an image of new layers, pushed to the upstream untimed. `upstream` is the name the
 * mirror has for it (its path prefix), `where` says how far it is.
 */
export function mirrorColdPull(upstream: { name: string; where: string; host: () => string }, sizes: number[], runs: number): Workload {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  return {
    name: `cold pull of ${sizes.length} layers, ${Math.round(total / 2 ** 20)} MiB (upstream ${upstream.where}): Berth's mirror vs the upstream itself`,
    unit: 's',
    higherIsBetter: false,
    runs,
    async measure(server, run) {
      const repository = `bench/cold-${server.name}-${run}`;
      await pushFreshImage(upstream.host(), repository, sizes);
      return server.name === 'berth' ? timedPull(server.host, `${upstream.name}/${repository}`) : timedPull(upstream.host(), repository);
    },
  };
}
