/** `berth serve` purges at start-up, in the background, the temp files a killed process left. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { paths } from '../../storage/paths.ts';
import { onlyOnFs } from '../helpers/backend.ts';
import { startBerthProcess } from '../helpers/berth.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-startup-purge-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** A temp file of an atomic write, where and as FsDriver makes them, last written at `modified`. */
async function plantTemp(modified: Date): Promise<string> {
  await mkdir(join(root, paths.staging), { recursive: true });
  const file = join(root, paths.staging, `write.tmp-${randomUUID()}`);
  await writeFile(file, 'partial');
  await utimes(file, modified, modified);
  return file;
}

it(
  'removes temp files idle past the grace period once serving, and keeps fresh ones',
  onlyOnFs("temp files are what the fs driver's killed writes leave; on S3 start-up aborts abandoned multipart uploads, untested here"),
  async () => {
    const old = await plantTemp(new Date(Date.now() - 2 * 60 * 60_000));
    const fresh = await plantTemp(new Date());
    const berth = await startBerthProcess(['--storage', root, '--workers', '1']);
    try {
      for (let waited = 0; existsSync(old) && waited < 20_000; waited += 100) await sleep(100);
      assert.equal(existsSync(old), false, 'the stale temp file is gone soon after start-up');
      assert.equal(existsSync(fresh), true, 'a fresh temp file stays');
      for (let waited = 0; !berth.process.output().includes('removed 1 leftovers') && waited < 5_000; waited += 100) await sleep(100);
      assert.match(berth.process.output(), /removed 1 leftovers of interrupted writes \(7 bytes\)/);
    } finally {
      await berth.stop();
    }
  },
);

it(
  'takes the grace period from the config file',
  onlyOnFs("temp files are what the fs driver's killed writes leave; on S3 start-up aborts abandoned multipart uploads, untested here"),
  async () => {
    // 30 minutes idle: past a 15-minute grace period, within gc's default hour.
    const idle = await plantTemp(new Date(Date.now() - 30 * 60_000));
    const config = join(root, 'berth.yml');
    await writeFile(config, `storage: ${root}\ngc:\n  gracePeriod: 15m\n`);
    const berth = await startBerthProcess(['--config', config, '--workers', '1']);
    try {
      for (let waited = 0; existsSync(idle) && waited < 20_000; waited += 100) await sleep(100);
      assert.equal(existsSync(idle), false, 'a temp file idle past the configured grace period is gone');
    } finally {
      await berth.stop();
    }
  },
);
