/**
 * `berth gc`, `analyze` and `retention` find the store and its settings as `berth serve` does
 * (flags over the environment over the config file over the defaults), whether or not a config
 * file is named: without one they start without loading its schema (issue 29, start-up).
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnalysisReport } from '../../analysis/analysis.ts';
import type { RetentionPlan } from '../../analysis/retention.ts';
import type { GcReport } from '../../storage/gc/gc.ts';
import { paths } from '../../storage/paths.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { randomBlob } from '../helpers/content.ts';

describe('commands over the store without and with a config file', () => {
  let root: string;
  const orphan = randomBlob(2345);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-store-config-'));
    const data = join(root, paths.blobData(orphan.digest));
    await mkdir(dirname(data), { recursive: true });
    await writeFile(data, orphan.bytes);
    // Ten minutes old: within gc's default grace period (1h), past one of 5m.
    const written = new Date(Date.now() - 10 * 60_000);
    await utimes(data, written, written);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const json = async <T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> => {
    const { code, stdout, stderr } = await runBerth([...args, '--json'], '', { BERTH_CONFIG: undefined, BERTH_STORAGE: undefined, ...env });
    assert.equal(code, 0, `berth ${args.join(' ')}: ${stderr}`);
    return JSON.parse(stdout) as T;
  };

  it('with BERTH_STORAGE and no config file: gc and analyze keep gc’s defaults, retention plans nothing', async () => {
    const gc = await json<GcReport>(['gc', '--dry-run'], { BERTH_STORAGE: root });
    assert.deepEqual(
      gc.youngBlobs.map((blob) => blob.digest),
      [`${orphan.digest}`],
    );
    assert.equal(gc.blobBytes, 0);
    const report = await json<AnalysisReport>(['analyze'], { BERTH_STORAGE: root });
    assert.equal(report.gc.afterGracePeriod.bytes, 2345);
    assert.equal(report.mirrors, undefined);
    const plan = await json<RetentionPlan>(['retention', 'plan'], { BERTH_STORAGE: root });
    assert.deepEqual(plan.repositories, []);
  });

  it('with BERTH_CONFIG naming a file: its storage and gc: section apply, and the flag wins over both', async () => {
    const config = join(root, 'berth.yml');
    await writeFile(config, `storage: ${root}\ngc:\n  gracePeriod: 5m\n`);
    const gc = await json<GcReport>(['gc', '--dry-run'], { BERTH_CONFIG: config });
    assert.deepEqual(
      gc.blobs.map((blob) => blob.digest),
      [`${orphan.digest}`],
    );
    const flagged = await json<GcReport>(['gc', '--dry-run', '--grace-period', '1h'], { BERTH_CONFIG: config });
    assert.equal(flagged.blobs.length, 0);
    assert.equal(flagged.youngBlobs.length, 1);
  });

  it('refuses a config file the schema refuses, and a bad BERTH_S3_REDIS, without one too', async () => {
    const config = join(root, 'bad.yml');
    await writeFile(config, `storage: ${root}\ngc:\n  gracePeriod: soon\n`);
    const refused = await runBerth(['gc', '--dry-run', '--config', config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /gc\.gracePeriod must be a duration/);
    const redis = await runBerth(['gc', '--dry-run', '--storage', root], '', { BERTH_CONFIG: undefined, BERTH_S3_REDIS: 'not a url' });
    assert.equal(redis.code, 1);
    assert.match(redis.stderr, /BERTH_S3_REDIS: invalid URL "not a url"/);
  });
});
