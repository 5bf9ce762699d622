import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PurgeOptions, StaleWrites } from '../../driver.ts';

const TEMP_MARK = '.tmp-';

/**
 * Whether a file name is one of FsDriver's temp files: an atomic write not yet renamed into place.
 * Berth before issue 29 wrote them beside their target, so listings still leave such names out.
 */
export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARK);
}

/** A new temp file in the staging directory, on the same filesystem as the tree, so the final rename is atomic. */
export function tempPathIn(staging: string): string {
  return join(staging, `write${TEMP_MARK}${randomUUID()}`);
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Removes the temp files in `staging` last modified before `olderThan`. Every write into a temp file
 * refreshes its time, so an old one belongs to a process that died before its rename (SIGKILL,
 * power loss), and nothing else would ever remove it. One directory, however large the tree: a
 * walk of every directory for them took most of a gc run's system time on large registries.
 */
export async function purgeStaleTemps(staging: string, olderThan: Date, options: PurgeOptions = {}): Promise<StaleWrites> {
  const purged: StaleWrites = { count: 0, bytes: 0 };
  const names = await readdir(staging).catch((error: unknown) => {
    if (isGone(error)) return [];
    throw error;
  });
  for (const name of names) {
    if (options.signal?.aborted) break;
    if (!isTempName(name)) continue;
    const file = join(staging, name);
    const info = await lstat(file).catch((error: unknown) => {
      if (isGone(error)) return undefined;
      throw error;
    });
    if (!info?.isFile() || info.mtime >= olderThan) continue;
    purged.count++;
    purged.bytes += info.size;
    if (!options.dryRun) await rm(file, { force: true });
  }
  return purged;
}
