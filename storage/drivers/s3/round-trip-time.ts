/** Requests remembered: enough that a burst of slow answers under load does not hide the usual one. */
const KEPT = 32;

/**
 * How long the bucket takes to answer a small request (a HEAD), as the fastest of the last few:
 * the distance to the bucket, which load on either side only ever lengthens.
 */
export class RoundTripTime {
  private readonly recent: number[] = [];
  private next = 0;

  record(milliseconds: number): void {
    this.recent[this.next] = milliseconds;
    this.next = (this.next + 1) % KEPT;
  }

  /** Undefined until a request has been answered. */
  get fastest(): number | undefined {
    return this.recent.length ? Math.min(...this.recent) : undefined;
  }

  /** Times `request` when it settles with an answer. */
  async timed<T>(request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const answer = await request();
    this.record(performance.now() - started);
    return answer;
  }
}
