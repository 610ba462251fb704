import { describe, expect, it } from 'vitest';

import { createAttemptBudget } from './attempt-budget.ts';
import { createRequestLimiter } from './request-limiter.ts';
import { VapixTransportError } from './vapix-error.ts';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('AttemptBudget', () => {
  it('allows three failures per ten minutes by default, then refuses reservations', () => {
    const budget = createAttemptBudget();
    for (let i = 0; i < 3; i++) budget.reserve('cam')?.fail();
    expect(budget.failures('cam')).toBe(3);
    expect(budget.reserve('cam')).toBeUndefined();
    expect(budget.remaining('other')).toBe(3);
  });

  it('forgets failures once they leave the window', () => {
    const time = clock();
    const budget = createAttemptBudget({ now: time.now, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) budget.recordFailure('cam');
    expect(budget.retryAfter('cam')).toBe(60_000);
    time.advance(60_001);
    expect(budget.remaining('cam')).toBe(3);
    expect(budget.reserve('cam')).toBeDefined();
  });

  it('counts reservations in flight so parallel attempts cannot overshoot', () => {
    const budget = createAttemptBudget({ maxFailures: 2 });
    const first = budget.reserve('cam');
    const second = budget.reserve('cam');
    expect(budget.reserve('cam')).toBeUndefined();
    first?.release();
    second?.fail();
    second?.release();
    expect(budget.failures('cam')).toBe(1);
    expect(budget.remaining('cam')).toBe(1);
  });

  it('locks a camera out for the block period and suspects later 403s', () => {
    const time = clock();
    const budget = createAttemptBudget({ now: time.now, blockPeriodMs: 10_000 });
    expect(budget.isBlockSuspected('cam')).toBe(false);
    budget.recordLockout('cam');
    expect(budget.lockedOutFor('cam')).toBe(10_000);
    time.advance(10_000);
    expect(budget.lockedOutFor('cam')).toBe(0);
    expect(budget.isBlockSuspected('cam')).toBe(true);
  });
});

describe('RequestLimiter', () => {
  it('admits two per camera and queues the rest in order', async () => {
    const limiter = createRequestLimiter();
    const order: number[] = [];
    const first = await limiter.acquire('cam');
    await limiter.acquire('cam');
    const third = limiter.acquire('cam').then((release) => {
      order.push(3);
      return release;
    });
    await limiter.acquire('other');
    expect(limiter.active('cam')).toBe(2);
    first();
    first();
    (await third)();
    expect(order).toEqual([3]);
    expect(limiter.active('cam')).toBe(1);
  });

  it('rejects a queued acquire when its signal aborts and drops it from the queue', async () => {
    const limiter = createRequestLimiter({ maxConcurrent: 1 });
    const release = await limiter.acquire('cam');
    const controller = new AbortController();
    const queued = limiter.acquire('cam', controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'VAPIX_ABORTED' });
    await expect(queued).rejects.toBeInstanceOf(VapixTransportError);
    release();
    expect(limiter.active('cam')).toBe(0);
  });
});
