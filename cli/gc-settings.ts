import type { Command } from 'commander';
import type { ConfigFile } from '../registry/config/schema.ts';
import { GC_DEFAULTS, type GcTiming } from '../storage/gc/gc-plan.ts';
import { formatDuration, parseDuration } from './duration.ts';

/**
 * gc's settings as a user sets them, shared by `berth gc` and `berth analyze`: analyze reports
 * what gc would free, so both read the same flags and the same `gc:` section of the config file.
 */
export interface GcFlags {
  gracePeriod?: string;
  uploadMaxAge?: string;
  settle?: string;
  deleteUntagged?: boolean;
}

export interface GcSettings extends GcTiming {
  deleteUntagged: boolean;
}

/** The options that decide what gc removes, for both commands. */
export function gcPlanOptions(command: Command): Command {
  return command
    .option('--delete-untagged', 'untagged manifests are not roots: delete them and what only they reference (config gc.deleteUntagged)')
    .option(
      '--grace-period <duration>',
      `keep unreferenced blobs younger than this, and leftovers of writes idle for less (config gc.gracePeriod, default ${formatDuration(GC_DEFAULTS.gracePeriodMs)})`,
    )
    .option(
      '--upload-max-age <duration>',
      `delete uploads idle longer than this (config gc.uploadMaxAge, default ${formatDuration(GC_DEFAULTS.uploadMaxAgeMs)})`,
    );
}

/** Each setting from its flag, else the config file's `gc:` section, else gc's default. */
export function gcSettings(flags: GcFlags, file: ConfigFile | undefined): GcSettings {
  const section: Record<string, unknown> = file?.gc ?? {};
  const duration = (flag: string | undefined, key: string, fallback: number): number => {
    const value = flag ?? section[key];
    return value === undefined ? fallback : parseDuration(String(value));
  };
  return {
    gracePeriodMs: duration(flags.gracePeriod, 'gracePeriod', GC_DEFAULTS.gracePeriodMs),
    uploadMaxAgeMs: duration(flags.uploadMaxAge, 'uploadMaxAge', GC_DEFAULTS.uploadMaxAgeMs),
    settleMs: duration(flags.settle, 'settle', GC_DEFAULTS.settleMs),
    deleteUntagged: flags.deleteUntagged ?? Boolean(section.deleteUntagged),
  };
}

/** Names the grace period and where it is set, so a figure held back by it says how to change it. */
export function gracePeriodNote(gracePeriodMs: number): string {
  return `the grace period (${formatDuration(gracePeriodMs)}, set with --grace-period or gc.gracePeriod in the config file)`;
}
