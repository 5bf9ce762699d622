import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { CheckSkipped, expectErrorBody, expectHeader, expectStatus, expectThat, type CheckContext, type WorkflowDefinition } from '../check.ts';
import { randomContent } from '../content.ts';
import { cleanUp, fetchManifest, pushTestImage, type TestImage } from '../operations.ts';

type PullState = TestImage & { tag: string };

const state = (context: CheckContext) => context.state.get('pull') as PullState;
const repo = (context: CheckContext) => context.options.namespace;

/** Pull (distribution-spec "Pull"): the category every registry MUST support. */
export const pullWorkflow: WorkflowDefinition = {
  name: 'pull',
  async setup(context) {
    const tag = `pull-${Date.now()}`;
    const image = await pushTestImage(context, repo(context), tag, 4096);
    context.state.set('pull', { ...image, tag } satisfies PullState);
  },
  checks: [
    {
      spec: 'end-1',
      title: 'GET /v2/ answers 200',
      standalone: true,
      async run({ client }) {
        expectStatus(await client.request('GET', '/v2/'), 200, 'API version check');
      },
    },
    {
      spec: 'end-2',
      title: 'HEAD on a blob answers 200 with Content-Length and Docker-Content-Digest',
      async run(context) {
        const { layer } = state(context);
        const head = await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${layer.digest}`);
        expectStatus(head, 200, 'HEAD existing blob');
        expectHeader(head, 'content-length', String(layer.bytes.length), 'HEAD existing blob');
        expectHeader(head, 'docker-content-digest', `${layer.digest}`, 'HEAD existing blob');
      },
    },
    {
      spec: 'end-2',
      title: 'HEAD on an unknown blob answers 404',
      standalone: true,
      async run(context) {
        expectStatus(await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${randomContent().digest}`), 404, 'HEAD unknown blob');
      },
    },
    {
      spec: 'end-2',
      title: 'GET on a blob returns its bytes and Docker-Content-Digest',
      async run(context) {
        const { layer } = state(context);
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${layer.digest}`);
        expectStatus(get, 200, 'GET existing blob');
        expectHeader(get, 'docker-content-digest', `${layer.digest}`, 'GET existing blob');
        expectThat(Digest.of(get.body).equals(layer.digest), `GET existing blob: body digest is ${Digest.of(get.body)}, not ${layer.digest}`);
      },
    },
    {
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
      spec: 'end-2 Range',
      title: 'GET with Range answers 206 with exactly the bytes asked for',
      async run(context) {
        const { layer } = state(context);
        const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${layer.digest}`, { headers: { Range: 'bytes=10-19' } });
        if (get.status === 200 && get.body.equals(layer.bytes)) throw new CheckSkipped('the registry ignores Range (whole blob, 200; Range support is a SHOULD)');
        expectStatus(get, 206, 'GET blob with Range: bytes=10-19', ['content-range']);
        expectThat(get.body.equals(layer.bytes.subarray(10, 20)), `GET with Range returned ${get.body.length} bytes that are not bytes 10-19`);
      },
    },
    {
      spec: 'end-3',
      title: 'HEAD on a manifest by tag and by digest answers 200 with digest and length',
      async run(context) {
        const { manifest, tag } = state(context);
        for (const reference of [tag, `${manifest.digest}`]) {
          const head = await fetchManifest(context, 'HEAD', repo(context), reference);
          expectStatus(head, 200, `HEAD manifest ${reference}`);
          expectHeader(head, 'docker-content-digest', `${manifest.digest}`, `HEAD manifest ${reference}`);
          expectHeader(head, 'content-length', String(manifest.bytes.length), `HEAD manifest ${reference}`);
        }
      },
    },
    {
      spec: 'end-3',
      title: 'GET on a manifest by tag and by digest returns it byte for byte with its Content-Type',
      async run(context) {
        const { manifest, tag } = state(context);
        for (const reference of [tag, `${manifest.digest}`]) {
          const get = await fetchManifest(context, 'GET', repo(context), reference);
          expectStatus(get, 200, `GET manifest ${reference}`);
          expectThat(get.body.equals(manifest.bytes), `GET manifest ${reference}: the body differs from what was pushed`);
          expectHeader(get, 'content-type', new RegExp(`^${MediaType.ociManifest.replace(/[.+]/g, '\\$&')}`), `GET manifest ${reference}`);
          expectHeader(get, 'docker-content-digest', `${manifest.digest}`, `GET manifest ${reference}`);
        }
      },
    },
    {
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
      spec: 'Pulling manifests',
      title: 'a repository that does not exist answers 404',
      standalone: true,
      async run(context) {
        const get = await fetchManifest(context, 'GET', `${repo(context)}/no-such-repository`, 'latest');
        expectStatus(get, 404, 'GET manifest in a missing repository');
      },
    },
  ],
  async teardown(context) {
    const pulled = context.state.get('pull') as PullState | undefined;
    if (!pulled) return undefined;
    return cleanUp(context, repo(context), [`${pulled.manifest.digest}`], [`${pulled.config.digest}`, `${pulled.layer.digest}`]);
  },
};
