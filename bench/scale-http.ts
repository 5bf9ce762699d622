import { join } from 'node:path';
import { onFreePort, startProcess, type RunningProcess } from '../peers/processes.ts';
import type { ScaleTarget } from './scale-target.ts';
import { median } from './stats.ts';

/** The Berth build under benchmark: this checkout's, or another's (`--cli`). */
export const DEFAULT_BERTH_CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** Both registries serving one root, each at its URL. */
export interface ScaleServers {
  berth: string;
  distribution: string;
  stop(): Promise<void>;
}

export async function startScaleServers(target: ScaleTarget, berthCli: string): Promise<ScaleServers> {
  const serve = (start: (port: number) => Promise<RunningProcess>) =>
    onFreePort(async (port) => ({ url: `http://127.0.0.1:${port}`, process: await start(port) }));
  const berth = await serve((port) =>
    startProcess(process.execPath, [berthCli, 'serve', '--storage', target.berth.storage, '--listen', `127.0.0.1:${port}`], /listening on/, {
      env: target.berth.env,
    }),
  );
  const distribution = await serve(async (port) =>
    startProcess('docker-registry', ['serve', await target.distribution.config(`127.0.0.1:${port}`)], /listening on|msg="listening/i, {
      env: target.distribution.env,
    }),
  ).catch(async (error: unknown) => {
    await berth.process.stop();
    throw error;
  });
  return {
    berth: berth.url,
    distribution: distribution.url,
    stop: async () => void (await Promise.all([berth.process.stop(), distribution.process.stop()])),
  };
}

async function getJSON<T>(url: string): Promise<{ body: T; link: string | null }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return { body: (await response.json()) as T, link: response.headers.get('link') };
}

/**
 * Seconds to read the whole catalog a page of 1,000 at a time, following `Link` (Docker Registry
 * HTTP API v2 "Listing Repositories", paged as tag lists are: distribution-spec end-8b). A catalog
 * short of `expected` names is an error, not a figure.
 */
export async function readCatalog(base: string, expected: number): Promise<number> {
  const started = performance.now();
  let names = 0;
  for (let url: string | undefined = `${base}/v2/_catalog?n=1000`; url;) {
    const { body, link }: { body: { repositories: string[] }; link: string | null } = await getJSON(url);
    names += body.repositories.length;
    const next: string | undefined = /<([^>]+)>;\s*rel="?next"?/.exec(link ?? '')?.[1];
    url = next ? new URL(next, base).toString() : undefined;
  }
  if (names !== expected) throw new Error(`${base}: the catalog listed ${names} repositories, not ${expected}`);
  return (performance.now() - started) / 1000;
}

/** Median milliseconds of `times` tag lists of `name`, one after another (end-8a); each must list `tags` tags. */
export async function tagListMs(base: string, name: string, tags: number, times: number): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const { body } = await getJSON<{ tags: string[] }>(`${base}/v2/${name}/tags/list`);
    durations.push(performance.now() - started);
    if (body.tags.length !== tags) throw new Error(`${base}: ${name} listed ${body.tags.length} tags, not ${tags}`);
  }
  return median(durations);
}
