import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import {
  CheckFailure,
  CheckSkipped,
  describe,
  expectErrorBody,
  expectHeader,
  expectStatus,
  expectThat,
  type CheckContext,
  type WorkflowDefinition,
} from '../check.ts';
import { imageManifest, randomContent, type Content } from '../content.ts';
import type { Exchange } from '../http.ts';
import { cleanUp, fetchManifest, pushBlob, pushManifest, withQuery } from '../operations.ts';

const repo = (context: CheckContext) => context.options.namespace;

/** Everything the push checks leave behind, deleted by the teardown. */
interface PushState {
  blobs: Set<string>;
  manifests: Set<string>;
  mountedBlobs: Set<string>;
}

const state = (context: CheckContext) => context.state.get('push') as PushState;

function pushed(context: CheckContext, blob: Content): void {
  state(context).blobs.add(`${blob.digest}`);
}

/** Chunk size of the chunked checks, unless the registry asks for more (OCI-Chunk-Min-Length). */
const CHUNK = 10_000;

async function startUpload(context: CheckContext, query = ''): Promise<{ location: string; chunk: number }> {
  const start = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/${query}`, { headers: { 'Content-Length': '0' } });
  expectStatus(start, 202, 'POST to start an upload (end-4a)', ['location']);
  const location = start.headers.get('location');
  if (!location) throw new CheckFailure(`POST to start an upload: no Location header in ${describe(start)}`);
  return { location, chunk: Math.max(CHUNK, Number(start.headers.get('oci-chunk-min-length') ?? 0) || 0) };
}

function nextLocation(exchange: Exchange, previous: string): string {
  return exchange.headers.get('location') ?? previous;
}

async function expectBlob(context: CheckContext, name: string, blob: Content, what: string): Promise<void> {
  const get = await context.client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
  expectStatus(get, 200, `${what}: GET the blob afterwards`);
  expectThat(get.body.equals(blob.bytes), `${what}: the stored blob differs from what was pushed`);
}

/**
 * Closes an upload with `PUT ?digest=` (end-6), optionally carrying a last chunk, and checks
 * the 201 and that the registry then serves exactly the blob.
 */
async function closeUpload(context: CheckContext, location: string, blob: Content, what: string, chunk?: { body: Uint8Array; headers: Record<string, string> }) {
  const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), chunk ?? {});
  pushed(context, blob);
  expectStatus(put, 201, what, ['location']);
  expectThat(put.headers.get('location') !== null, `${what}: no Location in ${describe(put)}`);
  await expectBlob(context, repo(context), blob, what);
}

/** Pushes `blob` to the cross-mount repository, then asks to mount it here with `query` (end-11). */
async function requestMount(context: CheckContext, blob: Content, query: string): Promise<Exchange> {
  await pushBlob(context, context.options.crossmountNamespace, blob);
  state(context).mountedBlobs.add(`${blob.digest}`);
  const mount = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?mount=${blob.digest}${query}`);
  pushed(context, blob);
  return mount;
}

