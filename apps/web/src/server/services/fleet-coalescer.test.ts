import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCoalescer, type CoalescedBatch } from './fleet-coalescer.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settles the promise's state without advancing time. */
async function stateOf<T>(promise: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let settled: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => {
    settled = { done: true, value };
  });
  await vi.advanceTimersByTimeAsync(0);
  return settled;
}

describe('createCoalescer', () => {
  it('sends the latest value per key once the window since the first update has passed', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 250, maxPending: 100 });
    const batch = coalescer.next();
    coalescer.push('camera:A', 'A offline');
    await vi.advanceTimersByTimeAsync(100);
    coalescer.push('camera:B', 'B seen');
    coalescer.push('camera:A', 'A online');
    expect((await stateOf(batch)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(149);
    expect((await stateOf(batch)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await batch).toEqual({ type: 'items', items: ['A online', 'B seen'] });
    expect(coalescer.size).toBe(0);
  });

  it('keeps merging while the consumer is busy and hands everything over when it asks', async () => {
    const coalescer = createCoalescer<number>({ windowMs: 250, maxPending: 100 });
    for (let i = 0; i < 50; i++) {
      coalescer.push(`camera:${i % 5}`, i);
      await vi.advanceTimersByTimeAsync(20);
    }
    // A second after the first update, nobody asked yet: five keys, their last values.
    expect(coalescer.size).toBe(5);
    expect(await coalescer.next()).toEqual({ type: 'items', items: [45, 46, 47, 48, 49] });
  });

  it('starts a new window after each batch', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 250, maxPending: 100 });
    coalescer.push('a', 'first');
    await vi.advanceTimersByTimeAsync(250);
    expect(await coalescer.next()).toEqual({ type: 'items', items: ['first'] });
    const second = coalescer.next();
    await vi.advanceTimersByTimeAsync(1_000);
    coalescer.push('a', 'second');
    await vi.advanceTimersByTimeAsync(249);
    expect((await stateOf(second)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toEqual({ type: 'items', items: ['second'] });
  });

  it('with no window, sends at once but still merges what arrives while the consumer is busy', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 0, maxPending: 100 });
    const waiting = coalescer.next();
    coalescer.push('a', 'one');
    expect(await waiting).toEqual({ type: 'items', items: ['one'] });
    coalescer.push('a', 'two');
    coalescer.push('a', 'three');
    expect(await coalescer.next()).toEqual({ type: 'items', items: ['three'] });
  });

  it('replaces a backlog too large to send with one resync, then carries on', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 250, maxPending: 3 });
    for (const key of ['a', 'b', 'c']) coalescer.push(key, key);
    expect(coalescer.size).toBe(3);
    coalescer.push('a', 'a again');
    expect(coalescer.size).toBe(3);
    coalescer.push('d', 'd');
    // Nothing silently lost: the consumer learns at once that it must reload.
    expect(coalescer.size).toBe(0);
    const pushedAfterOverflowBeforeDelivery = 'e';
    coalescer.push(pushedAfterOverflowBeforeDelivery, 'e');
    expect(await coalescer.next()).toEqual({ type: 'resync' });
    coalescer.push('f', 'f');
    await vi.advanceTimersByTimeAsync(250);
    expect(await coalescer.next()).toEqual({ type: 'items', items: ['f'] });
  });

  it('wakes a waiting consumer with a resync at once', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 10_000, maxPending: 10 });
    const waiting = coalescer.next();
    coalescer.push('a', 'a');
    coalescer.resync();
    expect((await stateOf(waiting)).value).toEqual({ type: 'resync' });
  });

  it('ends the consumer on close or abort', async () => {
    const coalescer = createCoalescer<string>({ windowMs: 250, maxPending: 10 });
    const controller = new AbortController();
    const aborted = coalescer.next(controller.signal);
    controller.abort();
    expect(await aborted).toBeNull();
    const closed = coalescer.next();
    coalescer.push('a', 'a');
    coalescer.close();
    expect(await closed).toBeNull();
    coalescer.push('b', 'b');
    expect(coalescer.size).toBe(0);
    expect(await coalescer.next()).toBeNull();
  });

  it('delivers every key of a long burst exactly once, as its last value', async () => {
    const coalescer = createCoalescer<{ key: string; version: number }>({
      windowMs: 250,
      maxPending: 1_000,
    });
    const received = new Map<string, number>();
    const batches: CoalescedBatch<{ key: string; version: number }>[] = [];
    const consumer = (async () => {
      for (;;) {
        const batch = await coalescer.next();
        if (batch === null) return;
        batches.push(batch);
        if (batch.type === 'items') {
          for (const item of batch.items) received.set(item.key, item.version);
        }
      }
    })();
    for (let version = 1; version <= 40; version++) {
      for (let camera = 0; camera < 20; camera++) {
        coalescer.push(`camera:${camera}`, { key: `camera:${camera}`, version });
      }
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(250);
    coalescer.close();
    await consumer;
    expect(batches.every((batch) => batch.type === 'items')).toBe(true);
    // Two seconds of updates at 250 ms windows: about eight batches, not 800 messages.
    expect(batches.length).toBeGreaterThanOrEqual(7);
    expect(batches.length).toBeLessThanOrEqual(9);
    expect(received.size).toBe(20);
    expect([...received.values()].every((version) => version === 40)).toBe(true);
  });
});
