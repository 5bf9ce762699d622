import { setTimeout as sleep } from 'node:timers/promises';
import { PathNotFoundError, type Driver } from './driver.ts';
import { paths } from './paths.ts';

/** What the lease file holds. */
export interface LeaseRecord {
  holder: string;
  expiresAt: string;
}

/**
 * A lease in storage, so one process among all replicas on the same disk or bucket does a job
 * (design.md §8: one retention runner at a time). A holder renews it; one that crashes stops
 * renewing, and the lease is anyone's once `ttlMs` has passed.
 *
 * Neither the disk nor S3 offers Berth a compare-and-swap, so taking a free lease is: read it,
 * write ours, wait `settleMs`, read again, and hold it only if ours is still there. Of two
 * processes taking it at once, the later write wins and the earlier one sees it on its re-read; both
 * would hold it only if one took longer than `settleMs` between its read and its write.
 */
export class Lease {
  private readonly path: string;

  constructor(
    private readonly driver: Driver,
    name: string,
    readonly ttlMs: number,
    private readonly settleMs = Math.min(1000, ttlMs / 4),
  ) {
    this.path = paths.lease(name);
  }

  /** Takes the lease for `holder` or renews it; false while another holder's lease runs. */
  async acquire(holder: string, now = Date.now()): Promise<boolean> {
    const current = await this.read();
    const ours = current?.holder === holder;
    if (current && !ours && Date.parse(current.expiresAt) > now) return false;
    await this.driver.putContent(this.path, JSON.stringify({ holder, expiresAt: new Date(now + this.ttlMs).toISOString() } satisfies LeaseRecord));
    // A renewal wrote over its own unexpired lease, which no one else may take: nothing to race.
    if (ours && Date.parse(current.expiresAt) > now) return true;
    await sleep(this.settleMs);
    return (await this.read())?.holder === holder;
  }

  /** Gives the lease up at once (a clean shutdown), if `holder` has it. */
  async release(holder: string): Promise<void> {
    if ((await this.read())?.holder === holder) await this.driver.delete(this.path);
  }

  async read(): Promise<LeaseRecord | undefined> {
    try {
      const record = JSON.parse((await this.driver.getContent(this.path)).toString('utf8')) as Partial<LeaseRecord>;
      return typeof record.holder === 'string' && typeof record.expiresAt === 'string' ? { holder: record.holder, expiresAt: record.expiresAt } : undefined;
    } catch (error) {
      // A missing lease, or one a crash left half-written: free.
      if (error instanceof PathNotFoundError || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }
}