/** Pushes a chunk with Content-Range (end-5). */
function patchChunk(context: CheckContext, location: string, blob: Content, start: number, end: number) {
  return context.client.request('PATCH', location, {
    body: blob.bytes.subarray(start, end),
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end - 1}`, 'Content-Length': String(end - start) },
  });
}

/** An upload of a two-chunk blob whose first chunk was received: where the out-of-order checks start. */
async function uploadFirstChunk(context: CheckContext): Promise<{ chunk: number; blob: Content; location: string }> {
  const upload = await startUpload(context);
  const { chunk } = upload;
  const blob = randomContent(2 * chunk);
  const first = await patchChunk(context, upload.location, blob, 0, chunk);
  expectStatus(first, 202, 'first PATCH');
  return { chunk, blob, location: nextLocation(first, upload.location) };
}

/** Pushes a config and layers of the given sizes (recorded for cleanup); returns a manifest over them. */
async function pushImageBlobs(context: CheckContext, layerSizes: number[]): Promise<Content> {
  const config = randomContent(200);
  const layers = layerSizes.map((size) => randomContent(size));
  for (const blob of [config, ...layers]) {
    await pushBlob(context, repo(context), blob);
    pushed(context, blob);
  }
  return imageManifest(config, layers);
}

/** Push (distribution-spec "Push"): blobs monolithic and chunked, mounts, manifests. */
export const pushWorkflow: WorkflowDefinition = {
  name: 'push',
  async setup(context) {
    context.state.set('push', { blobs: new Set(), manifests: new Set(), mountedBlobs: new Set() } satisfies PushState);
  },
  checks: [
    {
      spec: 'end-4a, end-6',
      title: 'POST then PUT pushes a blob monolithically (201 with Location)',
      async run(context) {
        const blob = randomContent(2048);
        const { location } = await startUpload(context);
        await closeUpload(context, location, blob, 'PUT closing a monolithic upload', {
          body: blob.bytes,
          headers: { 'Content-Type': 'application/octet-stream' },
        });
      },
    },
    {
      spec: 'end-4b',
      title: 'a single POST with ?digest= pushes a blob (201), or starts an upload (202)',
      async run(context) {
        const blob = randomContent(2048);
        const post = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?digest=${blob.digest}`, {
          body: blob.bytes,
          headers: { 'Content-Type': 'application/octet-stream' },
        });
        pushed(context, blob);
        expectStatus(post, [201, 202], 'single POST with digest', ['location']);
        if (post.status === 202) {
          const location = nextLocation(post, '');
          const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), { body: blob.bytes });
          expectStatus(put, 201, 'PUT after a single POST the registry did not take whole');
        }
        await expectBlob(context, repo(context), blob, 'single POST');
      },
    },
    {
      spec: 'Pushing blobs',
      title: 'a blob whose bytes do not match its digest is refused with 400',
      async run(context) {
        const claimed = randomContent();
        const { location } = await startUpload(context);
        const put = await context.client.request('PUT', withQuery(location, `digest=${claimed.digest}`), { body: randomContent().bytes });
        expectStatus(put, 400, 'PUT with a digest that does not match the body');
        expectErrorBody(put, 'PUT with a digest that does not match the body', ['DIGEST_INVALID']);
        expectStatus(await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${claimed.digest}`), 404, 'HEAD the refused blob');
      },
    },
    {
      spec: 'end-5, end-6',
      title: 'chunks with Content-Range are accepted in order (202 with Range) and the PUT closes the upload',
      async run(context) {
        const upload = await startUpload(context);
        const { chunk } = upload;
        const blob = randomContent(3 * chunk);
        const first = await patchChunk(context, upload.location, blob, 0, chunk);
        expectStatus(first, 202, 'first PATCH', ['range']);
        expectHeader(first, 'range', `0-${chunk - 1}`, 'first PATCH');
        const second = await patchChunk(context, nextLocation(first, upload.location), blob, chunk, 2 * chunk);
        expectStatus(second, 202, 'second PATCH', ['range']);
        expectHeader(second, 'range', `0-${2 * chunk - 1}`, 'second PATCH');
        await closeUpload(context, nextLocation(second, upload.location), blob, 'PUT with the final chunk', {
          body: blob.bytes.subarray(2 * chunk),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${2 * chunk}-${3 * chunk - 1}`, 'Content-Length': String(chunk) },
        });
      },
    },
    {
      spec: 'end-5, end-13',
      title: 'a chunk out of order (skipping ahead or repeated) answers 416, and GET on the upload reports where it stands (204 with Range)',
      async run(context) {
        const { chunk, blob, location } = await uploadFirstChunk(context);
        const skipped = await patchChunk(context, location, blob, chunk + 1, 2 * chunk);
        expectStatus(skipped, 416, 'PATCH starting past the received bytes');
        const repeated = await patchChunk(context, location, blob, 0, chunk);
        expectStatus(repeated, 416, 'PATCH repeating the chunk already received');
        const status = await context.client.request('GET', location);
        expectStatus(status, 204, 'GET upload status (end-13)', ['range', 'location']);
        expectHeader(status, 'range', `0-${chunk - 1}`, 'GET upload status (end-13)');
        expectThat(status.headers.get('location') !== null, `GET upload status: no Location in ${describe(status)}`);
        await context.client.request('DELETE', location);
      },
    },
    {
      spec: 'end-6 (main)',
      title: 'an out-of-order final chunk on the closing PUT answers 416',
      async run(context) {
        const { chunk, blob, location } = await uploadFirstChunk(context);
        const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), {
          body: blob.bytes.subarray(chunk + 1),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${chunk + 1}-${2 * chunk - 1}`, 'Content-Length': String(chunk - 1) },
        });
        expectStatus(put, 416, 'closing PUT whose chunk starts past the received bytes');
        await context.client.request('DELETE', location);
      },
    },
    {
      spec: 'end-5 (main)',
      title: 'PATCH without Content-Range streams the body into the upload',
      async run(context) {
        const blob = randomContent(40_000);
        const { location } = await startUpload(context);
        const patch = await context.client.request('PATCH', location, { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
        expectStatus(patch, 202, 'streamed PATCH', ['range']);
        expectHeader(patch, 'range', '0-39999', 'streamed PATCH');
        await closeUpload(context, nextLocation(patch, location), blob, 'PUT closing a streamed upload');
      },
    },
    {
      spec: 'end-14 (main)',
      title: 'DELETE on an upload cancels it; the session is then unknown (404)',
      async run(context) {
        const { location } = await startUpload(context);
        const cancel = await context.client.request('DELETE', location);
        expectStatus(cancel, [204, 202, 200], 'DELETE on the upload location');
        const status = await context.client.request('GET', location);
        expectStatus(status, 404, 'GET on a cancelled upload');
        expectErrorBody(status, 'GET on a cancelled upload', ['BLOB_UPLOAD_UNKNOWN'], { onlyIfJSON: true });
      },
    },
    {
      spec: 'Pushing blobs (main)',
      title: 'a blob named by a sha512 digest is stored and served under it',
      async run(context) {
        const blob = randomContent(3000, 'sha512');
        const { location } = await startUpload(context, '?digest-algorithm=sha512');
        const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), { body: blob.bytes });
        pushed(context, blob);
        expectStatus(put, 201, 'PUT of a sha512 blob');
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${blob.digest}`);
        expectStatus(get, 200, 'GET of a sha512 blob');
        expectThat(Digest.of(get.body, 'sha512').equals(blob.digest), 'GET of a sha512 blob: the body differs');
      },
    },
    {
      spec: 'end-11',
      title: 'mount from another repository with `from` answers 201 with Location',
      async run(context) {
        const blob = randomContent(1500);
        const mount = await requestMount(context, blob, `&from=${context.options.crossmountNamespace}`);
        expectStatus(mount, [201, 202], 'POST with mount and from', ['location']);
        expectThat(mount.headers.get('location') !== null, `mount: no Location in ${describe(mount)}`);
        if (mount.status === 202) {
          await context.client.request('DELETE', nextLocation(mount, ''));
          throw new CheckSkipped('the registry does not mount across repositories (202, an upload session instead; optional)');
        }
        await expectBlob(context, repo(context), blob, 'mount');
      },
    },
    {
      spec: 'end-11',
      title: 'mount of a blob no repository holds answers 202 with an upload Location',
      standalone: true,
      async run(context) {
        const missing = randomContent().digest;
        const mount = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?mount=${missing}&from=${context.options.crossmountNamespace}`);
        expectStatus(mount, 202, 'POST mounting an unknown blob', ['location']);
        const location = mount.headers.get('location');
        expectThat(location !== null, `POST mounting an unknown blob: no Location in ${describe(mount)}`);
        await context.client.request('DELETE', location ?? '');
      },
    },
    {
      spec: 'end-11',
      title: 'mount without `from` answers 201 (mounted) or 202 (upload), as OCI_AUTOMATIC_CROSSMOUNT says',
      async run(context) {
        const blob = randomContent(1500);
        const mount = await requestMount(context, blob, '');
        const expected = context.options.automaticCrossmount;
        expectStatus(mount, expected === undefined ? [201, 202] : expected ? 201 : 202, 'POST with mount and no from');
        if (mount.status === 201) await expectBlob(context, repo(context), blob, 'automatic mount');
        else await context.client.request('DELETE', nextLocation(mount, ''));
      },
    },
    {
      spec: 'end-7a',
      title: 'a manifest PUT by tag answers 201 with Location and the Docker-Content-Digest of the body',
      async run(context) {
        const manifest = await pushImageBlobs(context, [1000]);
        const put = await pushManifest(context, repo(context), 'push-tag', manifest);
        state(context).manifests.add(`${manifest.digest}`);
        expectStatus(put, 201, 'manifest PUT by tag', ['location']);
        expectThat(put.headers.get('location') !== null, `manifest PUT: no Location in ${describe(put)}`);
        expectHeader(put, 'docker-content-digest', `${manifest.digest}`, 'manifest PUT by tag');
      },
    },
    {
      spec: 'end-7a',
      title: 'a manifest PUT by digest answers 201; the manifest is then pullable by that digest',
      async run(context) {
        // With a layer: the official suite only warns about registries refusing layerless images.
        const manifest = await pushImageBlobs(context, [500]);
        const put = await pushManifest(context, repo(context), `${manifest.digest}`, manifest);
        state(context).manifests.add(`${manifest.digest}`);
        expectStatus(put, 201, 'manifest PUT by digest');
        expectStatus(await fetchManifest(context, 'GET', repo(context), `${manifest.digest}`), 200, 'GET it back');
      },
    },
    {
      spec: 'Push',
      title: 'a manifest naming blobs the registry lacks is accepted, or refused with MANIFEST_BLOB_UNKNOWN',
      async run(context) {
        const manifest = imageManifest(randomContent(100), [randomContent(100)]);
        const put = await pushManifest(context, repo(context), 'push-missing-blobs', manifest);
        state(context).manifests.add(`${manifest.digest}`);
        expectStatus(put, [201, 400], 'manifest PUT with unknown blobs');
        if (put.status === 400) expectErrorBody(put, 'manifest PUT with unknown blobs', ['MANIFEST_BLOB_UNKNOWN']);
      },
    },
    {
      spec: 'end-7a, Error Codes',
      title: 'an invalid manifest is refused with 400 and a spec error body',
      async run(context) {
        const put = await context.client.request('PUT', `/v2/${repo(context)}/manifests/push-invalid`, {
          body: '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": 7}',
          headers: { 'Content-Type': MediaType.ociManifest },
        });
        expectStatus(put, 400, 'PUT of an invalid manifest');
        expectErrorBody(put, 'PUT of an invalid manifest', ['MANIFEST_INVALID']);
      },
    },
    {
      spec: 'end-7b (main)',
      title: 'a manifest PUT by digest with ?tag= sets each tag and lists them in OCI-Tag',
      async run(context) {
        const manifest = await pushImageBlobs(context, []);
        const tags = ['multi-1', 'multi-2', 'multi-3'];
        const query = tags.map((tag) => `tag=${tag}`).join('&');
        const put = await pushManifest(context, repo(context), `${manifest.digest}?${query}`, manifest);
        state(context).manifests.add(`${manifest.digest}`);
        expectStatus(put, 201, 'manifest PUT with tag parameters');
        const header = put.headers.get('oci-tag');
        if (header === null) throw new CheckSkipped('the registry does not support tag parameters (no OCI-Tag header; optional)');
        const accepted = header.split(',').map((tag) => tag.trim());
        for (const tag of tags) {
          expectThat(accepted.includes(tag), `OCI-Tag "${header}" does not list ${tag}`);
          expectStatus(await fetchManifest(context, 'HEAD', repo(context), tag), 200, `HEAD tag ${tag}`);
        }
      },
    },
  ],
  async teardown(context) {
    const pushedState = state(context);
    const mounted = await cleanUp(context, context.options.crossmountNamespace, [], [...pushedState.mountedBlobs]);
    const own = await cleanUp(context, repo(context), [...pushedState.manifests], [...pushedState.blobs]);
    return own ?? mounted;
  },
};
