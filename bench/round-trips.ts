import { setTimeout as sleep } from 'node:timers/promises';
import { imageManifest, randomContent, type Content } from '../conformance/content.ts';
import { MediaType } from '../oci/media-types.ts';
import type { LatencyProxy, RoundTrips } from '../peers/latency-proxy.ts';

/** The registry operations whose S3 round trips are counted, in the order they run. */
export const OPERATIONS = [
  'monolithic upload',
  'chunked upload (2 chunks)',
  'blob HEAD',
  'blob GET',
  'mount',
  'manifest PUT by tag',
  'manifest GET by tag',
  'tag delete',
] as const;

export type Operation = (typeof OPERATIONS)[number];

const REPOSITORY = 'round-trips/app';
const OTHER = 'round-trips/other';
const CHUNK = 256 * 1024;

async function call(url: string, init: RequestInit, wanted: number, what: string): Promise<Response> {
  const response = await fetch(url, init);
  if (response.status !== wanted) throw new Error(`${what}: expected ${wanted}, got ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
  return response;
}

function body(content: Content | Buffer): BodyInit {
  return (Buffer.isBuffer(content) ? content : content.bytes) as unknown as BodyInit;
}

/** A monolithic push: one POST where the registry takes it (Berth), else POST then PUT (Distribution). */
async function pushWhole(registry: string, repository: string, blob: Content): Promise<void> {
  const url = `${registry}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`;
  const post = await fetch(url, { method: 'POST', body: body(blob), headers: { 'Content-Type': 'application/octet-stream' } });
  await post.arrayBuffer();
  if (post.status === 201) return;
  if (post.status !== 202) throw new Error(`monolithic upload: ${post.status}`);
  const put = new URL(post.headers.get('location')!, registry);
  put.searchParams.set('digest', `${blob.digest}`);
  await call(put.href, { method: 'PUT', body: body(blob), headers: { 'Content-Type': 'application/octet-stream' } }, 201, 'monolithic PUT');
}

async function pushChunked(registry: string, repository: string, blob: Content): Promise<void> {
  let location = (await call(`${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' }, 202, 'chunked start')).headers.get('location')!;
  for (let offset = 0; offset < blob.bytes.length; offset += CHUNK) {
    const chunk = blob.bytes.subarray(offset, offset + CHUNK);
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` };
    const patch = await call(new URL(location, registry).href, { method: 'PATCH', body: body(chunk), headers }, 202, 'chunk');
    location = patch.headers.get('location')!;
  }
  const close = new URL(location, registry);
  close.searchParams.set('digest', `${blob.digest}`);
  await call(close.href, { method: 'PUT' }, 201, 'closing PUT');
}

/** Waits until the registry's S3 traffic has stopped (background work of the last operation). */
async function quiet(proxy: LatencyProxy): Promise<void> {
  for (;;) {
    const count = proxy.requests.length;
    await sleep(proxy.latencyMs * 4 + 50);
    if (proxy.requests.length === count && proxy.requests.every((request) => !Number.isNaN(request.answered))) return;
  }
}

/**
 * Runs each operation once against a registry whose S3 traffic goes through `proxy`, and counts
 * the requests each made. Reads are counted warm, as a registry serves them most of the time: once
 * a first read (and any background work it started) is done.
 */
export async function countRoundTrips(registry: string, proxy: LatencyProxy): Promise<Map<Operation, RoundTrips>> {
  const counts = new Map<Operation, RoundTrips>();
  // An operation the registry refuses (Distribution 2.8.2 deletes no tags) has no count.
  const measure = async (operation: Operation, action: () => Promise<unknown>) => {
    await quiet(proxy);
    proxy.reset();
    const done = await action().then(
      () => true,
      () => false,
    );
    await quiet(proxy);
    if (done) counts.set(operation, proxy.roundTrips());
  };
  const layer = randomContent(CHUNK * 2);
  const chunked = randomContent(CHUNK * 2);
  const config = randomContent(300);
  const manifest = imageManifest(config, [layer, chunked]);
  const blobUrl = `${registry}/v2/${REPOSITORY}/blobs/${layer.digest}`;
  const manifestUrl = `${registry}/v2/${REPOSITORY}/manifests/v1`;
  const accept = { Accept: MediaType.ociManifest };

  await measure('monolithic upload', () => pushWhole(registry, REPOSITORY, layer));
  await measure('chunked upload (2 chunks)', () => pushChunked(registry, REPOSITORY, chunked));
  await call(blobUrl, { method: 'HEAD' }, 200, 'first blob HEAD');
  await measure('blob HEAD', () => call(blobUrl, { method: 'HEAD' }, 200, 'blob HEAD'));
  await call(blobUrl, {}, 200, 'first blob GET');
  await measure('blob GET', () => call(blobUrl, {}, 200, 'blob GET'));
  await measure('mount', () => call(`${registry}/v2/${OTHER}/blobs/uploads/?mount=${layer.digest}&from=${REPOSITORY}`, { method: 'POST' }, 201, 'mount'));
  await pushWhole(registry, REPOSITORY, config);
  await measure('manifest PUT by tag', () =>
    call(manifestUrl, { method: 'PUT', body: body(manifest), headers: { 'Content-Type': MediaType.ociManifest } }, 201, 'manifest PUT'),
  );
  await call(manifestUrl, { headers: accept }, 200, 'first manifest GET');
  await measure('manifest GET by tag', () => call(manifestUrl, { headers: accept }, 200, 'manifest GET'));
  await measure('tag delete', () => call(manifestUrl, { method: 'DELETE' }, 202, 'tag delete'));
  return counts;
}
