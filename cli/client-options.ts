import type { Command } from 'commander';
import { readCredentials } from '../client/credentials.ts';
import { createHttp } from '../client/http.ts';
import { defaultStoreDir, LayoutStore } from '../client/layout-store.ts';
import { BarProgress, LineProgress, silentProgress, type TransferProgress } from '../client/progress.ts';
import { RegistryClient } from '../client/registry-client.ts';

/** Flags every client command shares. */
export interface ClientFlags {
  json?: boolean;
  insecure?: boolean;
  store?: string;
}

/** `--json` and `--insecure`, on every client command. */
export function withClientFlags(command: Command): Command {
  return command
    .option('--json', 'print the result as JSON (for pipelines)')
    .option('--insecure', 'plain HTTP to the registry (localhost and loopback always are; also env BERTH_INSECURE_REGISTRIES=host:port,…)');
}

export function withStoreFlag(command: Command): Command {
  return command.option('--store <dir>', `the local OCI image layout (default ${defaultStoreDir()})`);
}

function insecureRegistries(): string[] {
  return (process.env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

const http = createHttp();

/** A client for one registry, with credentials from the docker config file. */
export function clientFor(registry: string, flags: ClientFlags): RegistryClient {
  return new RegistryClient(registry, {
    http,
    insecure: Boolean(flags.insecure) || insecureRegistries().includes(registry),
    credentials: () => readCredentials(registry),
  });
}

export function openLocalStore(flags: ClientFlags): Promise<LayoutStore> {
  return LayoutStore.open(flags.store ?? defaultStoreDir());
}

/** Bars on a terminal, a line per blob otherwise, nothing when stdout is JSON for a pipeline. */
export function progressFor(flags: ClientFlags): TransferProgress {
  if (flags.json) return silentProgress;
  return process.stderr.isTTY ? new BarProgress() : new LineProgress();
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
