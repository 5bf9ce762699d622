import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(path, { recursive: true })` never settles where
 * a directory exists but refuses new entries with ENOENT (`/proc/nope`): it creates the parent,
 * finds it there, and tries the child again, forever, at a full core. Here a second ENOENT once
 * the parent exists is the answer. `mode` is for the directories it creates.
 */
export async function makeDirectory(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return;
    if (codeOf(error) !== 'ENOENT' || dirname(path) === path) throw error;
    await makeDirectory(dirname(path), mode);
    await mkdir(path, { mode }).catch((again: unknown) => {
      if (codeOf(again) !== 'EEXIST') throw again;
    });
  }
}
