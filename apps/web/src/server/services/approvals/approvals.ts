import {
  ApprovableActionSchema,
  DEFAULT_APPROVAL_REQUEST_TTL_MS,
  DEFAULT_GRANT_TTL_MS,
  DomainError,
  checkApprovalDecision,
  checkApprovalRequest,
  createApprovalRefusalError,
  evaluateApproval,
  type ApprovalDecision,
  type ApprovalRefusal,
  type ApprovalRequest,
  type Membership,
} from '@custody/core';
import type { Database } from '@custody/db';
import {
  agents,
  approvalDecisions,
  approvalGrants,
  approvalRequests,
  cameras,
  memberships,
  sites,
} from '@custody/db/schema';
import { and, count, eq, gt, inArray, lte, ne, notExists, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  accessibleSitesCondition,
  grantedIntegratorOrgIds,
  orgIdsOf,
  requireAccessibleSite,
} from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import { applyCaseEvent, getCase, lockCase } from '../cases/case-store.ts';
import type { Executor } from '../executor.ts';
import { findCurrentOwnership } from '../ownership/ownership-records.ts';
import {
  loadApprovalRequestViews,
  type ApprovalRequestStatus,
  type ApprovalRequestView,
} from './approval-views.ts';

export interface ApprovalTtls {
  /** How long a request may wait for its decisions; core's default (a day) when omitted. */
  requestTtlMs?: number | undefined;
  /** How long a met quorum may wait to be used; core's default (15 minutes) when omitted. */
  grantTtlMs?: number | undefined;
}

const ReasonSchema = z
  .string()
  .trim()
  .min(1, 'A reason is required.')
  .max(2000, 'Keep the reason under 2000 characters.');

export const RequestApprovalInputSchema = z.object({
  caseId: z.uuid(),
  verb: ApprovableActionSchema,
  reason: ReasonSchema,
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

export const DecideApprovalInputSchema = z.object({
  requestId: z.uuid(),
  decision: z.enum(['approve', 'deny']),
  reason: ReasonSchema,
});
export type DecideApprovalInput = z.infer<typeof DecideApprovalInputSchema>;

export const WithdrawApprovalInputSchema = z.object({
  requestId: z.uuid(),
  reason: ReasonSchema,
});
export type WithdrawApprovalInput = z.infer<typeof WithdrawApprovalInputSchema>;

type RequestRow = typeof approvalRequests.$inferSelect;

function userActor(actor: Actor) {
  return { kind: 'user' as const, id: actor.userId };
}

function toCoreRequest(row: RequestRow): ApprovalRequest {
  return {
    id: row.id,
    serial: row.serial,
    verb: ApprovableActionSchema.parse(row.verb),
    siteId: row.siteId,
    agentId: row.agentId,
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt,
    reason: row.reason,
  };
}

/** The TTL the row was created with, so core judges expiry by the stored expires_at. */
function ttlOf(row: RequestRow): number {
  return row.expiresAt.getTime() - row.requestedAt.getTime();
}

function conflict(message: string, reason: string, details: Record<string, unknown> = {}) {
  return new DomainError('conflict', message, { details: { reason, ...details } });
}

/**
 * Marks every pending request whose time ran out as expired, auditing each. Cheap (a partial
 * index covers pending requests) and safe to run from several processes at once: each row is
 * updated, and audited, by exactly one of them.
 */
export async function expireApprovalRequests(db: Database, now = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const expired = await tx
      .update(approvalRequests)
      .set({ status: 'expired', decidedAt: sql`${approvalRequests.expiresAt}` })
      .where(and(eq(approvalRequests.status, 'pending'), lte(approvalRequests.expiresAt, now)))
      .returning();
    for (const row of expired) {
      await appendAuditEvent(tx, {
        orgId: null,
        siteId: row.siteId,
        actor: { kind: 'system', id: 'custody' },
        action: 'approval.expired',
        subject: { kind: 'approval-request', id: row.id },
        data: { caseId: row.caseId, serial: row.serial, verb: row.verb },
      });
    }
    return expired.length;
  });
}

