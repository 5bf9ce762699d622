import { readFile, rm, stat, writeFile } from 'node:fs/promises';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `path` as a lock file holding this process's id, or resolves undefined while another holds
 * it. A lock whose process is gone (killed mid-pull, say), or that `isStale` judges abandoned, is
 * taken over. Stores are local directories, so process ids are meaningful.
 */
export async function tryLock(path: string, isStale: () => Promise<boolean>): Promise<(() => Promise<void>) | undefined> {
  try {
    await writeFile(path, String(process.pid), { flag: 'wx' });
    return () => rm(path, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(await readFile(path, 'utf8').catch(() => ''));
  // recursive: a store last used by a Berth that locked with a directory may still hold one.
  if ((holder > 0 && !isAlive(holder)) || (await isStale())) await rm(path, { force: true, recursive: true });
  return undefined;
}

/** Milliseconds since `path` last changed, or Infinity if it does not exist. */
export async function idleFor(path: string): Promise<number> {
  return stat(path).then(
    (info) => Date.now() - info.mtimeMs,
    () => Number.POSITIVE_INFINITY,
  );
}
