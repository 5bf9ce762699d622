import { onFreePort, startProcess } from './processes.ts';

/** Debian's redis-server on loopback, in memory only, for replicas to share a cache through. */
export interface RedisServer {
  url: string;
  /** Stops (SIGSTOP) or resumes (SIGCONT) the server: its connections stay open and nothing answers, as with a hung host. */
  pause(paused: boolean): void;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  return onFreePort(async (port) => {
    const server = await startProcess(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
    );
    return {
      url: `redis://127.0.0.1:${port}`,
      pause: (paused) => void server.child.kill(paused ? 'SIGSTOP' : 'SIGCONT'),
      stop: async () => {
        server.child.kill('SIGCONT');
        await server.stop();
      },
    };
  });
}
