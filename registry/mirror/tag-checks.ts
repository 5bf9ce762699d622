import type { Digest } from '../../oci/digest.ts';
import { paths } from '../../storage/paths.ts';
import { RecentMap } from '../../storage/recent-map.ts';
import type { Store } from '../../storage/store.ts';

/** Tags a process remembers the check time of; a forgotten one costs a stat. */
const REMEMBERED_CHECKS = 10_000;

/**
 * When each mirrored tag was last confirmed upstream. The time is the tag link's own: a check that
 * confirms a tag writes its link again, so every worker and replica on the storage sees it (a
 * mirrored repository takes no pushes, so nothing else writes it). A process remembers what it
 * read or wrote, to spare the stat.
 */
export class TagChecks {
  private readonly checked = new RecentMap<string, number>(REMEMBERED_CHECKS);

  constructor(private readonly store: Store) {}

  /** Whether the tag was confirmed less than `ttlMs` ago. */
  async fresh(local: string, tag: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const key = `${local}:${tag}`;
    let at = this.checked.get(key);
    if (at === undefined || now - at >= ttlMs) {
      at = (await this.store.driver.stat(paths.tagCurrentLink(local, tag)))?.modified.getTime();
      if (at !== undefined) this.checked.set(key, at);
    }
    return at !== undefined && now - at < ttlMs;
  }

  /** Points the tag at `digest` as of now. */
  async confirm(local: string, tag: string, digest: Digest): Promise<void> {
    await this.store.repositories.tag(local, tag, digest);
    this.checked.set(`${local}:${tag}`, Date.now());
  }
}