/**
 * A technician (or integrator admin) of an integrator granted the case's site asks the site
 * owner's approvers for one destructive action on the case's camera. The request is bound to the
 * camera's serial, the verb, the site and the agent that reports the camera, snapshots the site's
 * quorum and expires. It needs a current ownership record; a pending earlier request of the case
 * is withdrawn by it.
 */
export async function requestApproval(
  db: Database,
  actor: Actor,
  input: RequestApprovalInput,
  ttls: ApprovalTtls = {},
): Promise<ApprovalRequestView> {
  const found = await getCase(db, input.caseId);
  if (found === null) {
    throw new DomainError('not-found', 'No such case.', { details: { caseId: input.caseId } });
  }
  const site = await requireAccessibleSite(db, actor, found.siteId).catch((error: unknown) => {
    throw new DomainError('not-found', 'No such case.', {
      cause: error,
      details: { caseId: input.caseId },
    });
  });
  const [actingOrgId] = await grantedIntegratorOrgIds(db, actor, site.id, [
    'technician',
    'integrator-admin',
  ]);
  if (actingOrgId === undefined) {
    throw new DomainError(
      'forbidden',
      "Only a technician or admin of an integrator working on the case's site can request an approval.",
    );
  }
  const requestTtlMs = ttls.requestTtlMs ?? DEFAULT_APPROVAL_REQUEST_TTL_MS;

  const requestId = await db.transaction(async (tx) => {
    const current = await lockCase(tx, input.caseId);
    if (current.state.status !== 'awaiting-approval') {
      throw new DomainError(
        'invalid-transition',
        `The case is ${current.state.status}, not waiting for an approval.`,
        { details: { from: current.state.status, event: 'approval-requested' } },
      );
    }
    const ownership = await findCurrentOwnership(tx, current.serial, site.ownerOrgId);
    if (ownership === null) {
      throw conflict(
        "Record the camera's ownership (owner, evidence, attestation) before requesting an approval.",
        'ownership-missing',
        { serial: current.serial },
      );
    }
    const [camera] = await tx
      .select({
        siteId: cameras.siteId,
        agentId: agents.id,
        agentSiteId: agents.siteId,
        agentRevokedAt: agents.revokedAt,
      })
      .from(cameras)
      .leftJoin(agents, eq(agents.id, cameras.agentId))
      .where(eq(cameras.serial, current.serial));
    if (camera === undefined || camera.siteId !== current.siteId) {
      throw conflict('The camera is no longer registered to the case’s site.', 'camera-moved');
    }
    if (
      camera.agentId === null ||
      camera.agentSiteId !== current.siteId ||
      camera.agentRevokedAt !== null
    ) {
      throw conflict(
        'No active agent of the site reports this camera, so an approval could not be bound to one.',
        'no-agent',
      );
    }

    const now = new Date();
    const candidate: ApprovalRequest = {
      id: crypto.randomUUID(),
      serial: current.serial,
      verb: input.verb,
      siteId: current.siteId,
      agentId: camera.agentId,
      requestedBy: actor.userId,
      requestedAt: now,
      reason: input.reason,
    };
    const check = checkApprovalRequest(candidate, now, { requestTtlMs });
    if (!check.ok) throw createApprovalRefusalError(check.error);

    const withdrawn = await tx
      .update(approvalRequests)
      .set({ status: 'withdrawn', decidedAt: now })
      .where(and(eq(approvalRequests.caseId, current.id), eq(approvalRequests.status, 'pending')))
      .returning({ id: approvalRequests.id });
    for (const earlier of withdrawn) {
      await appendAuditEvent(tx, {
        orgId: actingOrgId,
        siteId: current.siteId,
        actor: userActor(actor),
        action: 'approval.withdrawn',
        subject: { kind: 'approval-request', id: earlier.id },
        data: {
          caseId: current.id,
          reason: 'Replaced by a new request.',
          replacedBy: candidate.id,
        },
      });
    }

    const expiresAt = new Date(now.getTime() + requestTtlMs);
    await tx.insert(approvalRequests).values({
      id: candidate.id,
      caseId: current.id,
      serial: candidate.serial,
      verb: candidate.verb,
      siteId: candidate.siteId,
      agentId: candidate.agentId,
      requestedBy: candidate.requestedBy,
      reason: input.reason,
      status: 'pending',
      quorum: site.approvalQuorum,
      requestedAt: now,
      expiresAt,
    });
    await appendAuditEvent(tx, {
      orgId: actingOrgId,
      siteId: current.siteId,
      actor: userActor(actor),
      action: 'approval.requested',
      subject: { kind: 'approval-request', id: candidate.id },
      data: {
        caseId: current.id,
        serial: candidate.serial,
        verb: candidate.verb,
        siteId: candidate.siteId,
        agentId: candidate.agentId,
        quorum: site.approvalQuorum,
        ownershipRecordId: ownership.id,
        reason: input.reason,
        expiresAt: expiresAt.toISOString(),
      },
    });
    await applyCaseEvent(tx, {
      caseId: current.id,
      event: { type: 'approval-requested', requestId: candidate.id },
      actor: userActor(actor),
      orgId: actingOrgId,
      details: (details) => ({
        ...details,
        approvalRequestId: candidate.id,
        approvalGrantId: null,
      }),
    });
    return candidate.id;
  });
  return requireRequestView(db, actor, requestId);
}

