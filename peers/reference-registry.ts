import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreePort, startProcess } from './processes.ts';

/** Debian's `docker-registry` (Distribution 2.8.2) running on loopback. */
export interface ReferenceRegistry {
  url: string;
  /** host:port, as skopeo and image references want it. */
  host: string;
  /** The filesystem root directory it serves. */
  root: string;
  stop(): Promise<void>;
}

/**
 * Starts the reference registry on a free port, serving `root` (a new temp dir by default);
 * `config` adds top-level YAML lines (an `auth:` section, say).
 */
export async function startReferenceRegistry(options: { root?: string; config?: string[] } = {}): Promise<ReferenceRegistry> {
  const ownsRoot = !options.root;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'distribution-')));
  const configDir = await mkdtemp(join(tmpdir(), 'distribution-config-'));
  const config = join(configDir, 'config.yml');
  const launch = async (port: number) => {
    await writeFile(
      config,
      [
        'version: 0.1',
        'log: { level: info, accesslog: { disabled: true } }',
        'storage:',
        `  filesystem: { rootdirectory: "${root}" }`,
        '  delete: { enabled: true }',
        '  maintenance: { uploadpurging: { enabled: false } }',
        `http: { addr: "127.0.0.1:${port}" }`,
        ...(options.config ?? []),
        '',
      ].join('\n'),
    );
    const probe = await startProcess('docker-registry', ['serve', config], /listening on|msg="listening/i, {
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
    });
    return { port, probe };
  };
  const { port, probe } = await onFreePort(launch);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    root,
    async stop() {
      await probe.stop();
      await rm(configDir, { recursive: true, force: true });
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    },
  };
}
