import { isDeepStrictEqual } from 'node:util';
import { MediaType } from '../../../oci/media-types.ts';
import { CheckFailure, CheckSkipped, describe, expectHeader, expectJSON, expectStatus, expectThat, type Check, type CheckContext } from '../../check.ts';
import { randomContent, type Content } from '../../content.ts';
import type { Exchange } from '../../http.ts';
import { namespace as repo } from '../../operations.ts';
import { SBOM_TYPE, state, type Referrer } from './fixtures.ts';

interface ReferrerDescriptor {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

function getReferrers(context: CheckContext, subject: Content, query = ''): Promise<Exchange> {
  return context.client.request('GET', `/v2/${repo(context)}/referrers/${subject.digest}${query}`);
}

/**
 * The referrers list is an image index (end-12a) holding exactly `expected`, each described by its
 * media type, size, artifactType (or config media type) and its own annotations.
 */
function expectReferrers(answer: Exchange, expected: Referrer[], what: string): void {
  expectStatus(answer, 200, what);
  expectHeader(answer, 'content-type', MediaType.ociIndex, what);
  const listed = expectJSON<{ manifests?: ReferrerDescriptor[] }>(answer, what).manifests;
  if (!Array.isArray(listed)) throw new CheckFailure(`${what}: no manifests array in ${describe(answer)}`);
  const wanted = expected.map((referrer) => `${referrer.content.digest}`).sort();
  const got = listed.map((descriptor) => descriptor.digest).sort();
  expectThat(isDeepStrictEqual(got, wanted), `${what}: expected exactly ${wanted.join(', ') || 'no referrers'}, got ${describe(answer)}`);
  for (const referrer of expected) {
    const descriptor = listed.find((entry) => entry.digest === `${referrer.content.digest}`);
    const shown = JSON.stringify(descriptor);
    expectThat(descriptor?.mediaType === referrer.mediaType, `${what}: ${shown} should have mediaType ${referrer.mediaType}`);
    expectThat(descriptor?.size === referrer.content.bytes.length, `${what}: ${shown} should have size ${referrer.content.bytes.length}`);
    expectThat(descriptor?.artifactType === referrer.artifactType, `${what}: ${shown} should have artifactType ${referrer.artifactType}`);
    expectThat(isDeepStrictEqual(descriptor?.annotations, referrer.annotations), `${what}: ${shown} should carry the referrer's annotations`);
  }
}

/** Referrers (end-12a, end-12b) and the OCI-Subject header of pushes that name a subject. */
export const referrerChecks: Check[] = [
  {
    id: 'discovery.subject-header',
    spec: 'Pushing Manifests with Subject',
    title: 'a manifest or index PUT with a subject answers 201 and OCI-Subject, before, after or without the subject being pushed',
    async run(context) {
      const { referrers, orphan } = state(context);
      for (const { put, subject } of [...referrers, orphan]) {
        expectStatus(put, 201, 'PUT with a subject');
        expectHeader(put, 'oci-subject', `${subject.digest}`, 'PUT with a subject');
      }
    },
  },
  {
    id: 'discovery.referrers-list',
    spec: 'end-12a',
    title: 'the referrers list is an image index of every referrer with artifactType and annotations',
    async run(context) {
      const { referrers, subject } = state(context);
      expectReferrers(await getReferrers(context, subject), referrers, 'GET referrers');
    },
  },
  {
    id: 'discovery.referrers-filter',
    spec: 'end-12b',
    title: 'artifactType filtering returns only matches (by artifactType or config type) and says OCI-Filters-Applied',
    async run(context) {
      const { referrers, subject } = state(context);
      const get = await getReferrers(context, subject, `?artifactType=${encodeURIComponent(SBOM_TYPE)}`);
      if (get.headers.get('oci-filters-applied') === null) {
        expectReferrers(get, referrers, 'GET referrers with artifactType, unfiltered (no OCI-Filters-Applied)');
        throw new CheckSkipped('the registry does not filter by artifactType (no OCI-Filters-Applied; SHOULD)');
      }
      expectHeader(get, 'oci-filters-applied', 'artifactType', 'GET referrers with artifactType');
      const matches = referrers.filter((referrer) => referrer.artifactType === SBOM_TYPE);
      expectReferrers(get, matches, 'GET referrers with artifactType');
    },
  },
  {
    id: 'discovery.referrers-missing-subject',
    spec: 'end-12a',
    title: 'referrers of a manifest never pushed list the referrers pushed to it',
    async run(context) {
      const { orphan, missingSubject } = state(context);
      expectReferrers(await getReferrers(context, missingSubject), [orphan], 'GET referrers of a subject not in the repository');
    },
  },
  {
    id: 'discovery.referrers-none',
    spec: 'end-12a',
    title: 'a digest nothing refers to gives an empty index, not 404',
    standalone: true,
    async run(context) {
      expectReferrers(await getReferrers(context, randomContent()), [], 'GET referrers of an unreferenced digest');
    },
  },
];
