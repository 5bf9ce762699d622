/** `berth serve` as a user runs it (design.md §5): flags, errors, shutdown, several processes. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadServeConfig } from '../../registry/config/serve-config.ts';
import { startBerthProcess } from '../helpers/berth.ts';
import { randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { childPids, startProcess } from '../../peers/processes.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');
const berth = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args]).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

/** A process's command line, flag by flag. */
const workerFlags = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-serve-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('berth serve', () => {
  it('announces the address with the storage, auth mode and processes, serves, and exits 0 on SIGTERM', async () => {
    const server = await startBerthProcess(['--storage', root, '--workers', '1']);
    const line = `listening on ${server.url} (storage ${root}, auth none, 1 process)`;
    assert.ok(server.process.output().split('\n').includes(line), `${line} in:\n${server.process.output()}`);
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
    assert.equal(await server.process.stop('SIGTERM'), 0);
  });

  it("runs several workers on one port, each with V8's limits set for streaming uploads", async () => {
    const server = await startBerthProcess(['--storage', root, '--workers', '2']);
    try {
      assert.match(server.process.output(), /^listening on \S+ \(storage \S+, auth none, 2 workers\)$/m);
      const workers = await childPids(server.process.child.pid!);
      assert.equal(workers.length, 2);
      for (const worker of workers) {
        const flags = await workerFlags(worker);
        for (const flag of ['--initial-old-space-size=64', '--max-semi-space-size=1']) assert.ok(flags.includes(flag), `worker ${worker}: ${flag}`);
      }
      const blob = randomBlob();
      await new RegistryAPI(server.url).pushBlob('workers/app', blob);
      for (let i = 0; i < 10; i++) assert.equal((await fetch(`${server.url}/v2/workers/app/blobs/${blob.digest}`)).status, 200);
    } finally {
      assert.equal(await server.stop().then(() => server.process.child.exitCode), 0);
    }
  });

  for (const given of ['--initial-old-space-size=128', '--initial_old_space_size=128', '--max-semi-space-size=4']) {
    it(`leaves a V8 limit to an operator who gave Node one (${given})`, async () => {
      const args = [given, '--import', 'tsx', CLI, 'serve', '--listen', '127.0.0.1:0', '--storage', root, '--workers', '2'];
      const primary = await startProcess(process.execPath, args, /listening on/);
      try {
        const workers = await childPids(primary.child.pid!);
        assert.equal(workers.length, 2);
        for (const worker of workers) {
          const name = given.replaceAll('_', '-').split('=')[0]!;
          const limits = (await workerFlags(worker)).filter((flag) => flag.replaceAll('_', '-').startsWith(name));
          assert.deepEqual(limits, [given], `worker ${worker}`);
        }
      } finally {
        await primary.stop();
      }
    });
  }

  it('takes its settings from a YAML config file and the environment', async () => {
    const config = join(root, 'berth.yml');
    await writeFile(config, `listen: 127.0.0.2:0\nstorage: ${join(root, 'from-config')}\nworkers: 1\n`);
    const child = await startProcess(process.execPath, ['--import', 'tsx', CLI, 'serve'], /listening on/, {
      env: { ...process.env, BERTH_CONFIG: config },
    });
    try {
      assert.match(
        child.output(),
        new RegExp(`^listening on http://127\\.0\\.0\\.2:\\d+ \\(storage ${join(root, 'from-config')}, auth none, 1 process\\)$`, 'm'),
      );
    } finally {
      await child.stop();
    }
  });

  it('finishes an in-flight upload when told to stop', async () => {
    const server = await startBerthProcess(['--storage', root, '--workers', '1']);
    const blob = randomBlob(8 * 1024 * 1024);
    let offset = 0;
    // fetch reads the first chunk before it connects; by the third the request is in flight.
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (offset >= blob.bytes.length) return controller.close();
        controller.enqueue(blob.bytes.subarray(offset, offset + (1 << 20)));
        if (offset === 2 << 20) void server.process.stop('SIGTERM');
        offset += 1 << 20;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    const push = await fetch(`${server.url}/v2/graceful/app/blobs/uploads/?digest=${blob.digest}`, {
      method: 'POST',
      body: slow,
      duplex: 'half',
    } as RequestInit);
    assert.equal(push.status, 201);
    assert.equal(await server.process.stop(), 0);
    const again = await startBerthProcess(['--storage', root, '--workers', '1']);
    try {
      const pulled = await fetch(`${again.url}/v2/graceful/app/blobs/${blob.digest}`);
      assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), blob.bytes);
    } finally {
      await again.stop();
    }
  });

  it('fails with one clear line and exit 1 on an unknown flag, a bad address or an unreadable config', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--nonsense'], /unknown option '--nonsense'/],
      [['serve', '--listen', 'nowhere'], /invalid listen address "nowhere"/],
      [['serve', '--config', join(root, 'missing.yml')], /cannot read config file/],
      [['serve', '--workers', 'many'], /invalid worker count/],
    ];
    for (const [args, message] of cases) {
      const result = await berth(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message);
    }
  });
});

