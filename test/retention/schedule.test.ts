/**
 * `retention.schedule` in `berth serve` (issue 22 "berth retention apply … Also a schedule", and
 * "Tests": two replicas on one bucket with schedules, only one runs at a time; kill the holder and
 * the other takes over after the lease runs out; no image a policy keeps is ever lost).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RetentionPlan } from '../../analysis/retention.ts';
import type { RetentionRun } from '../../registry/retention-schedule.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { Lease } from '../../storage/lease.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { paths } from '../../storage/paths.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

describe('the retention lease (storage/lease.ts)', () => {
  it('one holder at a time; renewals keep it; once it expires another takes it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-lease-'));
    try {
      const driver = new FsDriver(root);
      // Margins of 700 ms or more either side of each expiry, so that a loaded machine cannot blur them.
      const lease = new Lease(driver, 'test', 2000, 20);
      assert.equal(await lease.acquire('a'), true);
      assert.equal(await lease.acquire('b'), false, 'a holds it');
      await sleep(1200);
      assert.equal(await lease.acquire('a'), true, 'a renews');
      await sleep(1200);
      assert.equal(await lease.acquire('b'), false, 'the renewal extended it');
      await sleep(1500);
      assert.equal(await lease.acquire('b'), true, 'a stopped renewing: b takes it');
      assert.equal((await lease.read())?.holder, 'b');
      await lease.release('a');
      assert.equal((await lease.read())?.holder, 'b', 'only the holder releases');
      await lease.release('b');
      assert.equal(await lease.read(), undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('two replicas on one bucket with retention.schedule', () => {
  let s3: S3Server;
  let scratch: string;
  let replicas: BerthProcess[] = [];
  let driver: S3Driver;
  let api: RegistryAPI;

  const pushImage = async (tag: string): Promise<void> => {
    const layer = randomBlob(3000);
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
    for (const blob of [config, layer]) await api.pushBlob('ci/app', blob);
    assert.equal((await api.pushManifest('ci/app', tag, imageManifest(config, [layer]))).status, 201);
  };
  const runs = async (): Promise<RetentionRun[]> => {
    const names = await driver.list(paths.retentionRuns);
    const read = await Promise.all(
      names.map(async (name) => JSON.parse((await driver.getContent(`${paths.retentionRuns}/${name}`)).toString()) as RetentionRun),
    );
    return read.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  };
  const tags = async (): Promise<string[]> => ((await (await api.request('GET', '/v2/ci/app/tags/list')).json()) as { tags: string[] }).tags;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) if (await check()) return;
    assert.fail(`timed out waiting for ${what}`);
  };

  before(async () => {
    s3 = await startS3Server('retention');
    scratch = await mkdtemp(join(tmpdir(), 'berth-schedule-'));
    const config = join(scratch, 'berth.yml');
    await writeFile(
      config,
      [
        `storage:\n  url: s3://${s3.bucket}/registry\n  localCache:\n    size: 0`,
        'gc:\n  gracePeriod: 0s\n  settle: 0s',
        'retention:\n  schedule: 1s\n  lease: 2s',
        '  policies:\n    - repositories: ["ci/**"]\n      keepTags:\n        - patterns: ["^keep"]',
      ].join('\n'),
    );
    for (let i = 0; i < 2; i++) replicas.push(await startBerthProcess(['--config', config, '--workers', '1'], s3.env));
    api = new RegistryAPI(replicas[0]!.url);
    driver = new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env));
  });
  after(async () => {
    for (const replica of replicas) await replica.stop();
    await driver?.close?.();
    await s3?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('one replica runs at a time; when it is killed the other takes over after the lease; kept images never go', async () => {
    await pushImage('keep-1');
    await pushImage('drop-1');
    await until('a run deleting drop-1', async () => !(await tags()).includes('drop-1'));
    await until('two runs', async () => (await runs()).length >= 2);
    const before = await runs();
    const holder = before[0]!.holder;
    assert.ok(
      before.every((run) => run.holder === holder),
      'while it lives, the lease holder runs every time',
    );
    const plan = JSON.parse((await driver.getContent(paths.retentionLastPlan)).toString()) as RetentionPlan;
    assert.equal(typeof plan.bytesFreed, 'number', 'the last plan is kept for the report');

    const pid = Number(holder.split(':')[1]);
    const victim = replicas.find((replica) => replica.process.child.pid === pid);
    assert.ok(victim, `the holder ${holder} is one of the replicas`);
    await victim.process.stop('SIGKILL');
    replicas = replicas.filter((replica) => replica !== victim);
    const killedAt = Date.now();
    api = new RegistryAPI(replicas[0]!.url);
    await pushImage('drop-2');
    await until('the other replica’s run', async () => (await runs()).some((run) => run.holder !== holder));
    const all = await runs();
    const takeover = all.find((run) => run.holder !== holder)!;
    // The holder renewed every 250 ms (a quarter of the 1 s schedule): its 2 s lease ran out 1.75 s or more after the kill.
    assert.ok(
      Date.parse(takeover.startedAt) >= killedAt + 1500,
      `the survivor ran only once the lease ran out (${takeover.startedAt}, killed ${new Date(killedAt).toISOString()})`,
    );
    await until('drop-2 gone', async () => !(await tags()).includes('drop-2'));
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i]!.startedAt >= all[i - 1]!.finishedAt, `runs never overlap: ${JSON.stringify(all.slice(i - 1, i + 1))}`);
    }
    assert.deepEqual(await tags(), ['keep-1']);
    assert.ok((await pullCompletely(replicas[0]!.url, 'ci/app', 'keep-1')) > 0, 'the kept image still pulls');

    // The last plan shows in the API and the HTML report (issue 22 "The HTML report and the API").
    const analysis = (await (await api.request('GET', '/api/v1/analysis')).json()) as { retention?: RetentionPlan };
    assert.equal(typeof analysis.retention?.bytesFreed, 'number', 'GET /api/v1/analysis has the last plan');
    const html = join(scratch, 'report.html');
    const analyzed = await runBerth(['analyze', '--storage', `s3://${s3.bucket}/registry`, '--html', html], '', s3.env);
    assert.equal(analyzed.code, 0, analyzed.stderr);
    assert.match(await readFile(html, 'utf8'), /Retention: the last plan.*would free <strong>/s);
    const text = await runBerth(['analyze', '--storage', `s3://${s3.bucket}/registry`], '', s3.env);
    assert.match(text.stdout, /\n {2}retention \(last plan, \S+\) would free /);
  });
});
