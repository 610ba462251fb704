import type { Database } from '@custody/db';
import { authRateLimits } from '@custody/db/schema';
import { eq, sql } from 'drizzle-orm';

export interface ThrottleRule {
  /** Hits allowed in one window. */
  limit: number;
  windowSeconds: number;
}

/** Every sign-in attempt from one client address. */
export const ADDRESS_RULE: ThrottleRule = { limit: 30, windowSeconds: 10 * 60 };
/** Failed password checks for one account, from anywhere. */
export const ACCOUNT_RULE: ThrottleRule = { limit: 5, windowSeconds: 15 * 60 };

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function addressKey(address: string): string {
  return `sign-in:address:${address}`;
}

export function accountKey(email: string): string {
  return `sign-in:account:${email.trim().toLowerCase()}`;
}

function verdict(
  hits: number,
  windowStartedAt: Date,
  rule: ThrottleRule,
  now: Date,
): ThrottleVerdict {
  if (hits <= rule.limit) return { allowed: true };
  const endsAt = windowStartedAt.getTime() + rule.windowSeconds * 1000;
  return {
    allowed: false,
    retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)),
  };
}

/**
 * Counts one hit against `key` and says whether it is within the rule. One atomic upsert, so
 * concurrent requests in several processes cannot both slip under the limit.
 */
export async function hitThrottle(
  db: Database,
  key: string,
  rule: ThrottleRule,
  now: Date = new Date(),
): Promise<ThrottleVerdict> {
  const windowStart = new Date(now.getTime() - rule.windowSeconds * 1000);
  const expired = sql`${authRateLimits.windowStartedAt} <= ${windowStart.toISOString()}::timestamptz`;
  const [row] = await db
    .insert(authRateLimits)
    .values({ key, hits: 1, windowStartedAt: now })
    .onConflictDoUpdate({
      target: authRateLimits.key,
      set: {
        hits: sql`case when ${expired} then 1 else ${authRateLimits.hits} + 1 end`,
        windowStartedAt: sql`case when ${expired} then excluded.window_started_at else ${authRateLimits.windowStartedAt} end`,
      },
    })
    .returning({ hits: authRateLimits.hits, windowStartedAt: authRateLimits.windowStartedAt });
  if (!row) throw new Error(`The throttle upsert for ${key} returned no row`);
  return verdict(row.hits, row.windowStartedAt, rule, now);
}

/** Whether `key` is already over the rule, without counting a hit. */
export async function peekThrottle(
  db: Database,
  key: string,
  rule: ThrottleRule,
  now: Date = new Date(),
): Promise<ThrottleVerdict> {
  const [row] = await db.select().from(authRateLimits).where(eq(authRateLimits.key, key));
  if (!row) return { allowed: true };
  if (row.windowStartedAt.getTime() <= now.getTime() - rule.windowSeconds * 1000) {
    return { allowed: true };
  }
  // A peek is refused once the limit is reached: the next hit would be over it.
  return verdict(row.hits + 1, row.windowStartedAt, rule, now);
}

export async function clearThrottle(db: Database, key: string): Promise<void> {
  await db.delete(authRateLimits).where(eq(authRateLimits.key, key));
}
