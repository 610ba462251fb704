export interface AttemptBudgetOptions {
  /** Rejected credentialed requests allowed per camera within `windowMs` (default 3). */
  maxFailures?: number;
  /** Sliding window for counting failures (default 10 minutes). */
  windowMs?: number;
  /** Back-off after a brute-force block; AXIS DoSBlockingPeriod defaults to 10 s (reference §2). */
  blockPeriodMs?: number;
  now?: () => number;
}

/** A reserved credentialed attempt: settle it exactly once. */
export interface AttemptTicket {
  /** The device rejected the credentials: the attempt counts against the budget. */
  fail(): void;
  /** Anything else: the reservation is returned. */
  release(): void;
}

/**
 * Rations credential attempts per camera across every operation in the process, so no code
 * path can turn into a guessing loop and trip the device's brute-force protection (§2, §7.10).
 * Keys are camera keys (see `cameraKeyOf`).
 */
export interface AttemptBudget {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly blockPeriodMs: number;
  /** Milliseconds until a brute-force block on the camera is assumed lifted; 0 when none. */
  lockedOutFor(key: string): number;
  /** Rejected attempts still inside the window. */
  failures(key: string): number;
  /** Attempts that may still be made (reservations in flight included). */
  remaining(key: string): number;
  /** Milliseconds until the oldest counted failure leaves the window; 0 when none. */
  retryAfter(key: string): number;
  /** Reserves an attempt for credentials not yet known to work; undefined when spent. */
  reserve(key: string): AttemptTicket | undefined;
  recordFailure(key: string): void;
  recordLockout(key: string): void;
  /** Whether a 403 from this camera is more likely a block than a missing privilege. */
  isBlockSuspected(key: string): boolean;
}

interface CameraState {
  failures: number[];
  pending: number;
  lockedUntil: number;
  lastLockoutAt: number | undefined;
}

export function createAttemptBudget(options: AttemptBudgetOptions = {}): AttemptBudget {
  const maxFailures = options.maxFailures ?? 3;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const blockPeriodMs = options.blockPeriodMs ?? 10_000;
  const now = options.now ?? Date.now;
  const cameras = new Map<string, CameraState>();

  const stateOf = (key: string): CameraState => {
    let state = cameras.get(key);
    if (state === undefined) {
      state = { failures: [], pending: 0, lockedUntil: 0, lastLockoutAt: undefined };
      cameras.set(key, state);
    }
    const horizon = now() - windowMs;
    while (state.failures.length > 0 && (state.failures[0] ?? 0) <= horizon) state.failures.shift();
    return state;
  };

  const budget: AttemptBudget = {
    maxFailures,
    windowMs,
    blockPeriodMs,
    lockedOutFor(key) {
      return Math.max(0, stateOf(key).lockedUntil - now());
    },
    failures(key) {
      return stateOf(key).failures.length;
    },
    remaining(key) {
      const state = stateOf(key);
      return Math.max(0, maxFailures - state.failures.length - state.pending);
    },
    retryAfter(key) {
      const oldest = stateOf(key).failures[0];
      return oldest === undefined ? 0 : Math.max(0, oldest + windowMs - now());
    },
    reserve(key) {
      const state = stateOf(key);
      if (state.failures.length + state.pending >= maxFailures) return undefined;
      state.pending += 1;
      let settled = false;
      const settle = (failed: boolean): void => {
        if (settled) return;
        settled = true;
        state.pending -= 1;
        if (failed) budget.recordFailure(key);
      };
      return { fail: () => settle(true), release: () => settle(false) };
    },
    recordFailure(key) {
      stateOf(key).failures.push(now());
    },
    recordLockout(key) {
      const state = stateOf(key);
      state.lockedUntil = now() + blockPeriodMs;
      state.lastLockoutAt = now();
    },
    isBlockSuspected(key) {
      const state = stateOf(key);
      const recentLockout =
        state.lastLockoutAt !== undefined && state.lastLockoutAt > now() - windowMs;
      return state.failures.length > 0 || recentLockout;
    },
  };
  return budget;
}

/** The process-wide budget used when a client is not given one. */
export const defaultAttemptBudget: AttemptBudget = createAttemptBudget();
