/**
 * Parts a process holds in memory for transfers beyond each transfer's first (parallel reads and
 * part uploads): many transfers at once share the speed-up instead of multiplying the memory.
 */
export class PartBudget {
  private taken = 0;

  constructor(readonly parts: number) {}

  get inUse(): number {
    return this.taken;
  }

  /** Up to `wanted` parts, as many as are left: possibly none. */
  takeUpTo(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.parts - this.taken));
    this.taken += granted;
    return granted;
  }

  give(parts = 1): void {
    this.taken -= parts;
  }
}
