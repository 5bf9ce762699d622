/** The conformance runner against Berth on local disk: every check passes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance } from '../../conformance/runner.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { checkNames } from './check-names.ts';

let berth: RunningBerth;

before(async () => {
  berth = await startBerth();
});
after(async () => {
  await berth.stop();
});

describe('against Berth', () => {
  it('passes every check of the four workflows, automatic cross-mount on', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: berth.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }));
    assert.deepEqual(checkNames(report, 'failed'), [], JSON.stringify(report.results.filter((r) => r.outcome.status !== 'passed'), null, 2));
    assert.deepEqual(checkNames(report, 'skipped'), []);
    assert.equal(report.passed, report.results.length);
    assert.equal(report.results.length, 40);
  });
});
