import { and, eq, inArray, isNotNull, isNull, not, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '@custody/db';
import { agents, commands, memberships, siteGrants, sites } from '@custody/db/schema';
import { notifyCommandQueued, notifyFleet } from './notifications.ts';

type Operand = SQL | AnyPgColumn | string;

/** The error a command cancelled for its requester's lost access carries. */
export const ACCESS_REVOKED_ERROR = {
  code: 'access-revoked',
  message:
    'Cancelled before it was sent: the person who asked for it no longer has access to the site.',
} as const;

/**
 * SQL: the user may act at the site, as a member of the organisation that owns it or of an
 * integrator holding a grant on it that is not revoked. The rule of access.ts's
 * accessibleSitesCondition, read from the memberships in the database when the statement runs
 * (not from a loaded actor), so a revocation committed a moment ago already counts.
 */
export function userReachesSite(userId: Operand, siteId: Operand): SQL {
  return sql`exists (select 1 from ${memberships} where ${memberships.userId} = ${userId} and (${memberships.orgId} = (select ${sites.ownerOrgId} from ${sites} where ${sites.id} = ${siteId}) or exists (select 1 from ${siteGrants} where ${siteGrants.siteId} = ${siteId} and ${siteGrants.integratorOrgId} = ${memberships.orgId} and ${siteGrants.revokedAt} is null)))`;
}

/** SQL on `commands`: the command's agent site. */
const commandSite = sql`(select ${agents.siteId} from ${agents} where ${agents.id} = ${commands.agentId})`;

/**
 * SQL on `commands`: whoever asked for the command may still act at its agent's site. Commands
 * the system or an agent queued (no requester) always may.
 */
export function requesterMayAct(): SQL {
  return or(isNull(commands.requestedBy), userReachesSite(commands.requestedBy, commandSite))!;
}

export interface CancelForLostAccessScope {
  /** Commands of this agent… */
  agentId?: string | undefined;
  /** …or of the agents of this site… */
  siteId?: string | undefined;
  /** …requested by a member of this organisation (the integrator whose grant was revoked). */
  requesterOrgId?: string | undefined;
}

/**
 * Cancels the commands not yet acknowledged whose requester can no longer act at the agent's
 * site, tells live views, and wakes the processes holding those agents so a dispatch run in
 * flight starts over without them. Inside a transaction, the NOTIFYs go out on commit.
 */
export async function cancelCommandsForLostAccess(
  db: Database,
  scope: CancelForLostAccessScope,
  now: Date = new Date(),
): Promise<{ id: string; agentId: string }[]> {
  const cancelled = await db
    .update(commands)
    .set({ status: 'cancelled', completedAt: now, error: ACCESS_REVOKED_ERROR })
    .where(
      and(
        inArray(commands.status, ['queued', 'dispatched']),
        scope.agentId === undefined ? undefined : eq(commands.agentId, scope.agentId),
        scope.siteId === undefined
          ? undefined
          : inArray(
              commands.agentId,
              db.select({ id: agents.id }).from(agents).where(eq(agents.siteId, scope.siteId)),
            ),
        scope.requesterOrgId === undefined
          ? undefined
          : inArray(
              commands.requestedBy,
              db
                .select({ userId: memberships.userId })
                .from(memberships)
                .where(eq(memberships.orgId, scope.requesterOrgId)),
            ),
        isNotNull(commands.requestedBy),
        not(requesterMayAct()),
      ),
    )
    .returning({ id: commands.id, agentId: commands.agentId });
  for (const command of cancelled) {
    await notifyFleet(db, {
      event: 'command',
      agentId: command.agentId,
      commandId: command.id,
      finished: true,
    });
  }
  for (const agentId of new Set(cancelled.map((command) => command.agentId))) {
    await notifyCommandQueued(db, agentId);
  }
  return cancelled;
}

/**
 * Just before a claimed command is sent: whether it is still this process's to send, and its
 * requester may still act at the site. A command whose requester lost access meanwhile is
 * cancelled here instead of sent.
 */
export async function confirmSendable(db: Database, commandId: string): Promise<boolean> {
  const [row] = await db
    .select({
      status: commands.status,
      agentId: commands.agentId,
      allowed: sql<boolean>`${requesterMayAct()}`,
    })
    .from(commands)
    .where(eq(commands.id, commandId));
  if (row === undefined || row.status !== 'dispatched') return false;
  if (row.allowed) return true;
  const cancelled = await db
    .update(commands)
    .set({ status: 'cancelled', completedAt: new Date(), error: ACCESS_REVOKED_ERROR })
    .where(and(eq(commands.id, commandId), eq(commands.status, 'dispatched')))
    .returning({ id: commands.id });
  if (cancelled.length > 0) {
    await notifyFleet(db, { event: 'command', agentId: row.agentId, commandId, finished: true });
  }
  return false;
}
