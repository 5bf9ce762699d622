import { hey } from '../http-load.ts';
import { pushSmallImage, SMALL_IMAGE } from '../small-image.ts';
import type { Workload } from '../workload.ts';

/** Blob HEAD requests per second with keep-alive (hey: wrk cannot send HEAD). */
export function blobHeadRate(seconds: number, connections: number, runs: number): Workload {
  const layers = new Map<string, string>();
  return {
    name: `blob HEAD, ${connections} connections`,
    unit: 'req/s',
    higherIsBetter: true,
    runs,
    async setup(server) {
      layers.set(server.name, await pushSmallImage(server));
    },
    measure: (server) => hey('HEAD', `${server.url}/v2/${SMALL_IMAGE.repository}/blobs/${layers.get(server.name)!}`, seconds, connections),
  };
}
