/**
 * The official OCI distribution-spec conformance suite (v1.1.1, `../shared/oci-conformance`) against
 * `berth serve` on local disk, on S3 (s3rver) and in token mode with credentials, automatic
 * cross-mount on. It is the judge of conformance: any failure fails this test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { USERS, writeUsers } from '../helpers/auth-berth.ts';
import { startS3Server, type S3Server } from '../helpers/s3-server.ts';

const SUITE = process.env.BERTH_OCI_CONFORMANCE ?? join(import.meta.dirname, '../../../shared/oci-conformance');
const RUN = join(SUITE, 'run');
/** Specs that exclude each other's settings (delete-before-blobs, empty layer, ...): skipped on every registry. */
const EXPECTED = { passed: 75, failed: 0, skipped: 4 };

/** Outside CI a user's clone may lack the suite: then the tests say so and skip; in CI that is a failure. */
function missingSuite(): string | false {
  if (existsSync(RUN)) return false;
  if (process.env.CI === 'true') throw new Error(`the official conformance suite is missing at ${SUITE}`);
  return `the official conformance suite is not at ${SUITE} (set BERTH_OCI_CONFORMANCE to its folder)`;
}

interface SuiteResult {
  passed: number;
  failed: number;
  skipped: number;
  /** The names of the failed specs, from junit.xml. */
  failures: string[];
  log: string;
}

/** Runs the suite against `url`; its own summary line gives the counts, junit.xml the failures. */
async function runSuite(url: string, env: NodeJS.ProcessEnv = {}): Promise<SuiteResult> {
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
    const failures = [...junit.matchAll(/<testcase name="([^"]*)"[^>]*>\s*<failure/g)].map((match) => match[1]!);
    return { passed: Number(counts[1]), failed: Number(counts[2]), skipped: Number(counts[3]), failures, log: output };
  } finally {
    await rm(reports, { recursive: true, force: true });
  }
}

function assertConformant(result: SuiteResult): void {
  const { passed, failed, skipped } = result;
  assert.deepEqual({ passed, failed, skipped }, EXPECTED, `failed specs: ${result.failures.join('; ')}\n${result.log.slice(-6000)}`);
}

describe('the official OCI conformance suite', { skip: missingSuite(), timeout: 300_000 }, () => {
  let scratch: string;
  let s3: S3Server | undefined;
  const servers: BerthProcess[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-official-'));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await s3?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const serve = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const server = await startBerthProcess([...args, '--workers', '1'], env);
    servers.push(server);
    return server;
  };

  it('passes on local disk', async () => {
    const berth = await serve(['--storage', join(scratch, 'disk')]);
    assertConformant(await runSuite(berth.url));
  });

  it('passes on S3', async () => {
    s3 = await startS3Server();
    const berth = await serve(['--storage', `s3://${s3.bucket}/official`], s3.env);
    assertConformant(await runSuite(berth.url));
  });

  it('passes in token mode with credentials', async () => {
    const htpasswd = await writeUsers(scratch);
    const config = join(scratch, 'token.yml');
    await writeFile(
      config,
      [
        `storage:\n  url: ${join(scratch, 'token')}`,
        'auth:\n  mode: token',
        `  htpasswd: ${htpasswd}`,
        `  token:\n    key: ${join(scratch, 'token-key.pem')}`,
        '  access:\n    - repository: "myorg/**"\n      users: [alice]\n      actions: [pull, push, delete]',
        '',
      ].join('\n'),
    );
    const berth = await serve(['--config', config]);
    assertConformant(await runSuite(berth.url, { OCI_USERNAME: 'alice', OCI_PASSWORD: USERS.alice }));
  });
});
