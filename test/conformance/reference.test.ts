/**
 * The conformance runner against Distribution 2.8.2 (the control), which fails exactly the checks
 * listed below, each for a reason the spec text gives: at least every check standing for a spec the
 * official suite fails there (conformance/README.md's table says which stands for which). And the
 * client side of token auth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance, type ConformanceReport } from '../../conformance/runner.ts';
import { needs } from '../helpers/peers.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../../peers/reference-registry.ts';
import { asksFor, startTokenServer, type TokenServer } from '../helpers/token-server.ts';
import { checkIds } from './check-ids.ts';
import { missingSuite, runSuite } from './official-suite.ts';
import { officialTable } from './official-table.ts';

/**
 * The counterparts of the 13 specs the official suite (v1.1.1, OCI_AUTOMATIC_CROSSMOUNT=1) fails on
 * Distribution 2.8.2, and the spec text Distribution contradicts.
 */
const AS_OFFICIAL = [
  // "If the manifest is not found in the repository, the response code MUST be 404 Not Found", and a
  // 4xx body "MUST have the following format" if JSON: GET manifests/sha256:totallywrong answers 500.
  'pull.error-codes',
  // "If a chunk is uploaded out of order, the registry MUST respond with a 416": a first chunk
  // starting past byte 0 gets 202.
  'push.chunk-first-out-of-order',
  // The same sentence, for the first chunk sent again to the POST's Location: 404 (its _state is stale).
  'push.chunk-retry-stale',
  // end-13: "The <location> refers to the URL obtained from any preceding POST or PATCH request": the
  // POST's URL answers 404 once a chunk went in.
  'push.chunk-resume-stale',
  // "Alternatively, if a registry supports cross-repository mounting without the from parameter" it
  // answers 201: told to expect that (OCI_AUTOMATIC_CROSSMOUNT=true), Distribution answers 202.
  'push.mount-automatic',
  // "If a query results in no matching referrers, an empty manifest list MUST be returned" / "the
  // registry MUST NOT return a 404 Not Found to a referrers API requests": the endpoint is a 404 page.
  'discovery.referrers-none',
  // "Assuming a repository is found, this request MUST return a 200 OK response code" with "an image
  // index containing a list of descriptors", filtered or not, also for a subject never pushed.
  'discovery.referrers-list',
  'discovery.referrers-filter',
  'discovery.referrers-missing-subject',
  // "If a manifest with a subject is pushed and the registry supports the referrers API, it MUST set
  // the OCI-Subject header in the response": absent on every PUT with a subject.
  'discovery.subject-header',
  // "Otherwise, the response MUST include <int> results": it ignores n.
  'discovery.tags-n',
  // "up to <int> tags *after* <tagname> will be returned": it ignores last (and n).
  'discovery.tags-last',
  // "If tag deletion is disabled, the registry MUST respond with either a 400 Bad Request or a 405
  // Method Not Allowed": its 400 says DIGEST_INVALID, a bad request, not UNSUPPORTED.
  'management.delete-tag',
];

/** What else Distribution fails, beyond the official v1.1.1 suite. */
const BEYOND_OFFICIAL = [
  // "If a chunk is uploaded out of order, the registry MUST respond with a 416": 202 when it skips ahead.
  'push.chunk-out-of-order',
  // main: "If the final chunk is uploaded out of order, the registry MUST respond with a 416": 400.
  'push.chunk-final-out-of-order',
  // "the tags MUST be in lexical order": it lists them in directory order.
  'discovery.tags-list',
  // main: "When n is zero, this endpoint MUST return an empty list".
  'discovery.tags-n-zero',
];

/** Optional features Distribution leaves out, which the runner skips with a reason. */
const REFERENCE_SKIPS = ['push.manifest-tag-params'];

const distribution = needs('docker-registry');

/** Failures in run order are compared as sets: the lists above are grouped by reason. */
function assertFailures(report: ConformanceReport, expected: string[]): void {
  assert.deepEqual(
    checkIds(report, 'failed').sort(),
    [...expected].sort(),
    JSON.stringify(
      report.results.filter((r) => r.outcome.status === 'failed'),
      null,
      2,
    ),
  );
}

describe('against Distribution 2.8.2 (the control)', distribution, () => {
  let reference: ReferenceRegistry;
  before(async () => {
    reference = await startReferenceRegistry();
  });
  after(async () => {
    await reference?.stop();
  });

  it('fails the counterpart of every spec the official suite fails there, and what the spec predicts beyond', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }));
    assertFailures(report, [...AS_OFFICIAL, ...BEYOND_OFFICIAL]);
    assert.deepEqual(checkIds(report, 'skipped'), REFERENCE_SKIPS);
  });

  it('accepts either mount answer when automatic cross-mount is not specified', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url }, { only: 'push.mount-automatic' }));
    assert.deepEqual(checkIds(report, 'passed'), ['push.mount-automatic', 'push.cleanup']);
  });

  it('agrees with the official suite run against it: its failures are those the table maps to AS_OFFICIAL', { skip: missingSuite() }, async () => {
    const official = await runSuite(reference.url);
    const table = await officialTable();
    const named = new Set(table.map((row) => row.official));
    const unmapped = [...new Set(official.specs.map((spec) => spec.name))].filter((name) => !named.has(name));
    assert.deepEqual(unmapped, [], "every official spec is in conformance/README.md's table");
    const counterparts = new Set(official.failures.flatMap((name) => table.filter((row) => row.official === name).flatMap((row) => row.ids)));
    assert.deepEqual([...counterparts].sort(), [...AS_OFFICIAL].sort(), `official failures: ${official.failures.join('; ')}`);
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
    assertFailures(
      report,
      [...AS_OFFICIAL, ...BEYOND_OFFICIAL].filter((id) => id !== 'push.mount-automatic'),
    );
    assert.deepEqual(checkIds(report, 'skipped'), REFERENCE_SKIPS);
    assert.ok(
      tokens.requests.some((request) => request.user === 'alice' && asksFor(request, 'conformance/test', ['pull', 'push'])),
      JSON.stringify(tokens.requests),
    );
  });

  it('stops with a clear message when the token server refuses the credentials', async () => {
    await assert.rejects(runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_USERNAME: 'alice', OCI_PASSWORD: 'wrong' })), (error: Error) =>
      error.message.startsWith(`${guarded.url} refused the credentials: GET /v2/ → 401`),
    );
  });

  it('runs the checks that need no pushed content when anonymous pushes are refused', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_TEST_PULL: 'true' }));
    assert.deepEqual(checkIds(report, 'passed'), [
      'pull.api-version',
      'pull.blob-head-unknown',
      'pull.blob-get-unknown',
      'pull.manifest-unknown',
      'pull.manifest-invalid-reference',
      'pull.repository-unknown',
    ]);
    // pull.error-codes needs no content and fails on its own (500); the rest stand on the refused setup.
    for (const result of report.results.filter((r) => r.outcome.status === 'failed' && r.id !== 'pull.error-codes')) {
      assert.match(result.outcome.status === 'failed' ? result.outcome.reason : '', /^setup: could not start an upload: POST .* → 401/);
    }
  });
});