async function requireRequestView(
  db: Executor,
  actor: Actor,
  requestId: string,
): Promise<ApprovalRequestView> {
  const [view] = await loadApprovalRequestViews(
    db,
    actor,
    and(eq(approvalRequests.id, requestId), accessibleSitesCondition(db, actor)),
    1,
  );
  if (!view) throw new DomainError('not-found', 'No such approval request.');
  return view;
}

type DecisionOutcome =
  { kind: 'refused'; refusal: ApprovalRefusal } | { kind: 'decided'; requestId: string };

async function membershipsOf(
  tx: Executor,
  userIds: string[],
  orgId: string,
): Promise<Membership[]> {
  if (userIds.length === 0) return [];
  const rows = await tx
    .select({ userId: memberships.userId, orgId: memberships.orgId, role: memberships.role })
    .from(memberships)
    .where(and(inArray(memberships.userId, userIds), eq(memberships.orgId, orgId)));
  return rows;
}

const STATUS_REFUSALS: Record<Exclude<ApprovalRequestStatus, 'pending'>, ApprovalRefusal> = {
  approved: { code: 'already-decided', reason: 'The request has already been approved.' },
  denied: { code: 'already-decided', reason: 'The request has already been denied.' },
  withdrawn: {
    code: 'already-decided',
    reason: 'The request was withdrawn; only a new request can be decided.',
  },
  expired: {
    code: 'request-expired',
    reason: 'The request expired before it was decided; request again.',
  },
};

/**
 * An owner approver approves or denies a request, with a reason. Core's policy decides whether
 * the decision counts (no self-approval, only approvers of the site's owner, in time). The
 * decision that completes the quorum issues a single-use grant and approves the case, all in one
 * transaction; a denial denies the case. A refused decision is audited with core's refusal code
 * and reported as an approval-refused error naming it.
 */
