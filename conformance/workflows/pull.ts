import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import {
  CheckSkipped,
  expectErrorBody,
  expectHeader,
  expectStatus,
  expectThat,
  SPEC_ERROR_CODES,
  type CheckContext,
  type WorkflowDefinition,
} from '../check.ts';
import { randomContent, type Content } from '../content.ts';
import { cleanupCheck } from '../deletes.ts';
import { fetchManifest, imagesTarget, namespace as repo, pushTestImage, type TestImage } from '../operations.ts';

interface PullState {
  /** Pushed under `tag` and by digest. */
  tagged: TestImage;
  tag: string;
  /** Pushed by digest only: a registry must serve a manifest no tag names. */
  untagged: TestImage;
}

const state = (context: CheckContext) => context.state.get('pull') as PullState;

/**
 * A reference that is neither a tag (it starts with a dot) nor a digest: it cannot name any manifest,
 * so a read of it is a read of a missing one. The official suite reads exactly this name.
 */
const INVALID_REFERENCE = '.INVALID_MANIFEST_NAME';

/** HEAD (digest and length) or GET (the bytes, their type and digest) of a manifest the registry holds. */
async function expectManifest(context: CheckContext, method: 'GET' | 'HEAD', reference: string, manifest: Content): Promise<void> {
  const what = `${method} manifest ${reference}`;
  const answer = await fetchManifest(context, method, repo(context), reference);
  expectStatus(answer, 200, what);
  expectHeader(answer, 'docker-content-digest', `${manifest.digest}`, what);
  if (method === 'HEAD') {
    expectHeader(answer, 'content-length', String(manifest.bytes.length), what);
    return;
  }
  expectThat(answer.body.equals(manifest.bytes), `${what}: the body differs from what was pushed`);
  expectHeader(answer, 'content-type', new RegExp(`^${MediaType.ociManifest.replace(/[.+]/g, '\\$&')}`), what);
}

