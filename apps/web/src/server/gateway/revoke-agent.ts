import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Database } from '@custody/db';
import { agents, commands } from '@custody/db/schema';
import { appendAuditEvent } from '../services/audit-log.ts';
import { notifyAgent, notifyCommandsChanged, notifyFleet } from './notifications.ts';

export interface RevokeAgentInput {
  agentId: string;
  revokedBy: string | null;
  /** The organisation the revoking user acts for, for the audit log. */
  orgId?: string | null | undefined;
}

/**
 * Revokes an agent: it is refused from now on, the process holding its connection closes it at
 * once (4003, on every process: the NOTIFY goes out on commit), and its unfinished commands are
 * cancelled; the audit log records it in the same transaction. Returns false when the agent does
 * not exist or was already revoked.
 */
export async function revokeAgent(db: Database, input: RevokeAgentInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [agent] = await tx
      .update(agents)
      .set({
        revokedAt: new Date(),
        revokedBy: input.revokedBy,
        status: 'revoked',
        sessionId: null,
      })
      .where(and(eq(agents.id, input.agentId), isNull(agents.revokedAt)))
      .returning({ id: agents.id, siteId: agents.siteId });
    if (agent === undefined) return false;
    const cancelled = await tx
      .update(commands)
      .set({
        status: 'cancelled',
        completedAt: new Date(),
        error: {
          code: 'agent-revoked',
          message: 'The agent was revoked before the command finished.',
        },
      })
      .where(
        and(
          eq(commands.agentId, agent.id),
          inArray(commands.status, ['queued', 'dispatched', 'acknowledged']),
        ),
      )
      .returning({ id: commands.id });
    await appendAuditEvent(tx, {
      orgId: input.orgId ?? null,
      siteId: agent.siteId,
      actor:
        input.revokedBy === null
          ? { kind: 'system', id: 'custody' }
          : { kind: 'user', id: input.revokedBy },
      action: 'agent.revoked',
      subject: { kind: 'agent', id: agent.id },
      data: { cancelledCommands: cancelled.length },
    });
    await notifyAgent(tx, { event: 'revoked', agentId: agent.id });
    // The cases and rotations waiting on these commands move on now, not at their next sweep.
    await notifyCommandsChanged(
      tx,
      cancelled.map((command) => ({ agentId: agent.id, commandId: command.id })),
      true,
    );
    await notifyFleet(tx, {
      event: 'agent-status',
      agentId: agent.id,
      siteId: agent.siteId,
      status: 'revoked',
    });
    return true;
  });
}
