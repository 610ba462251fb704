import type { ApprovableAction } from '@custody/core';
import {
  agents,
  approvalDecisions,
  approvalGrants,
  approvalRequests,
  cameras,
  sites,
  users,
} from '@custody/db/schema';
import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Actor } from '../actor.ts';
import { hasRoleIn } from '../access.ts';
import type { Executor } from '../executor.ts';
import { findCurrentOwnership, type OwnershipRecordView } from '../ownership/ownership-records.ts';

export const APPROVAL_REQUEST_STATUSES = [
  'pending',
  'approved',
  'denied',
  'expired',
  'withdrawn',
] as const;
export type ApprovalRequestStatus = (typeof APPROVAL_REQUEST_STATUSES)[number];

export interface ApprovalDecisionView {
  approverId: string;
  approverName: string;
  decision: 'approve' | 'deny';
  reason: string;
  decidedAt: Date;
}

export interface ApprovalGrantView {
  id: string;
  issuedAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  usedByCommandId: string | null;
}

export interface ApprovalRequestView {
  id: string;
  caseId: string;
  serial: string;
  verb: ApprovableAction;
  reason: string;
  status: ApprovalRequestStatus;
  quorum: number;
  requestedAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  requestedBy: { id: string; name: string; email: string };
  camera: { model: string | null; productName: string | null; address: string | null };
  site: { id: string; name: string; address: string; ownerOrgId: string };
  agent: { id: string; name: string };
  decisions: ApprovalDecisionView[];
  /** The camera's current ownership record for the site owner, with its evidence. */
  ownership: OwnershipRecordView | null;
  grant: ApprovalGrantView | null;
  /** Whether the actor may approve or deny it now. */
  canDecide: boolean;
}

const requester = alias(users, 'requester');
const approver = alias(users, 'approver');

/** Requests matching `where`, newest first, with everything an approver needs to decide. */
export async function loadApprovalRequestViews(
  db: Executor,
  actor: Actor,
  where: SQL | undefined,
  limit = 200,
): Promise<ApprovalRequestView[]> {
  const rows = await db
    .select({
      request: approvalRequests,
      requester: { id: requester.id, name: requester.name, email: requester.email },
      camera: { model: cameras.model, productName: cameras.productName, address: cameras.address },
      site: {
        id: sites.id,
        name: sites.name,
        address: sites.address,
        ownerOrgId: sites.ownerOrgId,
      },
      agent: { id: agents.id, name: agents.name },
    })
    .from(approvalRequests)
    .innerJoin(sites, eq(sites.id, approvalRequests.siteId))
    .innerJoin(requester, eq(requester.id, approvalRequests.requestedBy))
    .innerJoin(agents, eq(agents.id, approvalRequests.agentId))
    .leftJoin(cameras, eq(cameras.serial, approvalRequests.serial))
    .where(where)
    .orderBy(desc(approvalRequests.requestedAt), desc(approvalRequests.id))
    .limit(limit);
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.request.id);
  const decisionRows = await db
    .select({
      requestId: approvalDecisions.requestId,
      approverId: approvalDecisions.approverId,
      approverName: approver.name,
      decision: approvalDecisions.decision,
      reason: approvalDecisions.reason,
      decidedAt: approvalDecisions.decidedAt,
    })
    .from(approvalDecisions)
    .innerJoin(approver, eq(approver.id, approvalDecisions.approverId))
    .where(inArray(approvalDecisions.requestId, ids))
    .orderBy(asc(approvalDecisions.decidedAt));
  const grantRows = await db
    .select()
    .from(approvalGrants)
    .where(and(inArray(approvalGrants.requestId, ids)));
  const ownershipBySerial = new Map<string, OwnershipRecordView | null>();
  const views: ApprovalRequestView[] = [];
  for (const row of rows) {
    const { request } = row;
    const key = `${request.serial}|${row.site.ownerOrgId}`;
    if (!ownershipBySerial.has(key)) {
      ownershipBySerial.set(
        key,
        await findCurrentOwnership(db, request.serial, row.site.ownerOrgId),
      );
    }
    const decisions = decisionRows
      .filter((decision) => decision.requestId === request.id)
      .map(({ requestId: _requestId, ...decision }) => decision);
    const grant = grantRows.find((candidate) => candidate.requestId === request.id);
    const status = request.status as ApprovalRequestStatus;
    views.push({
      id: request.id,
      caseId: request.caseId,
      serial: request.serial,
      verb: request.verb as ApprovableAction,
      reason: request.reason,
      status,
      quorum: request.quorum,
      requestedAt: request.requestedAt,
      expiresAt: request.expiresAt,
      decidedAt: request.decidedAt,
      requestedBy: row.requester,
      camera: row.camera ?? { model: null, productName: null, address: null },
      site: row.site,
      agent: row.agent,
      decisions,
      ownership: ownershipBySerial.get(key) ?? null,
      grant:
        grant === undefined
          ? null
          : {
              id: grant.id,
              issuedAt: grant.issuedAt,
              expiresAt: grant.expiresAt,
              usedAt: grant.usedAt,
              usedByCommandId: grant.usedByCommandId,
            },
      canDecide:
        status === 'pending' &&
        request.expiresAt.getTime() > Date.now() &&
        request.requestedBy !== actor.userId &&
        hasRoleIn(actor, row.site.ownerOrgId, ['owner-approver']) &&
        !decisions.some((decision) => decision.approverId === actor.userId),
    });
  }
  return views;
}