export async function decideApproval(
  db: Database,
  actor: Actor,
  input: DecideApprovalInput,
  ttls: ApprovalTtls = {},
): Promise<ApprovalRequestView> {
  const [visible] = await db
    .select({ id: approvalRequests.id, caseId: approvalRequests.caseId })
    .from(approvalRequests)
    .innerJoin(sites, eq(sites.id, approvalRequests.siteId))
    .where(and(eq(approvalRequests.id, input.requestId), accessibleSitesCondition(db, actor)));
  if (!visible) {
    throw new DomainError('not-found', 'No such approval request.', {
      details: { requestId: input.requestId },
    });
  }

  const outcome = await db.transaction(async (tx): Promise<DecisionOutcome> => {
    // Locks in the order requestApproval takes them, case before request, so a decision racing
    // a new request for the same case waits instead of deadlocking.
    const caseRecord = await lockCase(tx, visible.caseId);
    const [row] = await tx
      .select()
      .from(approvalRequests)
      .where(eq(approvalRequests.id, input.requestId))
      .for('update');
    const [site] = row
      ? await tx.select().from(sites).where(eq(sites.id, row.siteId))
      : [undefined];
    if (!row || !site) throw new DomainError('not-found', 'No such approval request.');
    const now = new Date();

    const refuse = async (refusal: ApprovalRefusal): Promise<DecisionOutcome> => {
      await appendAuditEvent(tx, {
        orgId: orgIdsOf(actor).includes(site.ownerOrgId) ? site.ownerOrgId : null,
        siteId: site.id,
        actor: userActor(actor),
        action: 'approval.refused',
        subject: { kind: 'approval-request', id: row.id },
        data: {
          caseId: row.caseId,
          attempted: input.decision,
          refusal: refusal.code,
          why: refusal.reason,
        },
      });
      return { kind: 'refused', refusal };
    };

    let status = row.status as ApprovalRequestStatus;
    if (status === 'pending' && row.expiresAt.getTime() <= now.getTime()) {
      await tx
        .update(approvalRequests)
        .set({ status: 'expired', decidedAt: row.expiresAt })
        .where(eq(approvalRequests.id, row.id));
      await appendAuditEvent(tx, {
        orgId: null,
        siteId: site.id,
        actor: { kind: 'system', id: 'custody' },
        action: 'approval.expired',
        subject: { kind: 'approval-request', id: row.id },
        data: { caseId: row.caseId, serial: row.serial, verb: row.verb },
      });
      status = 'expired';
    }
    if (status !== 'pending') return refuse(STATUS_REFUSALS[status]);

    if (caseRecord.state.status !== 'awaiting-approval' || caseRecord.state.requestId !== row.id) {
      // The case moved on (cancelled, failed, asked again): this request can no longer act.
      await tx
        .update(approvalRequests)
        .set({ status: 'withdrawn', decidedAt: now })
        .where(eq(approvalRequests.id, row.id));
      await appendAuditEvent(tx, {
        orgId: null,
        siteId: site.id,
        actor: { kind: 'system', id: 'custody' },
        action: 'approval.withdrawn',
        subject: { kind: 'approval-request', id: row.id },
        data: { caseId: row.caseId, reason: `The case is ${caseRecord.state.status}.` },
      });
      return refuse({
        code: 'already-decided',
        reason: `The case no longer waits for this request (it is ${caseRecord.state.status}).`,
      });
    }

    const request = toCoreRequest(row);
    const options = {
      requestTtlMs: ttlOf(row),
      grantTtlMs: ttls.grantTtlMs ?? DEFAULT_GRANT_TTL_MS,
    };
    const policySite = { id: site.id, ownerOrgId: site.ownerOrgId, approvalQuorum: row.quorum };
    const decision: ApprovalDecision = {
      requestId: row.id,
      approverId: actor.userId,
      decision: input.decision,
      decidedAt: now,
      comment: input.reason,
    };
    const check = checkApprovalDecision(decision, {
      request,
      site: policySite,
      memberships: actor.memberships.map((m) => ({
        userId: actor.userId,
        orgId: m.orgId,
        role: m.role,
      })),
      options,
    });
    if (!check.ok) return refuse(check.error);

    const earlier = await tx
      .select()
      .from(approvalDecisions)
      .where(eq(approvalDecisions.requestId, row.id));
    if (earlier.some((d) => d.approverId === actor.userId)) {
      return refuse({
        code: 'already-decided',
        reason: 'You have already decided on this request.',
      });
    }
    await tx.insert(approvalDecisions).values({
      requestId: row.id,
      approverId: actor.userId,
      decision: input.decision,
      reason: input.reason,
      decidedAt: now,
    });
    await appendAuditEvent(tx, {
      orgId: site.ownerOrgId,
      siteId: site.id,
      actor: userActor(actor),
      action: 'approval.decision-recorded',
      subject: { kind: 'approval-request', id: row.id },
      data: { caseId: row.caseId, decision: input.decision, reason: input.reason },
    });

    const decisions: ApprovalDecision[] = [
      ...earlier.map((d) => ({
        requestId: d.requestId,
        approverId: d.approverId,
        decision: d.decision,
        decidedAt: d.decidedAt,
        comment: d.reason,
      })),
      decision,
    ];
    const evaluation = evaluateApproval({
      request,
      site: policySite,
      memberships: await membershipsOf(
        tx,
        [...new Set(decisions.map((d) => d.approverId))],
        site.ownerOrgId,
      ),
      decisions,
      now,
      options,
    });

    switch (evaluation.status) {
      case 'pending':
        return { kind: 'decided', requestId: row.id };
      case 'approved': {
        const { grant } = evaluation;
        const [issued] = await tx
          .insert(approvalGrants)
          .values({
            requestId: row.id,
            serial: grant.serial,
            verb: grant.verb,
            siteId: grant.siteId,
            agentId: grant.agentId,
            issuedAt: grant.issuedAt,
            expiresAt: grant.expiresAt,
          })
          .returning({ id: approvalGrants.id });
        if (!issued) throw new Error('the grant insert returned no row');
        await tx
          .update(approvalRequests)
          .set({ status: 'approved', decidedAt: now })
          .where(eq(approvalRequests.id, row.id));
        await appendAuditEvent(tx, {
          orgId: site.ownerOrgId,
          siteId: site.id,
          actor: userActor(actor),
          action: 'approval.approved',
          subject: { kind: 'approval-request', id: row.id },
          data: { caseId: row.caseId, approvedBy: grant.approvedBy, quorum: row.quorum },
        });
        await appendAuditEvent(tx, {
          orgId: site.ownerOrgId,
          siteId: site.id,
          actor: userActor(actor),
          action: 'approval.grant-issued',
          subject: { kind: 'approval-grant', id: issued.id },
          data: {
            requestId: row.id,
            caseId: row.caseId,
            serial: grant.serial,
            verb: grant.verb,
            siteId: grant.siteId,
            agentId: grant.agentId,
            expiresAt: grant.expiresAt.toISOString(),
          },
        });
        await applyCaseEvent(tx, {
          caseId: row.caseId,
          event: { type: 'approved', requestId: row.id },
          actor: userActor(actor),
          orgId: site.ownerOrgId,
          details: (details) => ({ ...details, approvalGrantId: issued.id }),
        });
        return { kind: 'decided', requestId: row.id };
      }
      case 'denied': {
        await tx
          .update(approvalRequests)
          .set({ status: 'denied', decidedAt: now })
          .where(eq(approvalRequests.id, row.id));
        await appendAuditEvent(tx, {
          orgId: site.ownerOrgId,
          siteId: site.id,
          actor: userActor(actor),
          action: 'approval.denied',
          subject: { kind: 'approval-request', id: row.id },
          data: { caseId: row.caseId, deniedBy: evaluation.deniedBy, reason: evaluation.comment },
        });
        await applyCaseEvent(tx, {
          caseId: row.caseId,
          event: { type: 'denied', requestId: row.id, reason: evaluation.comment },
          actor: userActor(actor),
          orgId: site.ownerOrgId,
        });
        return { kind: 'decided', requestId: row.id };
      }
      case 'expired':
        throw createApprovalRefusalError(STATUS_REFUSALS.expired);
      case 'refused':
        throw createApprovalRefusalError(evaluation.refusal);
    }
  });
  if (outcome.kind === 'refused') throw createApprovalRefusalError(outcome.refusal);
  return requireRequestView(db, actor, outcome.requestId);
}

