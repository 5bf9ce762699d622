import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server on a port found free, and on another if it was taken in between: until the server
 * binds it, the kernel may hand the same port to any connection's local end.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= attempts || !/EADDRINUSE|address already in use/i.test(String(error))) throw error;
    }
  }
}

/** Children a helper started that are still running; see `track`. */
const running = new Set<ChildProcess>();
let stopsOnExit = false;

function stopAll(): void {
  for (const child of running) child.kill('SIGTERM');
}

/**
 * Has `child` stopped when this test process ends before stopping it: on an uncaught error, on the
 * exit `--test-force-exit` forces once a file's tests are done (a failed test may never reach the
 * code that stops what it started), or on an interrupt the runner passes on (it sends each test
 * file SIGINT or SIGTERM). Without this a registry or s3rver outlives `npm test`, holding its port.
 */
export function track(child: ChildProcess): ChildProcess {
  if (!stopsOnExit) {
    stopsOnExit = true;
    process.on('exit', stopAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        stopAll();
        // Die of the signal as if no handler were installed, so the runner sees the interrupt.
        process.kill(process.pid, signal);
      });
    }
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a long-running process and resolves once `ready` matches its output, or rejects with
 * what it printed if it exits or stays silent for `timeoutMs`.
 */
export async function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunningProcess> {
  const child = track(spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  let isReady = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} not ready after ${options.timeoutMs ?? 20000} ms:\n${output}`)), options.timeoutMs ?? 20000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // Tested until it matches only: a regex over the ever longer output flattens it on each chunk,
      // which for a server logging each request (berth serve's request log) took a core of its own.
      if (!isReady && ready.test(output)) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    // One that never got ready is stopped here: its caller has nothing to stop it with.
    if (child.pid !== undefined) await stop('SIGKILL');
    throw error;
  });
  return { child, output: () => output, stop };
}

/** The direct children of a process (Linux /proc), e.g. a cluster primary's workers; [] once it is gone. */
export async function childPids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return children.split(/\s+/).filter(Boolean).map(Number);
}
