import {
  ApprovableActionSchema,
  createApprovalRefusalError,
  useGrant,
  type ActorKind,
  type ExecutableGrant,
} from '@custody/core';
import { approvalDecisions, approvalGrants } from '@custody/db/schema';
import { and, eq, isNull } from 'drizzle-orm';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';

export interface GrantScope {
  serial: string;
  /** The approved action: factory-default-soft, factory-default-hard or guided-button-reset. */
  verb: string;
  siteId: string;
  agentId: string;
  /** Who uses it, for the audit log. */
  actor: { kind: ActorKind; id: string };
  /** The organisation acted for (audit); null for system use. */
  orgId?: string | null | undefined;
  /** The command it is spent on, when there is one (guided resets have none). */
  commandId?: string | null | undefined;
  now?: Date | undefined;
}

/**
 * Spends a grant inside `tx`, with the same rules the command queue applies: it must exist, be
 * unused and unexpired, and match serial, verb, site and agent exactly (core's useGrant). The
 * row is locked, so two callers cannot both spend it. Refusals throw approval-refused with core's
 * refusal code in details; the caller's transaction rolls back with them. For actions that are not
 * agent verbs (the guided control-button reset), this is the consumption point.
 */
export async function consumeGrant(
  tx: Executor,
  grantId: string,
  scope: GrantScope,
): Promise<ExecutableGrant & { id: string }> {
  const now = scope.now ?? new Date();
  const [row] = await tx
    .select()
    .from(approvalGrants)
    .where(eq(approvalGrants.id, grantId))
    .for('update');
  let grant: ExecutableGrant | null = null;
  if (row !== undefined) {
    const approvers = await tx
      .select({ approverId: approvalDecisions.approverId })
      .from(approvalDecisions)
      .where(
        and(
          eq(approvalDecisions.requestId, row.requestId),
          eq(approvalDecisions.decision, 'approve'),
        ),
      );
    grant = {
      requestId: row.requestId,
      serial: row.serial,
      verb: ApprovableActionSchema.parse(row.verb),
      siteId: row.siteId,
      agentId: row.agentId,
      approvedBy: approvers.map((approver) => approver.approverId),
      issuedAt: row.issuedAt,
      expiresAt: row.expiresAt,
      usedAt: row.usedAt,
    };
  }
  const used = useGrant(grant, {
    serial: scope.serial,
    verb: scope.verb,
    siteId: scope.siteId,
    agentId: scope.agentId,
    now,
  });
  if (!used.ok) throw createApprovalRefusalError(used.error);
  const [spent] = await tx
    .update(approvalGrants)
    .set({ usedAt: now, usedByCommandId: scope.commandId ?? null })
    .where(and(eq(approvalGrants.id, grantId), isNull(approvalGrants.usedAt)))
    .returning({ id: approvalGrants.id });
  if (!spent) {
    throw createApprovalRefusalError({
      code: 'used',
      reason: 'The approval has already been used; each approval runs one command.',
    });
  }
  await appendAuditEvent(tx, {
    orgId: scope.orgId ?? null,
    siteId: used.value.siteId,
    actor: scope.actor,
    action: 'approval.grant-used',
    subject: { kind: 'approval-grant', id: grantId },
    data: {
      requestId: used.value.requestId,
      serial: used.value.serial,
      verb: used.value.verb,
      agentId: used.value.agentId,
      commandId: scope.commandId ?? null,
    },
  });
  return { ...used.value, id: grantId };
}
