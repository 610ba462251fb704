import { describe, expect, it } from 'vitest';
import { createKeyedLock, createSlots } from './keyed-lock.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createKeyedLock', () => {
  it('grants one key to one holder at a time, in arrival order', async () => {
    const lock = createKeyedLock();
    const order: string[] = [];
    const first = await lock.acquire('cam');
    const waiting = ['b', 'c'].map(async (name) => {
      const release = await lock.acquire('cam');
      order.push(name);
      release();
    });
    await tick();
    expect(order).toEqual([]);
    expect(lock.isBusy('cam')).toBe(true);
    first();
    await Promise.all(waiting);
    expect(order).toEqual(['b', 'c']);
    expect(lock.isBusy('cam')).toBe(false);
  });

  it('lets different keys proceed independently, and a double release frees only once', async () => {
    const lock = createKeyedLock();
    const a = await lock.acquire('a');
    const b = await lock.acquire('b');
    a();
    a();
    const again = lock.acquire('a');
    const third = lock.acquire('a');
    let thirdGranted = false;
    void third.then(() => {
      thirdGranted = true;
    });
    (await again)();
    await tick();
    expect(thirdGranted).toBe(true);
    b();
  });
});

describe('createSlots', () => {
  it('admits at most its capacity and serves the rest in order', async () => {
    const slots = createSlots(2);
    const one = await slots.acquire();
    await slots.acquire();
    expect(slots.full).toBe(true);
    let granted = false;
    const next = slots.acquire().then((release) => {
      granted = true;
      return release;
    });
    await tick();
    expect(granted).toBe(false);
    one();
    (await next)();
    expect(granted).toBe(true);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => createSlots(0)).toThrow(RangeError);
  });
});
