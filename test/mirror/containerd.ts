import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../peers/oci-image.ts';
import { startProcess } from '../../peers/processes.ts';

/** A containerd of the test's own (its root, state and socket in a temp directory), for `ctr` to talk to. */
export interface Containerd {
  /** Runs `ctr` against this containerd; resolves its output, rejects with it on failure. */
  ctr(args: string[]): Promise<string>;
  /** Writes `hosts.toml` for `registry` under the hosts directory `ctr --hosts-dir` reads: `mirror` first, as containerd's docs show. */
  mirrorHosts(registry: string, mirror: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), 'containerd-'));
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      // Only the content store is needed: no CRI, no snapshots to unpack into.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '',
    ].join('\n'),
  );
  const daemon = await startProcess('containerd', ['--config', config], /containerd successfully booted/);
  return {
    async ctr(args) {
      const { stdout, stderr } = await run('ctr', ['--address', socket, '--namespace', 'berth-test', ...args], { maxBuffer: 1 << 24 });
      return stdout + stderr;
    },
    async mirrorHosts(registry, mirror) {
      const hosts = join(dir, 'hosts');
      await mkdir(join(hosts, registry), { recursive: true });
      await writeFile(
        join(hosts, registry, 'hosts.toml'),
        [`server = "https://${registry}"`, '', `[host."http://${mirror}"]`, '  capabilities = ["pull", "resolve"]', ''].join('\n'),
      );
      return hosts;
    },
    async stop() {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
