/** `berth conformance`: the table, JSON and JUnit reports, and exit statuses 0, 1 and 2. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ConformanceReport } from '../../conformance/runner.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { needs } from '../helpers/peers.ts';
import { freePort } from '../../peers/processes.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../../peers/reference-registry.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');
const berthCli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

let berth: RunningBerth;
let reference: ReferenceRegistry;
let scratch: string;
/** Distribution is the registry that fails checks. */
const distribution = needs('docker-registry');

before(async () => {
  // One after the other: when one of them fails to start, `after` still stops the other.
  berth = await startBerth();
  if (!distribution.skip) reference = await startReferenceRegistry();
  scratch = await mkdtemp(join(tmpdir(), 'conformance-'));
});
after(async () => {
  await Promise.all([berth?.stop(), reference?.stop()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
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

  it('exits 1 with each failure and its reason when checks fail, honouring workflow selection', distribution, async () => {
    const result = await berthCli(['conformance', reference.url, '--discovery']);
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stdout, /^pull /m);
    assert.match(
      result.stdout,
      /✗ discovery\.referrers-none +end-12a +a digest nothing refers to gives an empty index, not 404\n +why: GET referrers of an unreferenced digest: expected 200, got GET \/v2\/conformance\/test\/referrers\/sha256:\w+ → 404/,
    );
    assert.match(result.stdout, /\n\d+ passed, 9 failed, 0 skipped\n?$/);
  });

  it('exits 2 with one clear line for an unreachable registry or a usage error', async () => {
    const closed = await freePort();
    const unreachable = await berthCli(['conformance', `http://127.0.0.1:${closed}`]);
    assert.equal(unreachable.code, 2);
    assert.equal(unreachable.stderr.trim(), `berth conformance: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`);
    const notRegistry = createServer((_, res) => res.writeHead(404).end('no registry here'));
    await new Promise<void>((resolve) => notRegistry.listen(0, '127.0.0.1', resolve));
    const website = `http://127.0.0.1:${(notRegistry.address() as AddressInfo).port}`;
    const wrong = await berthCli(['conformance', website]);
    notRegistry.close();
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stderr.trim(), `berth conformance: ${website} is not an OCI registry: GET /v2/ → 404 body: no registry here`);
    const nothing = await berthCli(['conformance', berth.url, '--only', 'no such check']);
    assert.equal(nothing.code, 2);
    assert.equal(nothing.stderr.trim(), 'berth conformance: no check matches --only "no such check" in the selected workflows');
    const missing = await berthCli(['conformance'], { OCI_ROOT_URL: '' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /a registry URL is required/);
    const bad = await berthCli(['conformance', berth.url], { OCI_TEST_PULL: 'maybe' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /OCI_TEST_PULL must be true or false/);
  });
});
