import type { DatabaseHandle } from '@custody/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../test-support/world.ts';
import { accountKey, clearThrottle, hitThrottle, peekThrottle } from './login-throttle.ts';

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

const rule = { limit: 3, windowSeconds: 60 };
const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 12, 0, seconds));

describe('the sign-in throttle', () => {
  it('allows the limit, refuses the next hit until the window ends, then starts afresh', async () => {
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await hitThrottle(handle.db, 'k1', rule, at(i)));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
    expect(verdicts[3]).toEqual({ allowed: false, retryAfterSeconds: 57 });
    expect(await peekThrottle(handle.db, 'k1', rule, at(30))).toMatchObject({ allowed: false });
    expect(await hitThrottle(handle.db, 'k1', rule, at(60))).toEqual({ allowed: true });
    expect(await peekThrottle(handle.db, 'k1', rule, at(61))).toEqual({ allowed: true });
  });

  it('counts concurrent hits exactly once each', async () => {
    const verdicts = await Promise.all(
      Array.from({ length: 6 }, () => hitThrottle(handle.db, 'k2', rule, at(0))),
    );
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(3);
  });

  it('peeks without counting, and forgets a key once cleared', async () => {
    for (let i = 0; i < 5; i++) await peekThrottle(handle.db, 'k3', rule, at(i));
    expect(await hitThrottle(handle.db, 'k3', rule, at(5))).toEqual({ allowed: true });
    for (let i = 0; i < 3; i++) await hitThrottle(handle.db, 'k3', rule, at(6));
    await clearThrottle(handle.db, 'k3');
    expect(await peekThrottle(handle.db, 'k3', rule, at(7))).toEqual({ allowed: true });
  });

  it('keys accounts by their e-mail whatever its case', () => {
    expect(accountKey(' Admin@Example.TEST ')).toBe(accountKey('admin@example.test'));
  });
});
