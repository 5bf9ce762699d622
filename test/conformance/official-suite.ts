/** The official OCI distribution-spec conformance suite (v1.1.1) at `../shared/oci-conformance`, run from tests. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SUITE = process.env.BERTH_OCI_CONFORMANCE ?? join(import.meta.dirname, '../../../shared/oci-conformance');
const RUN = join(SUITE, 'run');
/** Every spec's JUnit name starts with the suite's description. */
const PREFIX = 'OCI Distribution Conformance Tests ';

/** Outside CI a user's clone may lack the suite: then the tests say so and skip; in CI that is a failure. */
export function missingSuite(): string | false {
  if (existsSync(RUN)) return false;
  if (process.env.CI === 'true') throw new Error(`the official conformance suite is missing at ${SUITE}`);
  return `the official conformance suite is not at ${SUITE} (set BERTH_OCI_CONFORMANCE to its folder)`;
}

export interface SuiteSpec {
  /** The JUnit name without the suite's description, as conformance/README.md's table names it. */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
}

export interface SuiteResult {
  passed: number;
  failed: number;
  skipped: number;
  /** Every spec of the run, in the suite's order. */
  specs: SuiteSpec[];
  /** The names of the failed specs. */
  failures: string[];
  log: string;
}

const unescape = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos|#39);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" })[entity]!);

/** Runs the suite against `url` with automatic cross-mount on; its summary line gives the counts, junit.xml the specs. */
export async function runSuite(url: string, env: NodeJS.ProcessEnv = {}): Promise<SuiteResult> {
  const reports = await mkdtemp(join(tmpdir(), 'oci-conformance-'));
  try {
    const output = await new Promise<string>((resolve) => {
      execFile(RUN, [url, reports], { env: { ...process.env, OCI_AUTOMATIC_CROSSMOUNT: '1', ...env }, maxBuffer: 1 << 26 }, (_error, stdout, stderr) =>
        resolve(`${stdout}${stderr}`),
      );
    });
    const counts = output.match(/^(\d+) passed, (\d+) failed, (\d+) skipped$/m);
    assert.ok(counts, `the suite printed no counts:\n${output.slice(-4000)}`);
    const junit = await readFile(join(reports, 'junit.xml'), 'utf8').catch(() => '');
    const specs = [...junit.matchAll(/<testcase name="([^"]*)"[^>]*status="(\w+)"/g)]
      .filter((match) => match[1]!.startsWith(PREFIX))
      .map((match) => ({ name: unescape(match[1]!.slice(PREFIX.length)), status: match[2] as SuiteSpec['status'] }));
    const failures = specs.filter((spec) => spec.status === 'failed').map((spec) => spec.name);
    return { passed: Number(counts[1]), failed: Number(counts[2]), skipped: Number(counts[3]), specs, failures, log: output };
  } finally {
    await rm(reports, { recursive: true, force: true });
  }
}
