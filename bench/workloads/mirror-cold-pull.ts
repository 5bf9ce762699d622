import type { Workload } from '../workload.ts';
import { pushFreshImage, timedPull, UPSTREAM_NAME } from './mirror-image.ts';

/**
 * A cold pull through Berth's mirror (every blob fetched upstream as it streams to the client)
 * against the same pull straight from the upstream, Distribution 2.8.2: what the mirror adds.
 * Each run pulls an image of new layers, pushed to the upstream untimed.
 */
export function mirrorColdPull(upstreamHost: () => string, sizes: number[], runs: number): Workload {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  return {
    name: `cold pull of ${sizes.length} layers, ${Math.round(total / 2 ** 20)} MiB: Berth's mirror vs the upstream itself`,
    unit: 's',
    higherIsBetter: false,
    runs,
    async measure(server, run) {
      const repository = `bench/cold-${server.name}-${run}`;
      await pushFreshImage(upstreamHost(), repository, sizes);
      return timedPull(server.host, server.name === 'berth' ? `${UPSTREAM_NAME}/${repository}` : repository);
    },
  };
}