/**
 * The requester, or an admin of an integrator granted the site, takes back a pending request
 * (the situation changed, the wrong verb was asked for). The case stays waiting for an approval.
 */
export async function withdrawApproval(
  db: Database,
  actor: Actor,
  input: WithdrawApprovalInput,
): Promise<ApprovalRequestView> {
  const view = await requireRequestView(db, actor, input.requestId);
  const adminOrgs = await grantedIntegratorOrgIds(db, actor, view.site.id, ['integrator-admin']);
  const actingOrgs = await grantedIntegratorOrgIds(db, actor, view.site.id, [
    'technician',
    'integrator-admin',
  ]);
  const isRequester = view.requestedBy.id === actor.userId && actingOrgs.length > 0;
  if (!isRequester && adminOrgs.length === 0) {
    throw new DomainError(
      'forbidden',
      'Only the requester or an admin of the integrator can withdraw a request.',
    );
  }
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(approvalRequests)
      .set({ status: 'withdrawn', decidedAt: new Date() })
      .where(
        and(
          eq(approvalRequests.id, input.requestId),
          eq(approvalRequests.status, 'pending'),
          gt(approvalRequests.expiresAt, new Date()),
        ),
      )
      .returning();
    if (!row) {
      throw new DomainError('conflict', 'Only a pending request can be withdrawn.', {
        details: { reason: 'not-pending' },
      });
    }
    await appendAuditEvent(tx, {
      orgId: adminOrgs[0] ?? actingOrgs[0] ?? null,
      siteId: row.siteId,
      actor: userActor(actor),
      action: 'approval.withdrawn',
      subject: { kind: 'approval-request', id: row.id },
      data: { caseId: row.caseId, reason: input.reason },
    });
  });
  return requireRequestView(db, actor, input.requestId);
}

