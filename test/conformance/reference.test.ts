/**
 * The conformance runner against Distribution 2.8.2 (the control), which fails exactly the checks
 * listed below, each for a reason the spec text gives; and the client side of token auth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance } from '../../conformance/runner.ts';
import { needs } from '../helpers/peers.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../helpers/reference-registry.ts';
import { asksFor, startTokenServer, type TokenServer } from '../helpers/token-server.ts';
import { checkNames } from './check-names.ts';

/** What Distribution 2.8.2 fails, and the spec text it contradicts. */
const REFERENCE_FAILURES = [
  // "If a chunk is uploaded out of order, the registry MUST respond with a 416": it answers 202.
  'end-5, end-13: a chunk out of order (skipping ahead or repeated) answers 416, and GET on the upload reports where it stands (204 with Range)',
  // main: "If the final chunk is uploaded out of order, the registry MUST respond with a 416": it answers 400.
  'end-6 (main): an out-of-order final chunk on the closing PUT answers 416',
  // "the tags MUST be in lexical … order": it lists them in directory order.
  'end-8a: the tag list holds every tag, in lexical order',
  // "Otherwise, the response MUST include <int> results": it ignores n.
  'end-8b: n limits the list to n tags, with Link rel="next" when more follow',
  // "up to <int> tags *after* <tagname> will be returned": it ignores last.
  'end-8b: last starts the list after the named tag',
  // main: "When n is zero, this endpoint MUST return an empty list".
  'end-8b (main): n=0 returns an empty list and no Link',
  // "a registry implementation that supports the referrers API MUST respond with … OCI-Subject": absent.
  'Pushing Manifests with Subject: a manifest PUT with a subject answers 201 and OCI-Subject, also when the subject was never pushed',
  // The referrers endpoint does not exist (404 page not found).
  'end-12a: the referrers list is an image index of every referrer with artifactType and annotations',
  'end-12b: artifactType filtering returns only matches and says OCI-Filters-Applied',
  'end-12a: referrers of a manifest never pushed list the referrers pushed to it',
  'end-12a: a digest nothing refers to gives an empty index, not 404',
];

/** Optional features Distribution leaves out, which the runner skips with a reason. */
const REFERENCE_SKIPS = [
  'end-7b (main): a manifest PUT by digest with ?tag= sets each tag and lists them in OCI-Tag',
  'end-9: DELETE on a tag answers 202, and the tag is gone while the manifest stays',
];

let reference: ReferenceRegistry;
const distribution = needs('docker-registry');

before(async () => {
  if (distribution.skip) return;
  reference = await startReferenceRegistry();
});
after(async () => {
  await reference?.stop();
});

describe('against Distribution 2.8.2 (the control)', distribution, () => {
  it('reports exactly the failures and skips the spec predicts', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url }));
    assert.deepEqual(checkNames(report, 'failed'), REFERENCE_FAILURES);
    assert.deepEqual(checkNames(report, 'skipped'), REFERENCE_SKIPS);
  });

  it('fails the automatic cross-mount check when told to expect one (OCI_AUTOMATIC_CROSSMOUNT=true)', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }, { only: 'mount without' }));
    assert.equal(report.results.length, 1);
    assert.equal(report.failed, 1);
    const outcome = report.results[0]!.outcome;
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /expected 201, got POST .*mount=sha256:\S+ → 202/);
  });
});

describe('against Distribution 2.8.2 behind token auth (auth-token.md)', needs('docker-registry', 'openssl'), () => {
  let tokens: TokenServer;
  let guarded: ReferenceRegistry;
  before(async () => {
    tokens = await startTokenServer({ alice: 'wonderland' });
    guarded = await startReferenceRegistry({ config: tokens.distributionConfig() });
  });
  after(async () => {
    await guarded?.stop();
    await tokens?.stop();
  });

  it('fetches Bearer tokens with the credentials and reports as without auth', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_USERNAME: 'alice', OCI_PASSWORD: 'wonderland' }));
    assert.deepEqual(checkNames(report, 'failed'), REFERENCE_FAILURES);
    assert.deepEqual(checkNames(report, 'skipped'), REFERENCE_SKIPS);
    assert.ok(
      tokens.requests.some((request) => request.user === 'alice' && asksFor(request, 'conformance/test', ['pull', 'push'])),
      JSON.stringify(tokens.requests),
    );
  });

  it('stops with a clear message when the token server refuses the credentials', async () => {
    await assert.rejects(
      runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_USERNAME: 'alice', OCI_PASSWORD: 'wrong' })),
      (error: Error) => error.message.startsWith(`${guarded.url} refused the credentials: GET /v2/ → 401`),
    );
  });

  it('runs the checks that need no pushed content when anonymous pushes are refused', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_TEST_PULL: 'true' }));
    const passed = checkNames(report, 'passed');
    assert.deepEqual(passed, [
      'end-1: GET /v2/ answers 200',
      'end-2: HEAD on an unknown blob answers 404',
      'end-2: GET on an unknown blob answers 404 (BLOB_UNKNOWN if the body is JSON)',
      'end-3: GET and HEAD on an unknown manifest answer 404',
      'Pulling manifests: a repository that does not exist answers 404',
    ]);
    for (const result of report.results.filter((r) => r.outcome.status === 'failed')) {
      assert.match(result.outcome.status === 'failed' ? result.outcome.reason : '', /^setup: could not start an upload: POST .* → 401/);
    }
  });
});
