/**
 * The conformance runner against Berth (every check passes) and against Distribution 2.8.2,
 * which fails exactly the checks listed below, each for a reason the spec text gives.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance, type ConformanceReport } from '../../conformance/runner.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { freePort } from '../helpers/processes.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../helpers/reference-registry.ts';
import { startTokenServer, type TokenServer } from '../helpers/token-server.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');
const berthCli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

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

const named = (report: ConformanceReport, status: string) =>
  report.results.filter((result) => result.outcome.status === status).map((result) => `${result.spec}: ${result.title}`);

let berth: RunningBerth;
let reference: ReferenceRegistry;
let scratch: string;

before(async () => {
  [berth, reference] = await Promise.all([startBerth(), startReferenceRegistry()]);
  scratch = await mkdtemp(join(tmpdir(), 'conformance-'));
});
after(async () => {
  await Promise.all([berth.stop(), reference.stop()]);
  await rm(scratch, { recursive: true, force: true });
});

describe('against Berth', () => {
  it('passes every check of the four workflows, automatic cross-mount on', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: berth.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }));
    assert.deepEqual(named(report, 'failed'), [], JSON.stringify(report.results.filter((r) => r.outcome.status !== 'passed'), null, 2));
    assert.deepEqual(named(report, 'skipped'), []);
    assert.equal(report.passed, report.results.length);
    assert.ok(report.passed >= 37);
  });
});

describe('against Distribution 2.8.2 (the control)', () => {
  it('reports exactly the failures and skips the spec predicts', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url }));
    assert.deepEqual(named(report, 'failed'), REFERENCE_FAILURES);
    assert.deepEqual(named(report, 'skipped'), REFERENCE_SKIPS);
  });

  it('fails the automatic cross-mount check when told to expect one (OCI_AUTOMATIC_CROSSMOUNT=true)', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: reference.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }, { only: 'mount without' }));
    assert.equal(report.results.length, 1);
    assert.equal(report.failed, 1);
    const outcome = report.results[0]!.outcome;
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /expected 201, got POST .*mount=sha256:\S+ → 202/);
  });
});

describe('against Distribution 2.8.2 behind token auth (auth-token.md)', () => {
  let tokens: TokenServer;
  let guarded: ReferenceRegistry;
  before(async () => {
    tokens = await startTokenServer({ alice: 'wonderland' });
    guarded = await startReferenceRegistry({ config: tokens.distributionConfig() });
  });
  after(async () => {
    await guarded.stop();
    await tokens.stop();
  });

  it('fetches Bearer tokens with the credentials and reports as without auth', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_USERNAME: 'alice', OCI_PASSWORD: 'wonderland' }));
    assert.deepEqual(named(report, 'failed'), REFERENCE_FAILURES);
    assert.deepEqual(named(report, 'skipped'), REFERENCE_SKIPS);
    assert.ok(tokens.requests.some((request) => request.user === 'alice' && request.scopes.includes('repository:conformance/test:pull,push')));
  });

  it('stops with a clear message when the token server refuses the credentials', async () => {
    await assert.rejects(
      runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_USERNAME: 'alice', OCI_PASSWORD: 'wrong' })),
      (error: Error) => error.message.startsWith(`${guarded.url} refused the credentials: GET /v2/ → 401`),
    );
  });

  it('runs the checks that need no pushed content when anonymous pushes are refused', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: guarded.url, OCI_TEST_PULL: 'true' }));
    const passed = named(report, 'passed');
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

describe('berth conformance', () => {
  it('prints the table and summary, writes JSON and JUnit, exits 0 on a conformant registry', async () => {
    const json = join(scratch, 'report.json');
    const junit = join(scratch, 'report.xml');
    const result = await berthCli(['conformance', berth.url, '--json', json, '--junit', junit]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^content discovery \(\d+\/\d+\)$/m);
    assert.match(result.stdout, /\n(\d+) passed, 0 failed, 0 skipped\n?$/);
    const saved = JSON.parse(await readFile(json, 'utf8')) as ConformanceReport;
    assert.equal(saved.failed, 0);
    const xml = await readFile(junit, 'utf8');
    assert.match(xml, /<testsuites name="OCI distribution-spec conformance" tests="\d+" failures="0" skipped="0">/);
    assert.equal(xml.match(/<testcase /g)?.length, saved.results.length);
  });

  it('exits 1 with each failure and its reason when checks fail, honouring workflow selection', async () => {
    const result = await berthCli(['conformance', reference.url, '--discovery']);
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stdout, /^pull /m);
    assert.match(result.stdout, /✗ end-12a +a digest nothing refers to gives an empty index, not 404\n +why: GET referrers of an unreferenced digest: expected 200, got GET \/v2\/conformance\/test\/referrers\/sha256:\w+ → 404/);
    assert.match(result.stdout, /\n\d+ passed, 9 failed, 0 skipped\n?$/);
  });

  it('exits 2 with one clear line for an unreachable registry or a usage error', async () => {
    const closed = await freePort();
    const unreachable = await berthCli(['conformance', `http://127.0.0.1:${closed}`]);
    assert.equal(unreachable.code, 2);
    assert.equal(unreachable.stderr.trim(), `berth conformance: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`);
    const missing = await berthCli(['conformance'], { OCI_ROOT_URL: '' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /a registry URL is required/);
    const bad = await berthCli(['conformance', berth.url], { OCI_TEST_PULL: 'maybe' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /OCI_TEST_PULL must be true or false/);
  });
});
