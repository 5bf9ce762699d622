import { DURATION_UNITS, parseDurationMs } from '../registry/config/parsers.ts';

/** "90s", "15m", "1h", "7d" or plain milliseconds, as the config file reads them. */
export function parseDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}" (want e.g. 30s, 15m, 1h, 7d)`);
  return ms;
}

/** Largest unit first, for formatting. */
const UNITS_DESCENDING = Object.entries(DURATION_UNITS).sort(([, a], [, b]) => b - a);

/** 3_600_000 → "1h", 90_000 → "90s": the largest unit that divides it, as parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const [unit, size] = UNITS_DESCENDING.find(([, size]) => ms % size === 0)!;
  return `${ms / size}${unit}`;
}
