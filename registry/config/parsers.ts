/** The grammars of the values flags, the environment and the config file share; each answers undefined for what it refuses. */
import { availableParallelism } from 'node:os';

/** `HOST:PORT`, `:PORT` (every address) or `[IPv6]:PORT`. */
export function parseListen(value: unknown): { host: string; port: number } | undefined {
  const match = typeof value === 'string' ? /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value) : null;
  const port = Number(match?.[3]);
  if (!match || port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** A number of processes, or `auto`: one per core. */
export function parseWorkers(value: unknown): number | undefined {
  if (value === 'auto') return availableParallelism();
  const workers = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(workers) && workers >= 1 ? workers : undefined;
}

const SIZE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A byte count: a number, or a string such as `512MiB` or `2 GiB` (binary units only, so no one guesses). */
export function parseByteSize(value: unknown): number | undefined {
  const match = typeof value === 'number' || typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB)?$/.exec(String(value).trim()) : null;
  return match ? Math.floor(Number(match[1]) * SIZE_UNITS[match[2] ?? '']!) : undefined;
}

export const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `7d` or plain milliseconds: the grammar of `berth gc`'s duration flags. */
export function parseDurationMs(value: unknown): number | undefined {
  const match = typeof value === 'number' || typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(value).trim()) : null;
  return match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']! : undefined;
}
