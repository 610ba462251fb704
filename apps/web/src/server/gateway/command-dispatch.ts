import { and, eq, gt, inArray, lte, or, sql } from 'drizzle-orm';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import { cancelCommandsForLostAccess, requesterMayAct } from './command-access.ts';
import type { StoredPayload } from './queue-command.ts';

const { commands } = schema;

/** A command claimed for sending by this process. */
export interface ClaimedCommand {
  id: string;
  payload: StoredPayload;
  secretsRef: Record<string, string> | null;
  queuedAt: Date;
}

export interface ClaimOptions {
  agentId: string;
  /** Written to claimed_by: which server process sent it. */
  processId: string;
  now: Date;
  /**
   * Also claim commands already sent but not acknowledged, if sent at or before this time: all
   * of them after a reconnect, the ones sent long ago while connected. Null: queued ones only.
   */
  resendBefore: Date | null;
  limit: number;
}

/**
 * Claims the agent's sendable commands, oldest first. `FOR UPDATE SKIP LOCKED` lets several
 * processes claim at once without waiting for or double-claiming each other's rows; the claim
 * commits before anything is sent, so a crash after it leaves a dispatched command that is sent
 * again on the agent's next connection (the agent runs a command id once).
 */
export async function claimCommands(
  db: Database,
  options: ClaimOptions,
): Promise<ClaimedCommand[]> {
  // A command whose requester lost access to the site (a revoked grant) is cancelled, not sent.
  await cancelCommandsForLostAccess(db, { agentId: options.agentId }, options.now);
  const sendable =
    options.resendBefore === null
      ? eq(commands.status, 'queued')
      : or(
          eq(commands.status, 'queued'),
          and(eq(commands.status, 'dispatched'), lte(commands.dispatchedAt, options.resendBefore)),
        );
  const candidates = db
    .select({ id: commands.id })
    .from(commands)
    .where(
      and(
        eq(commands.agentId, options.agentId),
        gt(commands.expiresAt, options.now),
        sendable,
        requesterMayAct(),
      ),
    )
    .orderBy(commands.queuedAt)
    .limit(options.limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(commands)
    .set({
      status: 'dispatched',
      claimedBy: options.processId,
      claimedAt: options.now,
      dispatchedAt: options.now,
      dispatchCount: sql`${commands.dispatchCount} + 1`,
    })
    .where(inArray(commands.id, candidates))
    .returning({
      id: commands.id,
      payload: commands.payload,
      secretsRef: commands.secretsRef,
      queuedAt: commands.queuedAt,
    });
  return claimed
    .map((row) => ({
      id: row.id,
      payload: row.payload as StoredPayload,
      secretsRef: row.secretsRef as Record<string, string> | null,
      queuedAt: row.queuedAt,
    }))
    .sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
}

/** Ends a claimed command that cannot be sent; the agent never saw it. */
export async function failUnsentCommand(
  db: Database,
  commandId: string,
  error: { code: string; message: string },
): Promise<void> {
  await db
    .update(commands)
    .set({ status: 'failed', error, completedAt: new Date() })
    .where(and(eq(commands.id, commandId), eq(commands.status, 'dispatched')));
}

/** Agents among `agentIds` with something to send now (queued, or sent before `resendBefore`). */
export async function agentsWithSendableCommands(
  db: Database,
  agentIds: readonly string[],
  now: Date,
  resendBefore: Date,
): Promise<string[]> {
  if (agentIds.length === 0) return [];
  const rows = await db
    .selectDistinct({ agentId: commands.agentId })
    .from(commands)
    .where(
      and(
        inArray(commands.agentId, [...agentIds]),
        gt(commands.expiresAt, now),
        or(
          eq(commands.status, 'queued'),
          and(eq(commands.status, 'dispatched'), lte(commands.dispatchedAt, resendBefore)),
        ),
      ),
    );
  return rows.map((row) => row.agentId);
}

/**
 * Commands that were never acknowledged before they expired. An acknowledged command is left
 * alone: the agent has it and reports how it ends.
 */
export async function expireCommands(
  db: Database,
  now: Date,
): Promise<{ id: string; agentId: string }[]> {
  return db
    .update(commands)
    .set({
      status: 'expired',
      error: { code: 'expired', message: 'The command expired before the agent acknowledged it.' },
    })
    .where(and(inArray(commands.status, ['queued', 'dispatched']), lte(commands.expiresAt, now)))
    .returning({ id: commands.id, agentId: commands.agentId });
}
