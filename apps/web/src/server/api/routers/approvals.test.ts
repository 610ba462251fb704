import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRANT_TTL_MS, isDomainError } from '@custody/core';
import {
  approvalGrants,
  approvalRequests,
  memberships,
  ownershipRecords,
  sites,
  users,
} from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { loadActor } from '../../services/actor.ts';
import { caseIn, insertReportedCamera } from '../../services/approvals/approval-test-fixtures.ts';
import { listAuditEvents } from '../../services/audit-log.ts';
import { applyCaseEvent, getCase } from '../../services/cases/case-store.ts';
import { callerFor, outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

/** Core's refusal code carried by an approval-refused error, or what the call did instead. */
async function refusalOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return isDomainError(cause, 'approval-refused')
      ? String(cause.details.refusal)
      : `${(error as { code?: string }).code ?? 'THREW'}`;
  }
}

describe('approvals', () => {
  const t = useWorld({ beforeAll, afterAll });

  async function awaitingApproval() {
    const camera = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const record = await caseIn(t.db, t.world, camera.serial, 'awaiting-approval');
    return { ...camera, caseId: record.id };
  }

  async function pendingRequest(
    verb: 'factory-default-soft' | 'guided-button-reset' = 'guided-button-reset',
  ) {
    const target = await awaitingApproval();
    const request = await t.as('technician').approvals.request({
      caseId: target.caseId,
      verb,
      reason: 'No admin credential works; the previous installer left none.',
    });
    return { ...target, request };
  }

  /** Another user holding `role` in `orgId`, as a caller. */
  async function extraUser(
    email: string,
    grants: { orgId: string; role: 'owner-approver' | 'technician' }[],
  ) {
    const [user] = await t.db
      .insert(users)
      .values({ email, name: email.split('@')[0] ?? email })
      .returning();
    if (!user) throw new Error('no user');
    for (const grant of grants) {
      await t.db.insert(memberships).values({ userId: user.id, ...grant });
    }
    const actor = await loadActor(t.db, user.id, null);
    if (!actor) throw new Error('no actor');
    return { user, caller: callerFor(t.db, actor) };
  }

  describe('request', () => {
    const expected: Record<CallerName | 'anonymous', string> = {
      integratorAdmin: 'OK',
      technician: 'OK',
      integratorAuditor: 'FORBIDDEN',
      ownerApprover: 'FORBIDDEN',
      ownerAuditor: 'FORBIDDEN',
      foreignIntegratorAdmin: 'NOT_FOUND',
      foreignOwnerApprover: 'FORBIDDEN',
      anonymous: 'UNAUTHORIZED',
    };
    for (const [caller, outcome] of Object.entries(expected)) {
      it(`answers ${caller} ${outcome} when requesting a reset for a home case`, async () => {
        const { caseId } = await awaitingApproval();
        const call = t.as(caller as CallerName).approvals.request({
          caseId,
          verb: 'guided-button-reset',
          reason: 'Locked out.',
        });
        expect(await outcomeOf(call)).toBe(outcome);
        expect((await getCase(t.db, caseId))?.state).toMatchObject({
          status: 'awaiting-approval',
          requestId: outcome === 'OK' ? (expect.any(String) as unknown) : null,
        });
      });
    }

    it('binds the request to serial, verb, site and reporting agent, with the site quorum and an expiry', async () => {
      const { serial, agentId, caseId, request } = await pendingRequest('factory-default-soft');
      expect(request).toMatchObject({
        caseId,
        serial,
        verb: 'factory-default-soft',
        status: 'pending',
        quorum: 1,
        site: { id: t.world.sites.grantedSite.id },
        agent: { id: agentId },
        requestedBy: { id: t.world.people.technician.id },
      });
      const ttl = request.expiresAt.getTime() - request.requestedAt.getTime();
      expect(ttl).toBe(24 * 60 * 60 * 1000);
      expect(request.ownership?.circumstance).toBe('inherited-from-another-installer');
      const state = (await getCase(t.db, caseId))?.state;
      expect(state).toEqual({ status: 'awaiting-approval', requestId: request.id });
      const [event] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-request', id: request.id },
      });
      expect(event?.content).toMatchObject({
        action: 'approval.requested',
        data: { serial, verb: 'factory-default-soft', agentId, quorum: 1 },
      });
    });

    it('needs a current ownership record of the site owner', async () => {
      const { serial, caseId } = await awaitingApproval();
      await t.db
        .update(ownershipRecords)
        .set({ ownerOrgId: t.world.orgs.foreignOwner.id })
        .where(eq(ownershipRecords.serial, serial));
      const call = t.as('technician').approvals.request({
        caseId,
        verb: 'guided-button-reset',
        reason: 'Locked out.',
      });
      expect(await outcomeOf(call)).toBe('CONFLICT');
      await t.db
        .update(ownershipRecords)
        .set({ ownerOrgId: t.world.orgs.owner.id, supersededAt: new Date() })
        .where(eq(ownershipRecords.serial, serial));
      const error = await t
        .as('technician')
        .approvals.request({ caseId, verb: 'guided-button-reset', reason: 'Locked out.' })
        .catch((caught: unknown) => caught);
      expect((error as { cause: { details: { reason: string } } }).cause.details.reason).toBe(
        'ownership-missing',
      );
    });

    it('refuses a case that is not waiting for an approval, and an empty reason', async () => {
      const camera = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
      const triaged = await caseIn(t.db, t.world, camera.serial, 'awaiting-ownership');
      const call = t.as('technician').approvals.request({
        caseId: triaged.id,
        verb: 'guided-button-reset',
        reason: 'Locked out.',
      });
      expect(await outcomeOf(call)).toBe('CONFLICT');
      const { caseId } = await awaitingApproval();
      const empty = t.as('technician').approvals.request({
        caseId,
        verb: 'guided-button-reset',
        reason: '   ',
      });
      expect(await outcomeOf(empty)).toBe('BAD_REQUEST');
    });

    it('withdraws the pending request a new one replaces', async () => {
      const { caseId, request } = await pendingRequest();
      const again = await t.as('technician').approvals.request({
        caseId,
        verb: 'factory-default-hard',
        reason: 'Soft reset will not do.',
      });
      const all = await t.as('technician').approvals.forCase({ caseId });
      expect(all.map((item) => [item.id, item.status])).toEqual([
        [again.id, 'pending'],
        [request.id, 'withdrawn'],
      ]);
      expect(
        await refusalOf(
          t.as('ownerApprover').approvals.decide({
            requestId: request.id,
            decision: 'approve',
            reason: 'Fine.',
          }),
        ),
      ).toBe('already-decided');
    });
  });

  describe('decide', () => {
    const expected: Record<CallerName | 'anonymous', string> = {
      integratorAdmin: 'FORBIDDEN',
      technician: 'FORBIDDEN',
      integratorAuditor: 'FORBIDDEN',
      ownerApprover: 'OK',
      ownerAuditor: 'FORBIDDEN',
      foreignIntegratorAdmin: 'NOT_FOUND',
      foreignOwnerApprover: 'NOT_FOUND',
      anonymous: 'UNAUTHORIZED',
    };
    for (const [caller, outcome] of Object.entries(expected)) {
      it(`answers ${caller} ${outcome} when approving a home request`, async () => {
        const { request } = await pendingRequest();
        const call = t.as(caller as CallerName).approvals.decide({
          requestId: request.id,
          decision: 'approve',
          reason: 'Invoice checked.',
        });
        expect(await outcomeOf(call)).toBe(outcome);
      });
    }

    it('issues a single-use grant bound to the request scope and approves the case', async () => {
      const { caseId, serial, agentId, request } = await pendingRequest('factory-default-soft');
      const before = Date.now();
      const decided = await t.as('ownerApprover').approvals.decide({
        requestId: request.id,
        decision: 'approve',
        reason: 'Invoice INV-118 matches the serial.',
      });
      expect(decided.status).toBe('approved');
      expect(decided.grant?.usedAt).toBeNull();
      const [grant] = await t.db
        .select()
        .from(approvalGrants)
        .where(eq(approvalGrants.requestId, request.id));
      expect(grant).toMatchObject({
        serial,
        verb: 'factory-default-soft',
        siteId: t.world.sites.grantedSite.id,
        agentId,
        usedAt: null,
      });
      const ttl = (grant?.expiresAt.getTime() ?? 0) - before;
      expect(ttl).toBeGreaterThan(DEFAULT_GRANT_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(DEFAULT_GRANT_TTL_MS + 1_000);
      const record = await getCase(t.db, caseId);
      expect(record?.state).toEqual({ status: 'approved', requestId: request.id });
      expect(record?.details.approvalGrantId).toBe(grant?.id);
      const actions = (
        await listAuditEvents(t.db, {
          scope: 'all',
          subject: { kind: 'approval-request', id: request.id },
        })
      ).map((event) => event.content.action);
      expect(actions).toEqual([
        'approval.approved',
        'approval.decision-recorded',
        'approval.requested',
      ]);
      const [issued] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-grant', id: grant?.id ?? '' },
      });
      expect(issued?.content.action).toBe('approval.grant-issued');
    });

    it('denies the case with the approver’s reason', async () => {
      const { caseId, request } = await pendingRequest();
      const decided = await t.as('ownerApprover').approvals.decide({
        requestId: request.id,
        decision: 'deny',
        reason: 'Not our camera.',
      });
      expect(decided.status).toBe('denied');
      expect(decided.grant).toBeNull();
      expect((await getCase(t.db, caseId))?.state).toEqual({
        status: 'denied',
        reason: 'Not our camera.',
      });
    });

    it('needs a reason for approving as for denying', async () => {
      const { request } = await pendingRequest();
      const call = t.as('ownerApprover').approvals.decide({
        requestId: request.id,
        decision: 'approve',
        reason: '',
      });
      expect(await outcomeOf(call)).toBe('BAD_REQUEST');
    });

    it('refuses self-approval by a requester who is also an owner approver, and audits the attempt', async () => {
      const both = await extraUser('both@northwind.test', [
        { orgId: t.world.orgs.integrator.id, role: 'technician' },
        { orgId: t.world.orgs.owner.id, role: 'owner-approver' },
      ]);
      const { caseId } = await awaitingApproval();
      const request = await both.caller.approvals.request({
        caseId,
        verb: 'guided-button-reset',
        reason: 'Locked out.',
      });
      expect(
        await refusalOf(
          both.caller.approvals.decide({
            requestId: request.id,
            decision: 'approve',
            reason: 'Mine.',
          }),
        ),
      ).toBe('self-approval');
      const [refused] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-request', id: request.id },
        action: 'approval.refused',
      });
      expect(refused?.content.data).toMatchObject({
        refusal: 'self-approval',
        attempted: 'approve',
      });
      expect((await getCase(t.db, caseId))?.status).toBe('awaiting-approval');
    });

    it('refuses an integrator and another owner’s approver, saying why where it may', async () => {
      const { request } = await pendingRequest();
      const decide = (caller: CallerName) =>
        t
          .as(caller)
          .approvals.decide({ requestId: request.id, decision: 'approve', reason: 'Ok.' });
      expect(await refusalOf(decide('integratorAdmin'))).toBe('not-an-approver');
      expect(await refusalOf(decide('ownerAuditor'))).toBe('not-an-approver');
      expect(await refusalOf(decide('foreignOwnerApprover'))).toBe('NOT_FOUND');
      const grants = await t.db
        .select()
        .from(approvalGrants)
        .where(eq(approvalGrants.requestId, request.id));
      expect(grants).toEqual([]);
    });

    it('refuses a request that expired, and marks it expired', async () => {
      const { request } = await pendingRequest();
      await t.db
        .update(approvalRequests)
        .set({
          requestedAt: new Date(Date.now() - 25 * 3_600_000),
          expiresAt: new Date(Date.now() - 3_600_000),
        })
        .where(eq(approvalRequests.id, request.id));
      expect(
        await refusalOf(
          t
            .as('ownerApprover')
            .approvals.decide({ requestId: request.id, decision: 'approve', reason: 'Ok.' }),
        ),
      ).toBe('request-expired');
      const [row] = await t.db
        .select()
        .from(approvalRequests)
        .where(eq(approvalRequests.id, request.id));
      expect(row?.status).toBe('expired');
    });

    it('refuses a withdrawn request', async () => {
      const { request } = await pendingRequest();
      await t
        .as('technician')
        .approvals.withdraw({ requestId: request.id, reason: 'Wrong camera.' });
      expect(
        await refusalOf(
          t
            .as('ownerApprover')
            .approvals.decide({ requestId: request.id, decision: 'approve', reason: 'Ok.' }),
        ),
      ).toBe('already-decided');
    });

    it('refuses a request whose case was cancelled meanwhile', async () => {
      const { caseId, request } = await pendingRequest();
      await t.db.transaction((tx) =>
        applyCaseEvent(tx, {
          caseId,
          event: { type: 'cancelled', reason: 'The owner replaced the camera.' },
          actor: { kind: 'user', id: t.world.people.integratorAdmin.id },
          orgId: t.world.orgs.integrator.id,
        }),
      );
      expect(
        await refusalOf(
          t
            .as('ownerApprover')
            .approvals.decide({ requestId: request.id, decision: 'approve', reason: 'Ok.' }),
        ),
      ).toBe('already-decided');
      expect((await t.as('ownerApprover').approvals.get({ requestId: request.id })).status).toBe(
        'withdrawn',
      );
    });

    it('needs two distinct approvers at quorum 2, snapshotted when the request was made', async () => {
      const second = await extraUser('second@harbour.test', [
        { orgId: t.world.orgs.owner.id, role: 'owner-approver' },
      ]);
      const siteId = t.world.sites.grantedSite.id;
      await t.db.update(sites).set({ approvalQuorum: 2 }).where(eq(sites.id, siteId));
      const { caseId, request } = await pendingRequest();
      await t.db.update(sites).set({ approvalQuorum: 1 }).where(eq(sites.id, siteId));
      expect(request.quorum).toBe(2);

      expect(await t.as('ownerApprover').approvals.pendingCount()).toBeGreaterThanOrEqual(1);
      const countBefore = await second.caller.approvals.pendingCount();
      const first = await t.as('ownerApprover').approvals.decide({
        requestId: request.id,
        decision: 'approve',
        reason: 'Invoice matches.',
      });
      expect(first.status).toBe('pending');
      expect(first.grant).toBeNull();
      expect((await getCase(t.db, caseId))?.status).toBe('awaiting-approval');
      expect(
        await refusalOf(
          t
            .as('ownerApprover')
            .approvals.decide({ requestId: request.id, decision: 'approve', reason: 'Again.' }),
        ),
      ).toBe('already-decided');
      // The first approver's badge no longer counts it; the second's still does.
      const inbox = await t.as('ownerApprover').approvals.inbox();
      expect(inbox.find((item) => item.id === request.id)?.canDecide).toBe(false);
      expect(await second.caller.approvals.pendingCount()).toBe(countBefore);

      const done = await second.caller.approvals.decide({
        requestId: request.id,
        decision: 'approve',
        reason: 'Confirmed with the shop manager.',
      });
      expect(done.status).toBe('approved');
      expect(done.decisions.map((d) => d.approverName)).toEqual(['approver', 'second']);
      expect((await getCase(t.db, caseId))?.status).toBe('approved');
      const [approved] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-request', id: request.id },
        action: 'approval.approved',
      });
      expect(approved?.content.data).toMatchObject({
        approvedBy: [t.world.people.ownerApprover.id, second.user.id],
        quorum: 2,
      });
    });

    it('lets one denial decide a quorum-2 request', async () => {
      const siteId = t.world.sites.grantedSite.id;
      await t.db.update(sites).set({ approvalQuorum: 2 }).where(eq(sites.id, siteId));
      const { caseId, request } = await pendingRequest();
      await t.db.update(sites).set({ approvalQuorum: 1 }).where(eq(sites.id, siteId));
      const decided = await t.as('ownerApprover').approvals.decide({
        requestId: request.id,
        decision: 'deny',
        reason: 'Under warranty: the vendor resets it.',
      });
      expect(decided.status).toBe('denied');
      expect((await getCase(t.db, caseId))?.status).toBe('denied');
    });
  });

  describe('withdraw', () => {
    const expected: Record<CallerName | 'anonymous', string> = {
      integratorAdmin: 'OK',
      technician: 'OK',
      integratorAuditor: 'FORBIDDEN',
      ownerApprover: 'FORBIDDEN',
      ownerAuditor: 'FORBIDDEN',
      foreignIntegratorAdmin: 'NOT_FOUND',
      foreignOwnerApprover: 'FORBIDDEN',
      anonymous: 'UNAUTHORIZED',
    };
    for (const [caller, outcome] of Object.entries(expected)) {
      it(`answers ${caller} ${outcome} when withdrawing the technician's request`, async () => {
        const { request } = await pendingRequest();
        const call = t.as(caller as CallerName).approvals.withdraw({
          requestId: request.id,
          reason: 'Camera replaced.',
        });
        expect(await outcomeOf(call)).toBe(outcome);
      });
    }

    it('withdraws only pending requests', async () => {
      const { request } = await pendingRequest();
      await t
        .as('ownerApprover')
        .approvals.decide({ requestId: request.id, decision: 'deny', reason: 'No.' });
      const call = t
        .as('technician')
        .approvals.withdraw({ requestId: request.id, reason: 'Late.' });
      expect(await outcomeOf(call)).toBe('CONFLICT');
    });
  });

  describe('inbox', () => {
    it('shows owner members the requests for their sites with what they need to decide', async () => {
      const { serial, request } = await pendingRequest();
      const inbox = await t.as('ownerApprover').approvals.inbox();
      const item = inbox.find((entry) => entry.id === request.id);
      expect(item).toMatchObject({
        serial,
        camera: { model: 'AXIS P3265-LVE' },
        site: { name: 'Harbour Street' },
        requestedBy: { name: 'tech' },
        reason: 'No admin credential works; the previous installer left none.',
        ownership: { circumstance: 'inherited-from-another-installer' },
        canDecide: true,
      });
      expect(item?.ownership?.evidence[0]?.reference).toBe('PO-2291');
      const audited = await t.as('ownerAuditor').approvals.inbox();
      expect(audited.find((entry) => entry.id === request.id)?.canDecide).toBe(false);
    });

    const expected: Record<CallerName | 'anonymous', boolean | string> = {
      integratorAdmin: false,
      technician: false,
      integratorAuditor: false,
      ownerApprover: true,
      ownerAuditor: true,
      foreignIntegratorAdmin: false,
      foreignOwnerApprover: false,
      anonymous: 'UNAUTHORIZED',
    };
    for (const [caller, sees] of Object.entries(expected)) {
      it(`${sees === true ? 'shows' : 'does not show'} ${caller} a home request in the inbox`, async () => {
        const { request } = await pendingRequest();
        const call = t.as(caller as CallerName).approvals.inbox();
        if (typeof sees === 'string') {
          expect(await outcomeOf(call)).toBe(sees);
          return;
        }
        expect((await call).some((item) => item.id === request.id)).toBe(sees);
      });
    }

    it('counts for the badge only what the approver can still decide', async () => {
      const before = await t.as('ownerApprover').approvals.pendingCount();
      const { request } = await pendingRequest();
      expect(await t.as('ownerApprover').approvals.pendingCount()).toBe(before + 1);
      expect(await t.as('ownerAuditor').approvals.pendingCount()).toBe(0);
      expect(await t.as('foreignOwnerApprover').approvals.pendingCount()).toBe(0);
      await t.db
        .update(approvalRequests)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(approvalRequests.id, request.id));
      expect(await t.as('ownerApprover').approvals.pendingCount()).toBe(before);
    });

    it('marks lapsed requests expired when the inbox is read, and audits it', async () => {
      const { request } = await pendingRequest();
      await t.db
        .update(approvalRequests)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(approvalRequests.id, request.id));
      const pending = await t.as('ownerApprover').approvals.inbox();
      expect(pending.some((item) => item.id === request.id)).toBe(false);
      const decided = await t.as('ownerApprover').approvals.inbox({ view: 'decided' });
      expect(decided.find((item) => item.id === request.id)?.status).toBe('expired');
      const [expired] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-request', id: request.id },
        action: 'approval.expired',
      });
      expect(expired?.content.actor).toEqual({ kind: 'system', id: 'custody' });
    });
  });

  describe('forCase', () => {
    const expected: Record<CallerName | 'anonymous', string> = {
      integratorAdmin: 'OK',
      technician: 'OK',
      integratorAuditor: 'OK',
      ownerApprover: 'OK',
      ownerAuditor: 'OK',
      foreignIntegratorAdmin: 'NOT_FOUND',
      foreignOwnerApprover: 'NOT_FOUND',
      anonymous: 'UNAUTHORIZED',
    };
    for (const [caller, outcome] of Object.entries(expected)) {
      it(`answers ${caller} ${outcome} for a home case's requests`, async () => {
        const { caseId } = await pendingRequest();
        const call = t.as(caller as CallerName).approvals.forCase({ caseId });
        expect(await outcomeOf(call)).toBe(outcome);
      });
    }
  });
});
