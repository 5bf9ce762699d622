/** How long one storage check answers for: probes every second from many balancers cost one check. */
const CHECK_TTL_MS = 1000;

/** A check that hangs (a bucket behind a dead network) is a failure, not a stuck probe. */
const CHECK_TIMEOUT_MS = 5000;

export interface ReadinessState {
  ready: boolean;
  /** Why not, in one line; absent when ready. */
  reason?: string;
}

/**
 * Whether this process should get traffic: storage answers (the driver's own cheap check: an
 * access(2) of the root, or S3's HeadBucket), and it is not draining for a shutdown. The result
 * is cached for a second and concurrent probes share one check.
 */
export class Readiness {
  private draining = false;
  private last?: { at: number; state: ReadinessState };
  private running?: Promise<ReadinessState>;

  constructor(private readonly checkStorage: () => Promise<void>) {}

  /** From now on not ready: the balancer stops sending while in-flight requests finish. */
  drain(): void {
    this.draining = true;
  }

  async state(now = Date.now()): Promise<ReadinessState> {
    if (this.draining) return { ready: false, reason: 'shutting down' };
    if (this.last && now - this.last.at < CHECK_TTL_MS) return this.last.state;
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<ReadinessState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
    });
    let state: ReadinessState;
    try {
      await Promise.race([this.checkStorage(), timeout]);
      state = { ready: true };
    } catch (error) {
      state = { ready: false, reason: `storage unavailable: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    this.last = { at: Date.now(), state };
    return state;
  }
}
