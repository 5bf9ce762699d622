import type { Digest } from '../oci/digest.ts';
import { PathNotFoundError, type Driver } from './driver.ts';
import { paths } from './paths.ts';

/** When a manifest of a repository was pushed and last pulled, as retention policies read them. */
export interface ImageTimes {
  /** The last push of the manifest (its revision link's time for manifests pushed before Berth kept times). */
  pushed?: Date;
  /** The last recorded pull: exact to within PULL_WRITE_INTERVAL_MS, since pulls are written at most once per it. */
  pulled?: Date;
}

/**
 * A pull writes its time at most once per manifest, repository and process within this interval
 * (README "Retention"): a registry serving the same image thousands of times an hour writes once.
 */
export const PULL_WRITE_INTERVAL_MS = 60 * 60_000;

/** Past this many notes the oldest half is forgotten: a note only saves a read, so losing one costs one read. */
const MAX_NOTES = 100_000;

/**
 * Push and pull times in storage (`_berth/times/…`, paths.ts), so every replica on the same disk or
 * bucket sees them. Pushes write on every manifest PUT; pulls are recorded in the background.
 */
export class ImageTimeStore {
  /** `repository@digest` → when this process last wrote (or found written) the pull time. */
  private readonly pullNotes = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly driver: Driver,
    /** Where a failed pull record is reported: it is never the pull's error. */
    public log: (message: string) => void = (message) => console.error(message),
  ) {}

  recordPushed(name: string, digest: Digest, when = new Date()): Promise<void> {
    return this.driver.putContent(paths.pushedAt(name, digest), when.toISOString());
  }

  /**
   * Records a pull without making the caller wait: nothing at all when this process wrote (or saw)
   * the time within the interval, else one read of the stored time (another replica may have written
   * it) and a write only when that one is older too. Errors are logged, never thrown.
   */
  notePulled(name: string, digest: Digest, now = Date.now()): void {
    const key = `${name}@${digest}`;
    const last = this.pullNotes.get(key);
    if (last !== undefined && now - last < PULL_WRITE_INTERVAL_MS) return;
    // Noted before the write starts, so concurrent pulls of the same manifest do not all write.
    this.note(key, now);
    const work = this.writePulled(name, digest, key, now).catch((error: unknown) => {
      this.pullNotes.delete(key);
      this.log(`recording the pull of ${name}@${digest} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async writePulled(name: string, digest: Digest, key: string, now: number): Promise<void> {
    const stored = await this.readTime(paths.pulledAt(name, digest));
    if (stored && now - stored.getTime() < PULL_WRITE_INTERVAL_MS) {
      this.note(key, stored.getTime());
      return;
    }
    await this.driver.putContent(paths.pulledAt(name, digest), new Date(now).toISOString());
  }

  private note(key: string, time: number): void {
    if (this.pullNotes.size >= MAX_NOTES) {
      for (const old of [...this.pullNotes.keys()].slice(0, MAX_NOTES / 2)) this.pullNotes.delete(old);
    }
    this.pullNotes.set(key, time);
  }

  /** Resolves once the pull records under way are written (tests, and a server closing). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending);
  }

  async read(name: string, digest: Digest): Promise<ImageTimes> {
    const [pushed, pulled, linked] = await Promise.all([
      this.readTime(paths.pushedAt(name, digest)),
      this.readTime(paths.pulledAt(name, digest)),
      this.driver.stat(paths.revisionLink(name, digest)),
    ]);
    const pushedAt = pushed ?? linked?.modified;
    return { ...(pushedAt ? { pushed: pushedAt } : {}), ...(pulled ? { pulled } : {}) };
  }

  /** Drops a deleted manifest's times, so a later push of the same digest starts afresh. */
  async forget(name: string, digest: Digest): Promise<void> {
    this.pullNotes.delete(`${name}@${digest}`);
    await this.driver.delete(paths.imageTimes(name, digest));
  }

  private async readTime(path: string): Promise<Date | undefined> {
    try {
      const time = new Date((await this.driver.getContent(path)).toString('utf8').trim());
      return Number.isNaN(time.getTime()) ? undefined : time;
    } catch (error) {
      if (error instanceof PathNotFoundError) return undefined;
      throw error;
    }
  }
}
