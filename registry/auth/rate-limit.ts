/**
 * Failed logins per user and client address: after `attempts` failures within `windowSeconds`
 * further attempts are refused until the window has passed. Per process (each worker counts its own).
 */
/** Above this many tracked keys, stale ones are swept, so guessing many names cannot grow memory without bound. */
const SWEEP_ABOVE = 10_000;

export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>();

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
}
