import { MANIFEST_ACCEPT } from '../../oci/media-types.ts';
import { wrkGet } from '../http-load.ts';
import { pushSmallImage, SMALL_IMAGE } from '../small-image.ts';
import type { Workload } from '../workload.ts';

/** Manifest GET requests per second by tag with keep-alive (wrk). */
export function manifestGetRate(seconds: number, connections: number, runs: number): Workload {
  return {
    name: `manifest GET by tag, ${connections} connections`,
    unit: 'req/s',
    higherIsBetter: true,
    runs,
    setup: async (server) => void (await pushSmallImage(server)),
    measure: (server) => wrkGet(`${server.url}/v2/${SMALL_IMAGE.repository}/manifests/${SMALL_IMAGE.tag}`, { Accept: MANIFEST_ACCEPT }, seconds, connections),
  };
}
