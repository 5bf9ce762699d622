/**
 * `berth serve` ends with whatever started it (issue 20, item 8): no primary or worker outlives a
 * `kill -TERM` of `npm start` or a SIGKILL of the primary, storage that cannot exist is refused at
 * once, and a log whose reader is gone costs no process. And `npm start` compiles only what changed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { childPids, startProcess } from '../../peers/processes.ts';
import { basic } from '../helpers/auth-berth.ts';
import { startBerthProcess } from '../helpers/berth.ts';
import { BERTH_CLI, runBerth } from '../helpers/berth-cli.ts';

const REPOSITORY_ROOT = join(import.meta.dirname, '../..');
const linux = existsSync('/proc/self/task') || 'needs Linux /proc';

/** `pid` and every process below it. */
async function processTree(pid: number): Promise<number[]> {
  const below = await Promise.all((await childPids(pid)).map(processTree));
  return [pid, ...below.flat()];
}

/** Whether `pid` runs: a zombie has ended, only its parent has not reaped it yet. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}

/** The processes of `pids` still running after `withinMs`, which are then killed so no test leaves them behind. */
async function survivors(pids: number[], withinMs = 5000): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = (await Promise.all(left.map(async (pid) => ((await running(pid)) ? [pid] : [])))).flat();
  }
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left;
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-lifetime-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('berth serve ends with what started it', { skip: linux !== true && linux }, () => {
  it('leaves no process behind after a kill -TERM of `npm start`', { timeout: 240_000 }, async () => {
    // `npm start` builds first when the sources changed: that may take a while on a loaded machine.
    const npm = await startProcess('npm', ['start', '--', '--listen', '127.0.0.1:0', '--storage', join(root, 'npm-start'), '--workers', '2'], /listening on/, {
      cwd: REPOSITORY_ROOT,
      timeoutMs: 200_000,
    });
    const tree = await processTree(npm.child.pid!);
    assert.ok(tree.length >= 4, `npm, the primary and two workers: ${tree.join(' ')}`);
    npm.child.kill('SIGTERM');
    assert.deepEqual(await survivors(tree), [], 'processes of `npm start` still running 5 s after its kill -TERM');
  });

  it('leaves no worker behind when the primary is killed with SIGKILL', async () => {
    const server = await startBerthProcess(['--storage', join(root, 'killed'), '--workers', '2']);
    const tree = await processTree(server.process.child.pid!);
    assert.equal(tree.length, 3, `the primary and two workers: ${tree.join(' ')}`);
    server.process.child.kill('SIGKILL');
    assert.deepEqual(await survivors(tree), [], 'workers still running 5 s after their primary was killed');
  });

  it('refuses at once a storage directory that cannot be created, instead of spinning', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const args = ['--import', 'tsx', BERTH_CLI, 'serve', '--listen', '127.0.0.1:0', '--storage', '/proc/nope', '--workers', '1'];
      execFile(process.execPath, args, { timeout: 30_000 }, (error, _stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stderr }));
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^berth serve: cannot create storage directory \/proc\/nope: ENOENT[^\n]*\n$/);
  });

  it('gc and analyze also refuse such a directory at once (FsDriver.check)', async () => {
    for (const command of [['gc', '--dry-run'], ['analyze']]) {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', BERTH_CLI, ...command, '--storage', '/proc/nope'], { timeout: 30_000 }, (error, _stdout, stderr) =>
          resolve({ code: error ? (error.code as number | null) : 0, stderr }),
        );
      });
      assert.equal(result.code, 1, `${command[0]}: ${result.stderr}`);
      assert.match(result.stderr, /ENOENT/, command[0]);
    }
  });

  it('keeps every process serving when the reader of its log goes away', async () => {
    const htpasswd = join(root, 'users.htpasswd');
    assert.equal((await runBerth(['user', 'add', 'alice', '--htpasswd', htpasswd], 'wonderland\n')).code, 0);
    const config = join(root, 'htpasswd.yml');
    await writeFile(config, stringify({ auth: { mode: 'htpasswd', htpasswd } }));
    const server = await startBerthProcess(['--storage', join(root, 'log'), '--workers', '2', '--config', config]);
    try {
      const tree = await processTree(server.process.child.pid!);
      server.process.child.stdout?.destroy();
      server.process.child.stderr?.destroy();
      // Failed logins are logged by whichever worker takes them: each of them writes to the closed pipe.
      for (let i = 0; i < 6; i++) {
        const response = await fetch(`${server.url}/v2/`, { headers: { Authorization: basic('alice', `wrong-${i}`) } });
        assert.ok([401, 429].includes(response.status), `answered ${response.status}`);
      }
      await sleep(500);
      assert.deepEqual(await processTree(server.process.child.pid!), tree, 'the same primary and workers');
      assert.equal((await fetch(`${server.url}/v2/`, { headers: { Authorization: basic('alice', 'wonderland') } })).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('npm start', () => {
  it('compiles the sources only when they changed since the last build', { timeout: 240_000 }, async () => {
    const build = () => promisify(execFile)('npm', ['run', 'build'], { cwd: REPOSITORY_ROOT });
    const compiled = join(REPOSITORY_ROOT, 'dist/cli/main.js');
    await build();
    const before = (await stat(compiled)).mtimeMs;
    await build();
    assert.equal((await stat(compiled)).mtimeMs, before, 'dist/cli/main.js was written again');
  });
});
