import type { Command } from 'commander';
import { ConfigError, DEFAULT_LISTEN, DEFAULT_STORAGE, loadServeConfig, type ServeFlags } from '../../registry/config.ts';
import { serve } from '../../registry/cluster.ts';

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
    .action(async (flags: ServeFlags) => {
      try {
        const config = await loadServeConfig(flags);
        await serve(config, (url) => console.log(`listening on ${url}`));
      } catch (error) {
        const message = error instanceof ConfigError ? error.message : `cannot start: ${(error as Error).message}`;
        console.error(`berth serve: ${message}`);
        process.exit(1);
      }
    });
}
