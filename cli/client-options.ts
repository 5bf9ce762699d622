import type { Command } from 'commander';
import { readCredentials, type Credentials } from '../client/credentials.ts';
import { createHttp, type RetryNotice } from '../client/http.ts';
import { defaultStoreDir, LayoutStore } from '../client/layout-store.ts';
import { silentProgress, type TransferProgress } from '../client/progress.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { explainFailure, printFailure } from './failure.ts';
import { LineProgress } from './progress-display.ts';

/** Flags every client command shares. */
export interface ClientFlags {
  json?: boolean;
  insecure?: boolean;
  verbose?: boolean;
  store?: string;
}

/** `--json`, `--insecure` and `--verbose`, on every client command. */
function withClientFlags(command: Command): Command {
  return command
    .option('--json', 'print the result as JSON (for pipelines), and a failure as {"error", "hint"} on stdout')
    .option(
      '--insecure',
      'skip TLS certificate checks, and use plain HTTP where no HTTPS is spoken (as on loopback; also env BERTH_INSECURE_REGISTRIES=host:port,…)',
    )
    .option('-v, --verbose', 'say how each registry is reached (HTTPS or plain HTTP, and why)');
}

/**
 * Registers a client command's action with the shared flags. A failure becomes one message and a
 * hint on stderr (or a JSON document on stdout with --json) and exit status 1.
 */
export function clientCommand<Args extends unknown[]>(command: Command, action: (...args: Args) => Promise<void>): Command {
  return withClientFlags(command).action(async (...args: unknown[]) => {
    try {
      await action(...(args as Args));
    } catch (error) {
      const flags = command.opts<ClientFlags>();
      printFailure(await explainFailure(error, command.name()), Boolean(flags.json));
      process.exitCode = 1;
    }
  });
}

export function withStoreFlag(command: Command): Command {
  return command.option('--store <dir>', `the local OCI image layout (default ${defaultStoreDir()})`);
}

function insecureRegistries(): string[] {
  return (process.env.BERTH_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A retry is said when it is decided, so the wait before it is never silent. */
function retryLine(notice: RetryNotice): string {
  return `berth: ${notice.method} ${notice.url}: ${notice.reason}; retry ${notice.attempt} of ${notice.limit} in ${(notice.delayMs / 1000).toFixed(1)} s`;
}

const http = createHttp({ onRetry: (notice) => console.error(retryLine(notice)) });

/** A client for one registry, with the given credentials or those of the docker config file. */
export function clientFor(registry: string, flags: ClientFlags, credentials?: Credentials): RegistryClient {
  return new RegistryClient(registry, {
    http,
    insecure: Boolean(flags.insecure) || insecureRegistries().includes(registry),
    credentials: credentials ? async () => credentials : () => readCredentials(registry),
    ...(flags.verbose ? { log: (line: string) => console.error(`berth: ${line}`) } : {}),
  });
}

export function openLocalStore(flags: ClientFlags): Promise<LayoutStore> {
  return LayoutStore.open(flags.store ?? defaultStoreDir());
}

/**
 * Bars on a terminal, a line per blob otherwise, nothing when stdout is JSON for a pipeline. The
 * bars' library is loaded only for a terminal: a pipeline's pull does not pay for it.
 */
export async function progressFor(flags: ClientFlags): Promise<TransferProgress> {
  if (flags.json) return silentProgress;
  return process.stderr.isTTY ? new (await import('./progress-bars.ts')).BarProgress() : new LineProgress();
}

/** Prints the JSON form with --json, the human lines otherwise. */
export function report(flags: ClientFlags, json: unknown, human: () => string): void {
  console.log(flags.json ? JSON.stringify(json, null, 2) : human());
}

/** A positive whole number flag. */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`expected a positive whole number, got "${text}"`);
  return value;
}