/** Pull (distribution-spec "Pull"): the category every registry MUST support. */
export const pullWorkflow: WorkflowDefinition = {
  name: 'pull',
  async setup(context) {
    const tag = `pull-${Date.now()}`;
    const tagged = await pushTestImage(context, repo(context), { tags: [tag], layerSize: 4096 });
    const untagged = await pushTestImage(context, repo(context), { byDigest: true });
    context.state.set('pull', { tagged, tag, untagged } satisfies PullState);
  },
  checks: [
    {
      id: 'pull.api-version',
      spec: 'end-1',
      title: 'GET /v2/ answers 200',
      standalone: true,
      async run({ client }) {
        expectStatus(await client.request('GET', '/v2/'), 200, 'API version check');
      },
    },
    {
      id: 'pull.blob-head',
      spec: 'end-2',
      title: 'HEAD on a blob answers 200 with Content-Length and Docker-Content-Digest',
      async run(context) {
        const { layer } = state(context).tagged;
        const head = await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${layer.digest}`);
        expectStatus(head, 200, 'HEAD existing blob');
        expectHeader(head, 'content-length', String(layer.bytes.length), 'HEAD existing blob');
        expectHeader(head, 'docker-content-digest', `${layer.digest}`, 'HEAD existing blob');
      },
    },
    {
      id: 'pull.blob-head-unknown',
      spec: 'end-2',
      title: 'HEAD on an unknown blob answers 404',
      standalone: true,
      async run(context) {
        expectStatus(await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${randomContent().digest}`), 404, 'HEAD unknown blob');
      },
    },
    {
      id: 'pull.blob-get',
      spec: 'end-2',
      title: 'GET on a blob returns its bytes and Docker-Content-Digest',
      async run(context) {
        const { layer } = state(context).tagged;
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${layer.digest}`);
        expectStatus(get, 200, 'GET existing blob');
        expectHeader(get, 'docker-content-digest', `${layer.digest}`, 'GET existing blob');
        expectThat(Digest.of(get.body).equals(layer.digest), `GET existing blob: body digest is ${Digest.of(get.body)}, not ${layer.digest}`);
      },
    },
    {
      id: 'pull.blob-get-unknown',
      spec: 'end-2',
      title: 'GET on an unknown blob answers 404 (BLOB_UNKNOWN if the body is JSON)',
      standalone: true,
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${randomContent().digest}`);
        expectStatus(get, 404, 'GET unknown blob');
        expectErrorBody(get, 'GET unknown blob');
      },
    },
    {
      id: 'pull.blob-range',
      spec: 'end-2 Range',
      title: 'GET with Range answers 206 with exactly the bytes asked for',
      async run(context) {
        const { layer } = state(context).tagged;
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${layer.digest}`, { headers: { Range: 'bytes=10-19' } });
        if (get.status === 200 && get.body.equals(layer.bytes))
          throw new CheckSkipped('the registry ignores Range (whole blob, 200; Range support is a SHOULD)');
        expectStatus(get, 206, 'GET blob with Range: bytes=10-19', ['content-range']);
        expectThat(get.body.equals(layer.bytes.subarray(10, 20)), `GET with Range returned ${get.body.length} bytes that are not bytes 10-19`);
      },
    },
    {
      id: 'pull.manifest-head',
      spec: 'end-3',
      title: 'HEAD on a manifest by tag and by digest answers 200 with digest and length',
      async run(context) {
        const { tagged, tag } = state(context);
        for (const reference of [tag, `${tagged.manifest.digest}`]) await expectManifest(context, 'HEAD', reference, tagged.manifest);
      },
    },
    {
      id: 'pull.manifest-get',
      spec: 'end-3',
      title: 'GET on a manifest by tag and by digest returns it byte for byte with its Content-Type',
      async run(context) {
        const { tagged, tag } = state(context);
        for (const reference of [tag, `${tagged.manifest.digest}`]) await expectManifest(context, 'GET', reference, tagged.manifest);
      },
    },
    {
      id: 'pull.manifest-untagged',
      spec: 'end-3',
      title: 'HEAD and GET on a manifest pushed by digest only (no tag) answer 200',
      async run(context) {
        const { manifest } = state(context).untagged;
        for (const method of ['HEAD', 'GET'] as const) await expectManifest(context, method, `${manifest.digest}`, manifest);
      },
    },
    {
      id: 'pull.manifest-unknown',
      spec: 'end-3',
      title: 'GET and HEAD on an unknown manifest answer 404',
      standalone: true,
      async run(context) {
        for (const reference of ['no-such-tag', `${randomContent().digest}`]) {
          const get = await fetchManifest(context, 'GET', repo(context), reference);
          expectStatus(get, 404, `GET manifest ${reference}`);
          expectErrorBody(get, `GET manifest ${reference}`);
          expectStatus(await fetchManifest(context, 'HEAD', repo(context), reference), 404, `HEAD manifest ${reference}`);
        }
      },
    },
    {
      id: 'pull.manifest-invalid-reference',
      spec: 'end-3',
      title: `GET and HEAD on a reference that cannot name a manifest (${INVALID_REFERENCE}) answer 404`,
      standalone: true,
      async run(context) {
        for (const method of ['GET', 'HEAD'] as const) {
          const answer = await fetchManifest(context, method, repo(context), INVALID_REFERENCE);
          expectStatus(answer, 404, `${method} manifest ${INVALID_REFERENCE}`);
          expectErrorBody(answer, `${method} manifest ${INVALID_REFERENCE}`);
        }
      },
    },
    {
      id: 'pull.repository-unknown',
      spec: 'Pulling manifests',
      title: 'a repository that does not exist answers 404',
      standalone: true,
      async run(context) {
        const get = await fetchManifest(context, 'GET', `${repo(context)}/no-such-repository`, 'latest');
        expectStatus(get, 404, 'GET manifest in a missing repository');
      },
    },
    {
      id: 'pull.error-codes',
      spec: 'Error Codes',
      title: 'a malformed digest reference answers 404, or 400 with a spec error body',
      standalone: true,
      async run(context) {
        const get = await fetchManifest(context, 'GET', repo(context), 'sha256:totallywrong');
        expectStatus(get, [400, 404], 'GET manifest sha256:totallywrong');
        // A 400 here is the registry explaining itself, so its body is held to the spec's error format.
        if (get.status === 400) expectErrorBody(get, 'GET manifest sha256:totallywrong', SPEC_ERROR_CODES);
      },
    },
  ],
  teardown: cleanupCheck('pull', (context) => {
    const { tagged, untagged } = state(context);
    return [imagesTarget(repo(context), [tagged, untagged])];
  }),
};
