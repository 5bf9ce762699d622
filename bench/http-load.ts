import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Load generators from Debian: wrk (lightest, GET only) and hey (any method). */
export async function requireTools(): Promise<void> {
  for (const tool of ['wrk', 'hey', 'skopeo', 'umoci', 'docker-registry']) {
    await run('which', [tool]).catch(() => {
      throw new Error(`bench needs ${tool}: apt-get install -y ${tool === 'docker-registry' ? 'docker-registry' : tool}`);
    });
  }
}

function requestsPerSecond(output: string, tool: string): number {
  const value = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  if (!Number.isFinite(value)) throw new Error(`${tool} printed no Requests/sec:\n${output}`);
  return value;
}

/** GET requests per second with keep-alive: wrk, two threads, `connections` connections. */
export async function wrkGet(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<number> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const { stdout } = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, ...headerArgs, url]);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  if (non2xx) throw new Error(`wrk got ${non2xx[1]} error responses from ${url}`);
  return requestsPerSecond(stdout, 'wrk');
}

/** Requests per second of any method with keep-alive: hey. */
export async function hey(method: string, url: string, seconds: number, connections: number): Promise<number> {
  const { stdout } = await run('hey', ['-m', method, '-z', `${seconds}s`, '-c', String(connections), url], { maxBuffer: 1 << 24 });
  const statuses = stdout.slice(stdout.indexOf('Status code distribution:'));
  if (!/\[200\]/.test(statuses) || /\[[345]\d\d\]/.test(statuses)) throw new Error(`hey saw errors from ${url}:\n${statuses}`);
  return requestsPerSecond(stdout, 'hey');
}
