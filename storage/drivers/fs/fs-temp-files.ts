import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PurgeOptions, StaleWrites } from '../../driver.ts';

const TEMP_MARK = '.tmp-';

/** Whether a file name is one of FsDriver's temp files: an atomic write not yet renamed into place. */
export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARK);
}

/** A sibling temp name for `full`, so the final rename stays within one filesystem. */
export function tempPathFor(full: string): string {
  return `${full}${TEMP_MARK}${randomUUID()}`;
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Removes the temp files under `directory` last modified before `olderThan`. Every write into a
 * temp file refreshes its time, so an old one belongs to a process that died before its rename
 * (SIGKILL, power loss): `list` hides it, and nothing else would ever remove it. One directory at
 * a time, so a purge beside a serving registry takes at most one of libuv's threads.
 */
export async function purgeStaleTemps(directory: string, olderThan: Date, options: PurgeOptions = {}): Promise<StaleWrites> {
  const purged: StaleWrites = { count: 0, bytes: 0 };
  const pending = [directory];
  for (let dir = pending.pop(); dir !== undefined && !options.signal?.aborted; dir = pending.pop()) {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      if (isGone(error)) return [];
      throw error;
    });
    let removed = false;
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      if (!entry.isFile() || !isTempName(entry.name)) continue;
      const info = await lstat(full).catch((error: unknown) => {
        if (isGone(error)) return undefined;
        throw error;
      });
      if (!info || info.mtime >= olderThan) continue;
      purged.count++;
      purged.bytes += info.size;
      if (options.dryRun) continue;
      await rm(full, { force: true });
      removed = true;
    }
    if (removed && dir !== directory) await removeIfEmpty(dir);
  }
  return purged;
}

/**
 * A directory that held only a dead write existed for that write alone (a blob's, an upload's, a
 * link's): left empty, it would be listed as a blob, upload or link with nothing in it. rmdir
 * removes only an empty one, as gc's pruneEmpty does.
 */
async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && !isGone(error)) throw error;
  });
}
