/**
 * berth pull's download concurrency, swept in process (so only the transfer is timed) on one
 * multi-layer image from Distribution 2.8.2, on loopback and behind a proxy adding latency:
 *   node --import tsx bench/client-pull.ts [--runs N] [--layers N] [--layer-mib N]
 * The CLI against skopeo is bench/client-skopeo.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHttp } from '../client/http.ts';
import { LayoutStore } from '../client/layout-store.ts';
import { parsePlatform } from '../client/platform.ts';
import { pull } from '../client/pull.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { Reference } from '../oci/reference.ts';
import { startCountingProxy } from '../peers/counting-proxy.ts';
import { buildImage, skopeoCopy } from '../peers/oci-image.ts';
import { startReferenceRegistry } from '../peers/reference-registry.ts';
import { median } from './stats.ts';
import { timed } from './workload.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    layers: { type: 'string', default: '8' },
    'layer-mib': { type: 'string', default: '16' },
  },
});
const layerSizes = Array.from({ length: Number(values.layers) }, () => Number(values['layer-mib']) * 1024 * 1024);

const registry = await startReferenceRegistry();
const layout = await buildImage('bench', layerSizes);
const distant = await startCountingProxy(registry.url, { delayMs: 50 });
try {
  await skopeoCopy(`oci:${layout}:bench`, `docker://${registry.host}/bench/image:v1`);
  console.log(`image: ${layerSizes.length} layers of ${values['layer-mib']} MiB random data (tar+gzip), Distribution 2.8.2 on loopback`);
  for (const [label, host] of [
    ['loopback', registry.host],
    ['+50 ms per request', distant.host],
  ] as const) {
    const client = new RegistryClient(host, { http: createHttp(), credentials: async () => undefined });
    for (const concurrency of [1, 2, 4, 8]) {
      const times: number[] = [];
      for (let i = 0; i < Number(values.runs); i++) {
        const dir = await mkdtemp(join(tmpdir(), 'bench-pull-'));
        try {
          const store = await LayoutStore.open(dir);
          times.push(await timed(() => pull(client, Reference.parse(`${host}/bench/image:v1`), { store, platform: parsePlatform(undefined), concurrency })));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      console.log(`in-process pull (${label}), concurrency ${concurrency}: median ${median(times).toFixed(3)} s`);
    }
  }
} finally {
  await distant.stop();
  await registry.stop();
  await rm(join(layout, '..'), { recursive: true, force: true });
}
