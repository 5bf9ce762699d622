const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "7d" or plain milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (want e.g. 30s, 15m, 1h, 7d)`);
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!;
}

/** Largest unit first, for formatting. */
const UNITS_DESCENDING = Object.entries(UNIT_MS).sort(([, a], [, b]) => b - a);

/** 3_600_000 → "1h", 90_000 → "90s": the largest unit that divides it, as parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const [unit, size] = UNITS_DESCENDING.find(([, size]) => ms % size === 0)!;
  return `${ms / size}${unit}`;
}
