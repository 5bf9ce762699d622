import { parseDurationMs } from './parsers.ts';
import type { ServeConfig } from './serve-config.ts';

/** The config file's `gc:` settings, in milliseconds where given. */
export interface GcSection {
  deleteUntagged: boolean;
  gracePeriodMs?: number;
  uploadMaxAgeMs?: number;
  settleMs?: number;
}

/** The `gc:` section as the server's own collections read it: the retention schedule's gc and the start-up purge. */
export function gcSection(config: ServeConfig): GcSection {
  const section = config.file.gc;
  const ms = (value: number | string | undefined) => (value === undefined ? undefined : parseDurationMs(value));
  const given = { gracePeriodMs: ms(section.gracePeriod), uploadMaxAgeMs: ms(section.uploadMaxAge), settleMs: ms(section.settle) };
  return { deleteUntagged: section.deleteUntagged ?? false, ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) };
}
