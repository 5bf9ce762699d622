import { MediaType } from '../../oci/media-types.ts';
import { CheckFailure, CheckSkipped, describe, expectErrorBody, expectHeader, expectStatus, expectThat, type CheckContext, type WorkflowDefinition } from '../check.ts';
import { contentOf, imageManifest, randomContent, type Content } from '../content.ts';
import type { Exchange } from '../http.ts';
import { cleanUp, pushBlob, pushManifest } from '../operations.ts';

interface DiscoveryState {
  config: Content;
  subject: Content;
  sbom: Content;
  signature: Content;
  /** A referrer to a manifest never pushed: registries must accept subjects they lack. */
  orphan: Content;
  missingSubject: Content;
  /** The setup's PUT of each referrer, for the OCI-Subject check. */
  referrerPuts: { referrer: Content; subject: Content; put: Exchange }[];
  tags: string[];
}

const SBOM_TYPE = 'application/vnd.conformance.sbom.v1';
const SIGNATURE_CONFIG_TYPE = 'application/vnd.conformance.signature.config.v1+json';

const state = (context: CheckContext) => context.state.get('content discovery') as DiscoveryState;
const repo = (context: CheckContext) => context.options.namespace;

function json<T>(exchange: Exchange, what: string): T {
  try {
    return JSON.parse(exchange.body.toString('utf8')) as T;
  } catch {
    throw new CheckFailure(`${what}: the body is not JSON: ${describe(exchange)}`);
  }
}

interface TagList {
  name: string;
  tags: string[];
}

