import { describe, expectJSON, expectStatus, expectThat, type CheckContext, type WorkflowDefinition } from '../check.ts';
import { imageManifest, randomContent, type Content } from '../content.ts';
import { cleanupCheck, skipIfDeletesDisabled } from '../deletes.ts';
import { fetchManifest, imagesTarget, namespace as repo, pushManifest, pushTestImage, type TestImage } from '../operations.ts';

interface ManagementState {
  image: TestImage;
  /** Deleted by the tag check; `keptTag` names the same manifest until the manifest goes. */
  tag: string;
  keptTag: string;
  /** A second manifest over the same blobs, tagged `secondTag`, deleted by digest. */
  second: Content;
  secondTag: string;
}

const state = (context: CheckContext) => context.state.get('content management') as ManagementState;

async function deleteManifest(context: CheckContext): Promise<void> {
  const { manifest } = state(context).image;
  const del = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${manifest.digest}`);
  skipIfDeletesDisabled(del, 'manifest deletion');
  expectStatus(del, 202, 'DELETE manifest by digest');
  expectStatus(await fetchManifest(context, 'GET', repo(context), `${manifest.digest}`), 404, 'GET the deleted manifest');
}

async function deleteBlobs(context: CheckContext): Promise<void> {
  const { config, layer } = state(context).image;
  for (const blob of [config, layer]) {
    const del = await context.client.request('DELETE', `/v2/${repo(context)}/blobs/${blob.digest}`);
    skipIfDeletesDisabled(del, 'blob deletion');
    expectStatus(del, 202, 'DELETE blob');
    expectStatus(await context.client.request('GET', `/v2/${repo(context)}/blobs/${blob.digest}`), 404, 'GET the deleted blob');
  }
}

/** Content management (distribution-spec "Content Management"): deletes of tags, manifests, blobs. */
export const managementWorkflow: WorkflowDefinition = {
  name: 'content management',
  async setup(context) {
    const [tag, keptTag, secondTag] = ['management-tag', 'management-kept', 'management-second'];
    const image = await pushTestImage(context, repo(context), { tags: [tag, keptTag], byDigest: true, layerSize: 3000 });
    const second = imageManifest(image.config, [image.layer], { annotations: { purpose: 'untagged by its deletion' } });
    const put = await pushManifest(context, repo(context), secondTag, second);
    expectStatus(put, 201, `setup: PUT of a second manifest as ${secondTag}`);
    context.state.set('content management', { image, tag, keptTag, second, secondTag } satisfies ManagementState);
  },
  checks: [
    {
      id: 'management.delete-tag',
      spec: 'end-9',
      title: 'DELETE on a tag answers 202, and the tag is gone while the manifest stays (400 UNSUPPORTED or 405 where disabled)',
      async run(context) {
        const { image, tag } = state(context);
        const del = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${tag}`);
        skipIfDeletesDisabled(del, 'tag deletion');
        expectStatus(del, 202, 'DELETE tag');
        expectStatus(await fetchManifest(context, 'GET', repo(context), tag), 404, 'GET the deleted tag');
        expectStatus(await fetchManifest(context, 'GET', repo(context), `${image.manifest.digest}`), 200, 'GET the manifest by digest');
      },
    },
    {
      id: 'management.delete-manifest-untags',
      spec: 'end-9, end-8a',
      title: 'DELETE on a manifest by digest answers 202, and the tag list no longer names its tag',
      async run(context) {
        const { second, secondTag, keptTag } = state(context);
        const del = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${second.digest}`);
        skipIfDeletesDisabled(del, 'manifest deletion');
        expectStatus(del, 202, 'DELETE manifest by digest');
        const list = await context.client.request('GET', `/v2/${repo(context)}/tags/list`);
        expectStatus(list, 200, 'GET tags/list after the delete');
        const { tags } = expectJSON<{ tags?: string[] }>(list, 'GET tags/list after the delete');
        expectThat(Array.isArray(tags) && !tags.includes(secondTag), `the tag list still names ${secondTag} of the deleted manifest: ${describe(list)}`);
        expectThat(Array.isArray(tags) && tags.includes(keptTag), `the tag list lost ${keptTag} of a manifest not deleted: ${describe(list)}`);
      },
    },
    {
      id: 'management.delete-manifest-and-blobs',
      spec: 'end-9, end-10',
      title: 'DELETE on the manifest and its blobs answers 202, after which each answers 404',
      async run(context) {
        if (context.options.deleteManifestBeforeBlobs) {
          await deleteManifest(context);
          await deleteBlobs(context);
        } else {
          await deleteBlobs(context);
          await deleteManifest(context);
        }
      },
    },
    {
      id: 'management.delete-unknown',
      spec: 'end-9, end-10',
      title: 'DELETE on an unknown manifest or blob answers 404',
      standalone: true,
      async run(context) {
        const unknown = randomContent().digest;
        const manifest = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${unknown}`);
        skipIfDeletesDisabled(manifest, 'manifest deletion');
        expectStatus(manifest, 404, 'DELETE unknown manifest');
        const blob = await context.client.request('DELETE', `/v2/${repo(context)}/blobs/${unknown}`);
        skipIfDeletesDisabled(blob, 'blob deletion');
        expectStatus(blob, 404, 'DELETE unknown blob');
      },
    },
  ],
  // The checks delete what setup pushed; this deletes whatever a skipped, failed or unselected check left.
  teardown: cleanupCheck('management', (context) => {
    const { image, second } = state(context);
    const target = imagesTarget(repo(context), [image]);
    return [{ ...target, manifests: [`${second.digest}`, ...target.manifests] }];
  }),
};
