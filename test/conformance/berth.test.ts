/** The conformance runner against Berth, on local disk and in token mode: every check passes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance, type ConformanceReport } from '../../conformance/runner.ts';
import { startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { allCheckIds, checkIds } from './check-ids.ts';

/** 48 checks and a cleanup per workflow. */
const CHECKS = 52;

function assertAllPassed(report: ConformanceReport): void {
  assert.deepEqual(
    checkIds(report, 'failed'),
    [],
    JSON.stringify(
      report.results.filter((r) => r.outcome.status !== 'passed'),
      null,
      2,
    ),
  );
  assert.deepEqual(checkIds(report, 'skipped'), []);
  assert.deepEqual(
    report.results.map((result) => result.id),
    allCheckIds(),
  );
}

describe('against Berth on local disk', () => {
  let berth: RunningBerth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.stop();
  });

  it('passes every check of the four workflows, automatic cross-mount on', async () => {
    assert.equal(allCheckIds().length, CHECKS);
    assertAllPassed(await runConformance(optionsFromEnv({ OCI_ROOT_URL: berth.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' })));
  });
});

describe('against Berth in token mode, with credentials', () => {
  let berth: AuthBerth;
  before(async () => {
    berth = await startAuthBerth('token');
  });
  after(async () => {
    await berth?.stop();
  });

  // Automatic mounts are where token mode differs: Berth mounts from any repository the caller may pull.
  it('passes every check, automatic cross-mount on', async () => {
    const env = {
      OCI_ROOT_URL: berth.url,
      OCI_NAMESPACE: 'team/conformance',
      OCI_CROSSMOUNT_NAMESPACE: 'team/crossmount',
      OCI_USERNAME: 'alice',
      OCI_PASSWORD: USERS.alice,
      OCI_AUTOMATIC_CROSSMOUNT: 'true',
    };
    assertAllPassed(await runConformance(optionsFromEnv(env)));
  });
});
