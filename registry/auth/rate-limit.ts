import { RegistryError } from '../errors.ts';

/** Above this many tracked keys, stale ones are swept, so guessing many names cannot grow memory without bound. */
const SWEEP_ABOVE = 10_000;

/** Password checks of one user and address still running, and the attempts waiting for one to end. */
interface InFlight {
  count: number;
  waiters: (() => void)[];
}

/**
 * Failed logins per user and client address: after `attempts` failures within `windowSeconds`
 * further attempts are refused until the window has passed. Per process (each worker counts its own).
 */
export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>();
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly options: { attempts: number; windowSeconds: number }) {}

  private recent(key: string, now: number): number[] {
    const since = now - this.options.windowSeconds * 1000;
    const times = (this.failures.get(key) ?? []).filter((time) => time > since);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  /** Seconds to wait before `user` may try again from `address`, or 0. */
  retryAfter(user: string, address: string, now = Date.now()): number {
    const times = this.recent(`${user}\0${address}`, now);
    if (times.length < this.options.attempts) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.options.windowSeconds * 1000 - now) / 1000));
  }

  recordFailure(user: string, address: string, now = Date.now()): void {
    const key = `${user}\0${address}`;
    this.failures.set(key, [...this.recent(key, now), now]);
    if (this.failures.size > SWEEP_ABOVE) for (const tracked of [...this.failures.keys()]) this.recent(tracked, now);
  }

  /**
   * Runs one login attempt: `check` resolves with a result when the password is right, undefined
   * when wrong. A check still running counts as a failure until it ends, so parallel guesses get
   * no more comparisons than the limit; an attempt beyond that waits for a running one's verdict
   * (then goes on, or gets 429), so parallel right logins are slowed, never refused.
   */
  async attempt<T>(user: string, address: string, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = `${user}\0${address}`;
    for (;;) {
      const wait = this.retryAfter(user, address);
      if (wait > 0) {
        throw new RegistryError('TOOMANYREQUESTS', `too many failed logins for ${user}; try again in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
      }
      const running = this.inFlight.get(key) ?? { count: 0, waiters: [] };
      if (this.recent(key, Date.now()).length + running.count < this.options.attempts) {
        running.count += 1;
        this.inFlight.set(key, running);
        break;
      }
      await new Promise<void>((resolve) => running.waiters.push(resolve));
    }
    let failed = false;
    try {
      const result = await check();
      failed = result === undefined;
      return result;
    } finally {
      if (failed) this.recordFailure(user, address);
      this.settle(key);
    }
  }

  /** Ends one running check of `key`; whoever waited looks again. */
  private settle(key: string): void {
    const running = this.inFlight.get(key)!;
    running.count -= 1;
    for (const wake of running.waiters.splice(0)) wake();
    if (running.count === 0) this.inFlight.delete(key);
  }
}
