import type { Workload } from '../workload.ts';
import { pushFreshImage, timedPull, UPSTREAM_NAME } from './mirror-image.ts';

/**
 * A warm pull (everything cached) through Berth's mirror against Distribution 2.8.2 in proxy mode
 * on the same upstream, each with its defaults: Berth trusts a tag for its tagTtl, Distribution
 * asks the upstream about the tag on every pull.
 */
export function mirrorWarmPull(upstreamHost: () => string, sizes: number[], runs: number): Workload {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const repository = 'bench/warm';
  const nameAt = (server: { name: string }) => (server.name === 'berth' ? `${UPSTREAM_NAME}/${repository}` : repository);
  let pushed: Promise<void> | undefined;
  return {
    name: `warm pull of ${sizes.length} layers, ${Math.round(total / 2 ** 20)} MiB: Berth's mirror vs Distribution's proxy`,
    unit: 's',
    higherIsBetter: false,
    runs,
    async setup(server) {
      pushed ??= pushFreshImage(upstreamHost(), repository, sizes);
      await pushed;
      await timedPull(server.host, nameAt(server));
    },
    measure: (server) => timedPull(server.host, nameAt(server)),
  };
}
