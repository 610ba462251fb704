import { describe, expect, it } from 'vitest';
import { createWindowLimiter } from './window-limiter.ts';

describe('createWindowLimiter', () => {
  it('allows the limit per window, then says when to retry', () => {
    const limiter = createWindowLimiter({ limit: 3, windowMs: 60_000 });
    const at = 1_000_000;
    expect([1, 2, 3].map(() => limiter.hit('a', at).allowed)).toEqual([true, true, true]);
    expect(limiter.hit('a', at + 15_000)).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.hit('b', at + 15_000)).toEqual({ allowed: true });
    expect(limiter.hit('a', at + 60_000)).toEqual({ allowed: true });
  });

  it('peeks without counting', () => {
    const limiter = createWindowLimiter({ limit: 1, windowMs: 1_000 });
    expect(limiter.peek('a', 0)).toEqual({ allowed: true });
    limiter.hit('a', 0);
    expect(limiter.peek('a', 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.peek('a', 1_000)).toEqual({ allowed: true });
  });

  it('remembers a bounded number of keys, forgetting expired and then oldest windows', () => {
    const limiter = createWindowLimiter({ limit: 1, windowMs: 1_000 }, 3);
    for (const key of ['a', 'b', 'c', 'd']) limiter.hit(key, 0);
    expect(limiter.size).toBe(3);
    // 'a' was forgotten: it starts a new window.
    expect(limiter.hit('a', 10)).toEqual({ allowed: true });
    expect(limiter.hit('d', 10).allowed).toBe(false);
  });
});
