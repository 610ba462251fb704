import type { ActorKind } from '@custody/core';
import { memberships } from '@custody/db/schema';
import { asc, eq } from 'drizzle-orm';
import { appendAuditEvent } from './audit-log.ts';
import type { Executor } from './executor.ts';

/**
 * The organisation an account's own events (sign-in, sign-out, password change) are filed
 * under, so its admins and auditors see them: the user's first membership. Null for a user
 * without one.
 */
export async function homeOrgIdOf(db: Executor, userId: string): Promise<string | null> {
  const [first] = await db
    .select({ orgId: memberships.orgId })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt), asc(memberships.orgId))
    .limit(1);
  return first?.orgId ?? null;
}

/**
 * Records an event about a user account, in `tx`. The actor is the user unless given (a failed
 * sign-in is recorded by the system: nobody proved who tried).
 */
export async function appendAccountEvent(
  tx: Executor,
  input: {
    userId: string;
    action: string;
    actor?: { kind: ActorKind; id: string } | undefined;
    data?: Record<string, unknown> | undefined;
  },
): Promise<void> {
  await appendAuditEvent(tx, {
    orgId: await homeOrgIdOf(tx, input.userId),
    actor: input.actor ?? { kind: 'user', id: input.userId },
    action: input.action,
    subject: { kind: 'user', id: input.userId },
    data: input.data,
  });
}
