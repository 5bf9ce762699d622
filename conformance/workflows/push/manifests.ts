import { MediaType } from '../../../oci/media-types.ts';
import { CheckSkipped, describe, expectErrorBody, expectHeader, expectStatus, expectThat, type Check, type CheckContext } from '../../check.ts';
import { imageManifest, randomContent, type Content } from '../../content.ts';
import { fetchManifest, namespace as repo, pushBlob, pushManifest } from '../../operations.ts';
import { expectNextLocation, pushed, state } from './session.ts';

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

/** PUT of a manifest the cleanup is to delete. */
function putManifest(context: CheckContext, reference: string, manifest: Content) {
  state(context).manifests.add(`${manifest.digest}`);
  return pushManifest(context, repo(context), reference, manifest);
}

/** Manifest pushes (end-7a, end-7b): by tag, by digest, without layers, refused ones. */
export const manifestChecks: Check[] = [
  {
    id: 'push.manifest-put-tag',
    spec: 'end-7a',
    title: 'a manifest PUT under several tags answers 201 each time, with Location and the Docker-Content-Digest of the body',
    async run(context) {
      const manifest = await pushImageBlobs(context, [1000]);
      for (const tag of ['push-tag-0', 'push-tag-1', 'push-tag-2', 'push-tag-3']) {
        const put = await putManifest(context, tag, manifest);
        expectStatus(put, 201, `manifest PUT as ${tag}`, ['location']);
        expectNextLocation(put, `manifest PUT as ${tag}`);
        expectHeader(put, 'docker-content-digest', `${manifest.digest}`, `manifest PUT as ${tag}`);
      }
    },
  },
  {
    id: 'push.manifest-put-digest',
    spec: 'end-7a',
    title: 'a manifest PUT by digest answers 201; the manifest is then pullable by that digest',
    async run(context) {
      const manifest = await pushImageBlobs(context, [500]);
      const put = await putManifest(context, `${manifest.digest}`, manifest);
      expectStatus(put, 201, 'manifest PUT by digest');
      expectStatus(await fetchManifest(context, 'GET', repo(context), `${manifest.digest}`), 200, 'GET it back');
    },
  },
  {
    id: 'push.manifest-no-layers',
    spec: 'end-7a',
    title: 'an image manifest without layers is accepted (201 with Location), or the registry is said to refuse them',
    async run(context) {
      const manifest = await pushImageBlobs(context, []);
      const put = await putManifest(context, 'push-no-layers', manifest);
      // Image-spec allows an empty layers list; the official suite only warns when a registry refuses it.
      if (put.status !== 201) throw new CheckSkipped(`the registry refuses image manifests without layers: ${describe(put)}`);
      expectNextLocation(put, 'manifest PUT without layers');
    },
  },
  {
    id: 'push.manifest-missing-blobs',
    spec: 'Push',
    title: 'a manifest naming blobs the registry lacks is accepted, or refused with MANIFEST_BLOB_UNKNOWN',
    async run(context) {
      const manifest = imageManifest(randomContent(100), [randomContent(100)]);
      const put = await putManifest(context, 'push-missing-blobs', manifest);
      expectStatus(put, [201, 400], 'manifest PUT with unknown blobs');
      if (put.status === 400) expectErrorBody(put, 'manifest PUT with unknown blobs', ['MANIFEST_BLOB_UNKNOWN']);
    },
  },
  {
    id: 'push.manifest-invalid',
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
    id: 'push.manifest-tag-params',
    spec: 'end-7b (main)',
    title: 'a manifest PUT by digest with ?tag= sets each tag and lists them in OCI-Tag',
    async run(context) {
      const manifest = await pushImageBlobs(context, []);
      const tags = ['multi-1', 'multi-2', 'multi-3'];
      const query = tags.map((tag) => `tag=${tag}`).join('&');
      const put = await putManifest(context, `${manifest.digest}?${query}`, manifest);
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
];