describe('an upload continued by another process on the same root', () => {
  it('completes and verifies after the first server is gone', async () => {
    const blob = randomBlob(3 * 1024 * 1024);
    const first = await startBerthProcess(['--storage', root, '--workers', '1']);
    const started = await fetch(`${first.url}/v2/handoff/app/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location')!;
    const half = 1024 * 1024;
    const patch = await new RegistryAPI(first.url).request('PATCH', location, {
      body: blob.bytes.subarray(0, half),
      headers: { 'Content-Range': `0-${half - 1}` },
    });
    assert.equal(patch.status, 202);
    await first.stop();

    const second = await startBerthProcess(['--storage', root, '--workers', '1']);
    try {
      const status = await fetch(`${second.url}${location}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${half - 1}`);
      const rest = await new RegistryAPI(second.url).request('PATCH', location, {
        body: blob.bytes.subarray(half),
        headers: { 'Content-Range': `${half}-${blob.bytes.length - 1}` },
      });
      assert.equal(rest.status, 202);
      const close = await fetch(`${second.url}${rest.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT' });
      assert.equal(close.status, 201);
      const pulled = await fetch(`${second.url}/v2/handoff/app/blobs/${blob.digest}`);
      assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), blob.bytes);
    } finally {
      await second.stop();
    }
  });
});

describe('storage.localCache in the config file', () => {
  const configWith = async (storage: string, localCache: string) => {
    const path = join(root, 'cache.yml');
    await writeFile(path, `storage:\n  url: ${storage}\n${localCache}`);
    return loadServeConfig({ config: path }, {});
  };

  it('keeps local copies for S3 storage by default, where and as much as it says, and none when its size is 0', async () => {
    assert.deepEqual((await configWith('s3://bucket/prefix', '')).localCache, {});
    const sized = await configWith('s3://bucket', '  localCache:\n    path: /var/cache/berth\n    size: 512MiB\n');
    assert.deepEqual(sized.localCache, { directory: '/var/cache/berth', maxBytes: 512 * 1024 * 1024 });
    assert.equal((await configWith('s3://bucket', '  localCache:\n    size: 2 GiB\n')).localCache?.maxBytes, 2 * 1024 ** 3);
    assert.equal((await configWith('s3://bucket', '  localCache:\n    size: 0\n')).localCache, undefined);
    assert.equal((await configWith(join(root, 'data'), '')).localCache, undefined, 'blobs on local disk need no copies');
  });

  it('refuses a size it cannot read', async () => {
    for (const size of ['lots', '2GB', '-1', '[1]']) {
      await assert.rejects(configWith('s3://bucket', `  localCache:\n    size: ${size}\n`), (error: Error) => {
        assert.ok(error instanceof ConfigError, `${size}: ${error.message}`);
        assert.match(error.message, /storage\.localCache\.size must be bytes/);
        return true;
      });
    }
  });
});

describe('storage.directWrites in the config file', () => {
  const configWith = async (storage: string) => {
    const path = join(root, 'direct.yml');
    await writeFile(path, `storage:\n  path: ${join(root, 'data')}\n${storage}`);
    return loadServeConfig({ config: path }, {});
  };

  it('writes uploads past the page cache unless told not to', async () => {
    assert.equal((await configWith('')).directWrites, true);
    assert.equal((await configWith('  directWrites: false\n')).directWrites, false);
  });

  it('refuses anything but true or false', async () => {
    await assert.rejects(configWith('  directWrites: sometimes\n'), (error: Error) => {
      assert.ok(error instanceof ConfigError, error.message);
      assert.match(error.message, /storage\.directWrites must be true or false/);
      return true;
    });
  });
});
