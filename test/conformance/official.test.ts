/**
 * The official OCI distribution-spec conformance suite (v1.1.1, `../shared/oci-conformance`) against
 * `berth serve` on local disk, on S3 (s3rver) and in token mode with credentials, automatic
 * cross-mount on. It is the judge of conformance: any failure fails this test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { USERS, writeUsers } from '../helpers/auth-berth.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { missingSuite, runSuite, type SuiteResult } from './official-suite.ts';

/** Specs that exclude each other's settings (delete-before-blobs, empty layer, ...): skipped on every registry. */
const EXPECTED = { passed: 75, failed: 0, skipped: 4 };

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
