import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock } from '../../client/file-lock.ts';
import type { Digest } from '../../oci/digest.ts';

/** The longest pause between looks at another process's fetch. */
const MAX_POLL_MS = 250;

/**
 * One blob fetch at a time per machine, whichever worker asks: a lock file per digest in a
 * directory of this machine's for the storage served (a process that dies mid-fetch loses its lock
 * to the next asker). Replicas on other machines fetch on their own: at worst one fetch each.
 */
export class FetchLocks {
  private readonly directory: string;

  constructor(storageLocation: string, root = tmpdir()) {
    const storage = createHash('sha256').update(storageLocation).digest('hex').slice(0, 16);
    this.directory = join(root, `berth-mirror-${storage}`);
  }

  /**
   * Waits until this process holds the digest's lock, resolving its release, or until `done` says
   * the blob arrived by another's fetch, resolving undefined.
   */
  async lead(digest: Digest, done: () => Promise<boolean>): Promise<(() => Promise<void>) | undefined> {
    await mkdir(this.directory, { recursive: true });
    const path = join(this.directory, `${digest.algorithm}-${digest.hex}.lock`);
    for (let pause = 10; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
      const release = await tryLock(path, () => Promise.resolve(false));
      if (release) return release;
      if (await done()) return undefined;
      await sleep(pause);
    }
  }
}
