import { Readable } from 'node:stream';
import { imageManifest, randomContent, type Content } from '../../conformance/content.ts';
import { MediaType } from '../../oci/media-types.ts';
import { pushBlob } from '../blob-push.ts';
import type { Workload } from '../workload.ts';

const REPOSITORY = 'bench/tags';

/**
 * Tag pushes per second, `inFlight` at a time: each a manifest PUT by a new tag of a new manifest
 * (an annotation makes each one unique) over a config and a layer pushed once, the end of every CI push.
 */
export function tagPush(seconds: number, inFlight: number, runs: number): Workload {
  const blobs = new Map<string, [Content, Content]>();
  let pushed = 0;
  return {
    name: `tag push (manifest PUT), ${inFlight} in flight`,
    unit: 'tags/s',
    higherIsBetter: true,
    runs,
    async setup(server) {
      const [config, layer] = [randomContent(300), randomContent(4096)];
      for (const blob of [config, layer]) {
        await pushBlob(server, REPOSITORY, { digest: `${blob.digest}`, size: blob.bytes.length, stream: () => Readable.from([blob.bytes]) });
      }
      blobs.set(server.name, [config, layer]);
    },
    async measure(server) {
      const [config, layer] = blobs.get(server.name)!;
      const until = performance.now() + seconds * 1000;
      const started = performance.now();
      let done = 0;
      const pusher = async () => {
        while (performance.now() < until) {
          const n = ++pushed;
          const manifest = imageManifest(config, [layer], { annotations: { 'bench.push': String(n) } });
          const response = await fetch(`${server.url}/v2/${REPOSITORY}/manifests/t${n}`, {
            method: 'PUT',
            body: manifest.bytes as unknown as BodyInit,
            headers: { 'Content-Type': MediaType.ociManifest },
          });
          if (response.status !== 201) throw new Error(`tag push to ${server.name}: ${response.status} ${await response.text()}`);
          await response.arrayBuffer();
          done++;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, pusher));
      return done / ((performance.now() - started) / 1000);
    },
  };
}
