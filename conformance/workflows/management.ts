import { CheckSkipped, expectErrorBody, expectStatus, type CheckContext, type WorkflowDefinition } from '../check.ts';
import { randomContent } from '../content.ts';
import type { Exchange } from '../http.ts';
import { cleanUp, fetchManifest, pushTestImage, type TestImage } from '../operations.ts';

type ManagementState = TestImage & { tag: string };

const state = (context: CheckContext) => context.state.get('content management') as ManagementState;
const repo = (context: CheckContext) => context.options.namespace;

/** 400 or 405 to a delete means the registry has deletes disabled ("Content Management"). */
function skipIfDisabled(exchange: Exchange, what: string): void {
  if (exchange.status !== 400 && exchange.status !== 405) return;
  expectErrorBody(exchange, `${what} refused`);
  throw new CheckSkipped(`${what} is disabled on this registry (${exchange.status})`);
}

async function deleteManifest(context: CheckContext): Promise<void> {
  const { manifest } = state(context);
  const del = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${manifest.digest}`);
  skipIfDisabled(del, 'manifest deletion');
  expectStatus(del, 202, 'DELETE manifest by digest');
  expectStatus(await fetchManifest(context, 'GET', repo(context), `${manifest.digest}`), 404, 'GET the deleted manifest');
}

async function deleteBlobs(context: CheckContext): Promise<void> {
  const { config, layer } = state(context);
  for (const blob of [config, layer]) {
    const del = await context.client.request('DELETE', `/v2/${repo(context)}/blobs/${blob.digest}`);
    skipIfDisabled(del, 'blob deletion');
    expectStatus(del, 202, 'DELETE blob');
    expectStatus(await context.client.request('GET', `/v2/${repo(context)}/blobs/${blob.digest}`), 404, 'GET the deleted blob');
  }
}

/** Content management (distribution-spec "Content Management"): deletes of tags, manifests, blobs. */
export const managementWorkflow: WorkflowDefinition = {
  name: 'content management',
  async setup(context) {
    const tag = 'management-tag';
    const image = await pushTestImage(context, repo(context), tag, 3000, true);
    context.state.set('content management', { ...image, tag } satisfies ManagementState);
  },
  checks: [
    {
      spec: 'end-9',
      title: 'DELETE on a tag answers 202, and the tag is gone while the manifest stays',
      async run(context) {
        const { manifest, tag } = state(context);
        const del = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${tag}`);
        skipIfDisabled(del, 'tag deletion');
        expectStatus(del, 202, 'DELETE tag');
        expectStatus(await fetchManifest(context, 'GET', repo(context), tag), 404, 'GET the deleted tag');
        expectStatus(await fetchManifest(context, 'GET', repo(context), `${manifest.digest}`), 200, 'GET the manifest by digest');
      },
    },
    {
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
      spec: 'end-9, end-10',
      title: 'DELETE on an unknown manifest or blob answers 404',
      standalone: true,
      async run(context) {
        const unknown = randomContent().digest;
        const manifest = await context.client.request('DELETE', `/v2/${repo(context)}/manifests/${unknown}`);
        skipIfDisabled(manifest, 'manifest deletion');
        expectStatus(manifest, 404, 'DELETE unknown manifest');
        const blob = await context.client.request('DELETE', `/v2/${repo(context)}/blobs/${unknown}`);
        skipIfDisabled(blob, 'blob deletion');
        expectStatus(blob, 404, 'DELETE unknown blob');
      },
    },
  ],
  // The checks delete what setup pushed; this catches whatever a skipped, failed or unselected check left.
  async teardown(context) {
    const managed = context.state.get('content management') as ManagementState | undefined;
    if (!managed) return undefined;
    return cleanUp(context, repo(context), [`${managed.manifest.digest}`], [`${managed.config.digest}`, `${managed.layer.digest}`]);
  },
};
