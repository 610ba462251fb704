export interface BackoffOptions {
  /** Ceiling of the first retry; each failure doubles it. */
  baseMs?: number;
  /** Largest ceiling, however many attempts failed. */
  capMs?: number;
  /**
   * How long a connection must have stayed up before its loss counts as a fresh start: a gateway
   * that welcomes and drops at once must not be hammered at the base delay.
   */
  stableMs?: number;
  /** Uniform in [0, 1); replaceable so tests are deterministic. */
  random?: () => number;
  now?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt, and counts that attempt as failed. */
  next(): number;
  /** A connection was established (for the link: the gateway's welcome arrived). */
  succeeded(): void;
  /** Back to the first attempt. */
  reset(): void;
  /** Consecutive failed attempts since the last reset. */
  readonly attempt: number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000, stableMs: 30_000 } as const;

/** The ceiling a delay is drawn under for a zero-based attempt: min(cap, base * 2^attempt). */
export function backoffCeiling(attempt: number, baseMs: number, capMs: number): number {
  // 2 ** 1100 is Infinity, which min() turns into the cap; no attempt count overflows.
  return Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * Capped exponential backoff with full jitter: the delay is uniform in [0, ceiling), so agents of
 * hundreds of sites that lost the gateway at the same moment do not come back in lock-step.
 */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const stableMs = options.stableMs ?? DEFAULT_BACKOFF.stableMs;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  if (!(baseMs > 0) || !(capMs >= baseMs)) {
    throw new RangeError('Backoff needs 0 < baseMs <= capMs.');
  }
  let attempt = 0;
  let upSince: number | undefined;

  return {
    next() {
      if (upSince !== undefined && now() - upSince >= stableMs) attempt = 0;
      upSince = undefined;
      const ceiling = backoffCeiling(attempt, baseMs, capMs);
      attempt += 1;
      return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
    },
    succeeded() {
      upSince = now();
    },
    reset() {
      attempt = 0;
      upSince = undefined;
    },
    get attempt() {
      return attempt;
    },
  };
}
