import { Readable } from 'node:stream';
import { imageManifest, randomContent, type Content } from '../../conformance/content.ts';
import { MANIFEST_ACCEPT, MediaType } from '../../oci/media-types.ts';
import { hey, wrkGet } from '../http-load.ts';
import type { BenchServer } from '../servers.ts';
import type { Workload } from '../workload.ts';
import { pushBlob, type BlobSource } from './transfer.ts';

const REPOSITORY = 'bench/small';
const layers = new Map<string, Content>();

function source(content: Content): BlobSource {
  return { digest: `${content.digest}`, size: content.bytes.length, stream: () => Readable.from([content.bytes]) };
}

/** A small image (one 4 KiB layer) to hammer with HEAD and GET requests. */
async function pushSmallImage(server: BenchServer): Promise<void> {
  if (layers.has(server.name)) return;
  const config = randomContent(300);
  const layer = randomContent(4096);
  await pushBlob(server, REPOSITORY, source(config));
  await pushBlob(server, REPOSITORY, source(layer));
  const manifest = imageManifest(config, [layer]);
  const response = await fetch(`${server.url}/v2/${REPOSITORY}/manifests/latest`, {
    method: 'PUT',
    body: manifest.bytes as unknown as BodyInit,
    headers: { 'Content-Type': MediaType.ociManifest },
  });
  if (response.status !== 201) throw new Error(`manifest push to ${server.name}: ${response.status} ${await response.text()}`);
  layers.set(server.name, layer);
}

/** Blob HEAD requests per second (hey: wrk cannot send HEAD). */
export function blobHeadRate(seconds: number, connections: number, runs: number): Workload {
  return {
    name: `blob HEAD, ${connections} connections`,
    unit: 'req/s',
    higherIsBetter: true,
    runs,
    setup: pushSmallImage,
    measure: (server) => hey('HEAD', `${server.url}/v2/${REPOSITORY}/blobs/${layers.get(server.name)!.digest}`, seconds, connections),
  };
}

/** Manifest GET requests per second by tag (wrk). */
export function manifestGetRate(seconds: number, connections: number, runs: number): Workload {
  return {
    name: `manifest GET by tag, ${connections} connections`,
    unit: 'req/s',
    higherIsBetter: true,
    runs,
    setup: pushSmallImage,
    measure: (server) => wrkGet(`${server.url}/v2/${REPOSITORY}/manifests/latest`, { Accept: MANIFEST_ACCEPT }, seconds, connections),
  };
}