interface ReferrerDescriptor {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Content discovery (distribution-spec "Content Discovery"): tag lists and referrers. */
export const discoveryWorkflow: WorkflowDefinition = {
  name: 'content discovery',
  async setup(context) {
    const config = contentOf('{}');
    await pushBlob(context, repo(context), config);
    const subject = imageManifest(config, [], { annotations: { run: randomContent(8).digest.hex } });
    const sbom = imageManifest(config, [], { subject, artifactType: SBOM_TYPE, annotations: { 'org.conformance.kind': 'sbom' } });
    const signature = imageManifest(config, [], { subject, configMediaType: SIGNATURE_CONFIG_TYPE });
    const missingSubject = imageManifest(config, [], { annotations: { never: 'pushed', run: randomContent(8).digest.hex } });
    const orphan = imageManifest(config, [], { subject: missingSubject, artifactType: SBOM_TYPE });
    // Ten tags: a registry that does not sort cannot pass the order checks by luck.
    const tags = Array.from({ length: 10 }, (_, i) => `discovery-${String.fromCharCode(97 + i)}`);
    for (const tag of tags) {
      const put = await pushManifest(context, repo(context), tag, subject);
      if (put.status !== 201) throw new CheckFailure(`setup: could not tag ${tag}: ${describe(put)}`);
    }
    // Kept, not judged, here: the OCI-Subject check judges them, the referrer checks read the result.
    const referrerPuts = [];
    for (const [referrer, target] of [[sbom, subject], [signature, subject], [orphan, missingSubject]] as const) {
      referrerPuts.push({ referrer, subject: target, put: await pushManifest(context, repo(context), `${referrer.digest}`, referrer) });
    }
    context.state.set('content discovery', { config, subject, sbom, signature, orphan, missingSubject, referrerPuts, tags } satisfies DiscoveryState);
  },
  checks: [
    {
      spec: 'end-8a',
      title: 'the tag list holds every tag, in lexical order',
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list`);
        expectStatus(get, 200, 'GET tags/list');
        const list = json<TagList>(get, 'GET tags/list');
        expectThat(list.name === repo(context), `tag list names "${list.name}", not "${repo(context)}"`);
        for (const tag of state(context).tags) expectThat(list.tags.includes(tag), `tag list lacks ${tag}: ${describe(get)}`);
        const sorted = [...list.tags].sort();
        expectThat(list.tags.every((tag, i) => tag === sorted[i]), `tags are not in lexical order: ${list.tags.join(', ')}`);
      },
    },
    {
      spec: 'end-8a',
      title: 'the tag list of a repository that does not exist answers 404 (NAME_UNKNOWN if the body is JSON)',
      standalone: true,
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/no-such-repository/tags/list`);
        expectStatus(get, 404, 'GET tags/list of a missing repository');
        expectErrorBody(get, 'GET tags/list of a missing repository', ['NAME_UNKNOWN'], { onlyIfJSON: true });
      },
    },
    {
      spec: 'end-8b',
      title: 'n limits the list to n tags, with Link rel="next" when more follow',
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=2`);
        expectStatus(get, 200, 'GET tags/list?n=2');
        const list = json<TagList>(get, 'GET tags/list?n=2');
        const link = get.headers.get('link');
        expectThat(list.tags.length === 2 || (list.tags.length < 2 && link !== null), `n=2 returned ${list.tags.length} tags: ${describe(get, ['link'])}`);
        if (link !== null) expectThat(/<[^>]+>;\s*rel="next"/.test(link), `Link is not RFC 5988 rel="next": ${link}`);
      },
    },
    {
      spec: 'end-8b',
      title: 'last starts the list after the named tag',
      async run(context) {
        const tags = state(context).tags;
        const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=2&last=${tags[1]}`);
        expectStatus(get, 200, `GET tags/list?n=2&last=${tags[1]}`);
        const list = json<TagList>(get, 'GET tags/list with last');
        expectThat(list.tags[0] === tags[2] && list.tags[1] === tags[3], `after ${tags[1]} expected ${tags[2]}, ${tags[3]}, got ${list.tags.join(', ')}`);
      },
    },
    {
      spec: 'end-8b (main)',
      title: 'n=0 returns an empty list and no Link',
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=0`);
        expectStatus(get, 200, 'GET tags/list?n=0');
        const list = json<TagList>(get, 'GET tags/list?n=0');
        expectThat(list.tags.length === 0, `n=0 returned ${list.tags.length} tags`);
        expectThat(get.headers.get('link') === null, `n=0 must not send Link: ${describe(get, ['link'])}`);
      },
    },
    {
      spec: 'Pushing Manifests with Subject',
      title: 'a manifest PUT with a subject answers 201 and OCI-Subject, also when the subject was never pushed',
      async run(context) {
        for (const { subject, put } of state(context).referrerPuts) {
          expectStatus(put, 201, 'manifest PUT with a subject');
          expectHeader(put, 'oci-subject', `${subject.digest}`, 'manifest PUT with a subject');
        }
      },
    },
    {
      spec: 'end-12a',
      title: 'the referrers list is an image index of every referrer with artifactType and annotations',
      async run(context) {
        const { sbom, signature, subject } = state(context);
        const get = await context.client.request('GET', `/v2/${repo(context)}/referrers/${subject.digest}`);
        expectStatus(get, 200, 'GET referrers');
        expectHeader(get, 'content-type', MediaType.ociIndex, 'GET referrers');
        const index = json<{ mediaType?: string; manifests: ReferrerDescriptor[] }>(get, 'GET referrers');
        const byDigest = new Map(index.manifests.map((descriptor) => [descriptor.digest, descriptor]));
        const sbomEntry = byDigest.get(`${sbom.digest}`);
        const signatureEntry = byDigest.get(`${signature.digest}`);
        expectThat(sbomEntry !== undefined && signatureEntry !== undefined, `referrers lack a pushed referrer: ${describe(get)}`);
        expectThat(sbomEntry?.artifactType === SBOM_TYPE, `artifactType of the sbom is ${sbomEntry?.artifactType}, not ${SBOM_TYPE}`);
        expectThat(
          signatureEntry?.artifactType === SIGNATURE_CONFIG_TYPE,
          `a referrer without artifactType must list its config mediaType, got ${signatureEntry?.artifactType}`,
        );
        expectThat(sbomEntry?.annotations?.['org.conformance.kind'] === 'sbom', 'referrer annotations are not copied');
        expectThat(sbomEntry?.size === sbom.bytes.length, `sbom size is ${sbomEntry?.size}, not ${sbom.bytes.length}`);
      },
    },
    {
      spec: 'end-12b',
      title: 'artifactType filtering returns only matches and says OCI-Filters-Applied',
      async run(context) {
        const { sbom, subject } = state(context);
        const get = await context.client.request('GET', `/v2/${repo(context)}/referrers/${subject.digest}?artifactType=${encodeURIComponent(SBOM_TYPE)}`);
        expectStatus(get, 200, 'GET referrers with artifactType');
        const index = json<{ manifests: ReferrerDescriptor[] }>(get, 'GET referrers with artifactType');
        if (get.headers.get('oci-filters-applied') === null) {
          expectThat(index.manifests.length === 2, `without OCI-Filters-Applied the list must be unfiltered (2 referrers): ${describe(get)}`);
          throw new CheckSkipped('the registry does not filter by artifactType (no OCI-Filters-Applied; SHOULD)');
        }
        expectHeader(get, 'oci-filters-applied', 'artifactType', 'GET referrers with artifactType');
        expectThat(
          index.manifests.length === 1 && index.manifests[0]?.digest === `${sbom.digest}`,
          `the filtered list should hold only ${sbom.digest}: ${describe(get)}`,
        );
      },
    },
    {
      spec: 'end-12a',
      title: 'referrers of a manifest never pushed list the referrers pushed to it',
      async run(context) {
        const { orphan, missingSubject } = state(context);
        const get = await context.client.request('GET', `/v2/${repo(context)}/referrers/${missingSubject.digest}`);
        expectStatus(get, 200, 'GET referrers of a subject not in the repository');
        const index = json<{ manifests: ReferrerDescriptor[] }>(get, 'GET referrers of a subject not in the repository');
        expectThat(index.manifests.length === 1 && index.manifests[0]?.digest === `${orphan.digest}`, `expected only ${orphan.digest}: ${describe(get)}`);
      },
    },
    {
      spec: 'end-12a',
      title: 'a digest nothing refers to gives an empty index, not 404',
      standalone: true,
      async run(context) {
        const get = await context.client.request('GET', `/v2/${repo(context)}/referrers/${randomContent().digest}`);
        expectStatus(get, 200, 'GET referrers of an unreferenced digest');
        expectHeader(get, 'content-type', MediaType.ociIndex, 'GET referrers of an unreferenced digest');
        const index = json<{ manifests: unknown[] }>(get, 'GET referrers of an unreferenced digest');
        expectThat(Array.isArray(index.manifests) && index.manifests.length === 0, `expected no manifests: ${describe(get)}`);
      },
    },
  ],
  async teardown(context) {
    const discovered = context.state.get('content discovery') as DiscoveryState | undefined;
    if (!discovered) return undefined;
    const manifests = [discovered.sbom, discovered.signature, discovered.orphan, discovered.subject].map((m) => `${m.digest}`);
    return cleanUp(context, repo(context), manifests, [`${discovered.config.digest}`]);
  },
};