export const InboxInputSchema = z.object({
  view: z.enum(['pending', 'decided', 'all']).default('pending'),
  limit: z.int().min(1).max(200).default(100),
});
export type InboxInput = z.infer<typeof InboxInputSchema>;

/** Owner organisations where the actor holds a role: their sites' requests form its inbox. */
function inboxOwnerOrgIds(actor: Actor): string[] {
  return orgIdsOf(actor, { kind: 'owner' });
}

/**
 * Requests to the owner organisations the actor belongs to, newest first: pending ones by
 * default. Lapsed requests are marked expired first, so the inbox never offers one.
 */
export async function listApprovalInbox(
  db: Database,
  actor: Actor,
  input: InboxInput = { view: 'pending', limit: 100 },
): Promise<ApprovalRequestView[]> {
  const ownerOrgIds = inboxOwnerOrgIds(actor);
  if (ownerOrgIds.length === 0) return [];
  await expireApprovalRequests(db);
  return loadApprovalRequestViews(
    db,
    actor,
    and(
      inArray(sites.ownerOrgId, ownerOrgIds),
      input.view === 'pending'
        ? eq(approvalRequests.status, 'pending')
        : input.view === 'decided'
          ? ne(approvalRequests.status, 'pending')
          : undefined,
    ),
    input.limit,
  );
}

/** How many pending requests wait for this actor's decision (the nav badge). */
export async function countPendingApprovals(db: Database, actor: Actor): Promise<number> {
  const approverOf = orgIdsOf(actor, { roles: ['owner-approver'], kind: 'owner' });
  if (approverOf.length === 0) return 0;
  const [row] = await db
    .select({ count: count() })
    .from(approvalRequests)
    .innerJoin(sites, eq(sites.id, approvalRequests.siteId))
    .where(
      and(
        inArray(sites.ownerOrgId, approverOf),
        eq(approvalRequests.status, 'pending'),
        gt(approvalRequests.expiresAt, new Date()),
        ne(approvalRequests.requestedBy, actor.userId),
        notExists(
          db
            .select({ one: sql`1` })
            .from(approvalDecisions)
            .where(
              and(
                eq(approvalDecisions.requestId, approvalRequests.id),
                eq(approvalDecisions.approverId, actor.userId),
              ),
            ),
        ),
      ),
    );
  return row?.count ?? 0;
}

/** Every approval request of a case the actor may see, newest first. */
export async function listCaseApprovals(
  db: Database,
  actor: Actor,
  caseId: string,
): Promise<ApprovalRequestView[]> {
  const found = await getCase(db, caseId);
  if (found === null) throw new DomainError('not-found', 'No such case.', { details: { caseId } });
  await requireAccessibleSite(db, actor, found.siteId).catch((error: unknown) => {
    throw new DomainError('not-found', 'No such case.', { cause: error, details: { caseId } });
  });
  await expireApprovalRequests(db);
  return loadApprovalRequestViews(db, actor, eq(approvalRequests.caseId, caseId));
}

/** One request, if the actor may see its site. */
export async function getApprovalRequest(
  db: Database,
  actor: Actor,
  requestId: string,
): Promise<ApprovalRequestView> {
  await expireApprovalRequests(db);
  return requireRequestView(db, actor, requestId);
}
