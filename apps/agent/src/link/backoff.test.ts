import { describe, expect, it } from 'vitest';
import { backoffCeiling, createBackoff } from './backoff.ts';

function delays(backoff: { next(): number }, count: number): number[] {
  return Array.from({ length: count }, () => backoff.next());
}

describe('createBackoff', () => {
  it('doubles the ceiling on every failed attempt until the cap, then stays there', () => {
    const backoff = createBackoff({ baseMs: 100, capMs: 1_000, random: () => 0.5 });
    expect(delays(backoff, 7)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(backoff.attempt).toBe(7);
  });

  it('draws each delay anywhere between zero and the ceiling (full jitter)', () => {
    const draws = [0, 0.999_999, 0.25];
    const backoff = createBackoff({ baseMs: 1_000, capMs: 60_000, random: () => draws.shift()! });
    expect(delays(backoff, 3)).toEqual([0, 1_999, 1_000]);
  });

  it('never exceeds the cap nor overflows, however many attempts failed', () => {
    const backoff = createBackoff({ baseMs: 1_000, capMs: 60_000, random: () => 0.999 });
    const all = delays(backoff, 2_000);
    expect(Math.max(...all)).toBe(59_940);
    expect(all.every(Number.isFinite)).toBe(true);
    expect(backoffCeiling(5_000, 1_000, 60_000)).toBe(60_000);
  });

  it('starts over after a connection that stayed up for the stable period', () => {
    let now = 0;
    const backoff = createBackoff({
      baseMs: 100,
      capMs: 10_000,
      stableMs: 30_000,
      random: () => 0.5,
      now: () => now,
    });
    expect(delays(backoff, 4)).toEqual([50, 100, 200, 400]);
    backoff.succeeded();
    now += 29_999;
    expect(backoff.next()).toBe(800);
    backoff.succeeded();
    now += 30_000;
    expect(backoff.next()).toBe(50);
    expect(backoff.attempt).toBe(1);
  });

  it('keeps growing when connections are welcomed and dropped at once', () => {
    let now = 0;
    const backoff = createBackoff({
      baseMs: 100,
      capMs: 10_000,
      random: () => 0.5,
      now: () => now,
    });
    const seen: number[] = [];
    for (let index = 0; index < 4; index += 1) {
      backoff.succeeded();
      now += 1_000;
      seen.push(backoff.next());
    }
    expect(seen).toEqual([50, 100, 200, 400]);
  });

  it('goes back to the first ceiling on reset', () => {
    const backoff = createBackoff({ baseMs: 100, capMs: 1_000, random: () => 0.5 });
    delays(backoff, 5);
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });

  it('refuses a base above the cap or a non-positive base', () => {
    expect(() => createBackoff({ baseMs: 0 })).toThrow(RangeError);
    expect(() => createBackoff({ baseMs: 2_000, capMs: 1_000 })).toThrow(RangeError);
  });
});
