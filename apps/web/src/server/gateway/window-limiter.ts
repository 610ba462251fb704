/** A fixed-window count of hits per key. */
export interface WindowRule {
  limit: number;
  windowMs: number;
}

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface WindowLimiter {
  /** Counts a hit and says whether it is within the rule. */
  hit(key: string, now?: number): LimitVerdict;
  /** Whether a hit now would be within the rule, without counting one. */
  peek(key: string, now?: number): LimitVerdict;
  readonly size: number;
}

/**
 * Counts in this process's memory: each server process keeps its own counts, so behind a load
 * balancer of N processes a client gets up to N times the limit. Enough to make guessing
 * enrollment tokens pointless (they carry 192 random bits); the sign-in throttle, which guards
 * passwords people chose, keeps its counts in the database instead. At most `maxKeys` keys are
 * remembered: the oldest windows are forgotten first.
 */
export function createWindowLimiter(rule: WindowRule, maxKeys = 10_000): WindowLimiter {
  const windows = new Map<string, { startedAt: number; hits: number }>();

  function current(key: string, now: number) {
    const window = windows.get(key);
    if (window === undefined || now - window.startedAt >= rule.windowMs) return undefined;
    return window;
  }

  function verdict(window: { startedAt: number; hits: number }, now: number): LimitVerdict {
    if (window.hits <= rule.limit) return { allowed: true };
    const endsAt = window.startedAt + rule.windowMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now) / 1000)) };
  }

  function forgetOldest(now: number): void {
    for (const [key, window] of windows) {
      if (windows.size <= maxKeys) return;
      if (now - window.startedAt >= rule.windowMs) windows.delete(key);
    }
    for (const key of windows.keys()) {
      if (windows.size <= maxKeys) return;
      windows.delete(key);
    }
  }

  return {
    hit(key, now = Date.now()) {
      let window = current(key, now);
      if (window === undefined) {
        window = { startedAt: now, hits: 0 };
        windows.delete(key);
        windows.set(key, window);
        if (windows.size > maxKeys) forgetOldest(now);
      }
      window.hits += 1;
      return verdict(window, now);
    },
    peek(key, now = Date.now()) {
      const window = current(key, now);
      return window === undefined
        ? { allowed: true }
        : verdict({ ...window, hits: window.hits + 1 }, now);
    },
    get size() {
      return windows.size;
    },
  };
}
