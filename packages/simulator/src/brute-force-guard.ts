/**
 * Per-source blocking after repeated authentication failures, as `System.PreventDoSAttack`
 * configures it: more than `maxFailures` within `intervalMs` blocks that source for `blockMs`.
 * Times are simulated milliseconds.
 */
export class BruteForceGuard {
  private readonly sources = new Map<string, { failures: number[]; blockedUntil: number }>();

  constructor(
    private readonly maxFailures = 20,
    private readonly intervalMs = 1000,
    private readonly blockMs = 10_000,
  ) {}

  isBlocked(source: string, now: number): boolean {
    const entry = this.sources.get(source);
    if (!entry) return false;
    if (entry.blockedUntil > now) return true;
    if (entry.blockedUntil !== 0) this.sources.delete(source);
    return false;
  }

  /** Records a failure; returns true when this failure starts a block. */
  recordFailure(source: string, now: number): boolean {
    let entry = this.sources.get(source);
    if (!entry) {
      entry = { failures: [], blockedUntil: 0 };
      this.sources.set(source, entry);
    }
    entry.failures = entry.failures.filter((time) => now - time < this.intervalMs);
    entry.failures.push(now);
    if (entry.failures.length > this.maxFailures) {
      entry.blockedUntil = now + this.blockMs;
      entry.failures = [];
      return true;
    }
    return false;
  }

  reset(): void {
    this.sources.clear();
  }
}
