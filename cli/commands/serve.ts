import type { Command } from 'commander';
import { DEFAULT_LISTEN, DEFAULT_STORAGE } from '../../registry/config/defaults.ts';
import type { ServeConfig, ServeFlags } from '../../registry/config/serve-config.ts';
import { berthVersion } from '../version.ts';

/** The line users and scripts wait for: the address first, then what is being served and how. */
function startupLine(url: string, config: ServeConfig): string {
  const processes = config.workers > 1 ? `${config.workers} workers` : '1 process';
  return `listening on ${url} (storage ${config.storage}, auth ${config.auth.mode}, ${processes})`;
}

/**
 * Log lines whose reader is gone (the terminal closed, `npm start` killed, a pipe to a pager
 * quit) are dropped: the registry keeps serving, and no stack trace is printed for it.
 */
function dropWritesToBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the registry')
    .option('--listen <host:port>', `address to listen on (env BERTH_LISTEN, default ${DEFAULT_LISTEN})`)
    .option('--storage <dir|s3://bucket/prefix>', `where to store (env BERTH_STORAGE, default ${DEFAULT_STORAGE})`)
    .option('--config <file>', 'YAML config file (env BERTH_CONFIG)')
    .option('--workers <n|auto>', 'processes sharing the port (env BERTH_WORKERS, default auto: one per core)')
    .option('--tls-cert <file>', 'PEM certificate (chain) to serve HTTPS (env BERTH_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert (env BERTH_TLS_KEY)')
    .option('--metrics-listen <host:port>', 'serve /metrics on this address instead of the main one (env BERTH_METRICS_LISTEN)')
    .action(async (flags: ServeFlags) => {
      dropWritesToBrokenPipes();
      // The server loads when it starts, not whenever `berth --help` lists the commands.
      const [{ serve }, { ConfigError, loadServeConfig }, { makeDirectory }, { setBuildVersion }] = await Promise.all([
        import('../../registry/cluster.ts'),
        import('../../registry/config/serve-config.ts'),
        import('../../storage/make-directory.ts'),
        import('../../registry/metrics/build-version.ts'),
      ]);
      setBuildVersion(berthVersion());
      try {
        const config = await loadServeConfig(flags);
        // The storage directory, made here: FsDriver's check would spin on one that cannot exist (see makeDirectory).
        if (!config.storage.startsWith('s3://')) {
          await makeDirectory(config.storage).catch((error: Error) => {
            throw new ConfigError(`cannot create storage directory ${config.storage}: ${error.message}`);
          });
        }
        await serve(config, (url) => console.log(startupLine(url, config)));
      } catch (error) {
        const message = error instanceof ConfigError ? error.message : `cannot start: ${(error as Error).message}`;
        console.error(`berth serve: ${message}`);
        process.exit(1);
      }
    });
}
