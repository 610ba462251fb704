import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError, type ApprovableAction } from '@custody/core';
import { approvalGrants } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { queueCommand } from '../../gateway/queue-command.ts';
import { useWorld } from '../../test-support/world.ts';
import { listAuditEvents } from '../audit-log.ts';
import { insertAgent } from '../fleet-test-fixtures.ts';
import { caseIn, insertReportedCamera } from './approval-test-fixtures.ts';
import { decideApproval, requestApproval } from './approvals.ts';
import { consumeGrant, type GrantScope } from './consume-grant.ts';

async function refusalOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (error) {
    return isDomainError(error, 'approval-refused')
      ? typeof error.details.refusal === 'string'
        ? error.details.refusal
        : 'approval-refused'
      : `THREW ${String(error)}`;
  }
}

describe('spending a grant', () => {
  const t = useWorld({ beforeAll, afterAll });

  /** A camera whose case the owner approved for `verb`, and the grant that came of it. */
  async function approved(verb: ApprovableAction) {
    const camera = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const record = await caseIn(t.db, t.world, camera.serial, 'awaiting-approval');
    const request = await requestApproval(t.db, t.world.actors.technician, {
      caseId: record.id,
      verb,
      reason: 'Locked out.',
    });
    const decided = await decideApproval(t.db, t.world.actors.ownerApprover, {
      requestId: request.id,
      decision: 'approve',
      reason: 'Invoice matches.',
    });
    const grantId = decided.grant?.id;
    if (!grantId) throw new Error('no grant');
    const scope: GrantScope = {
      serial: camera.serial,
      verb,
      siteId: t.world.sites.grantedSite.id,
      agentId: camera.agentId,
      actor: { kind: 'user', id: t.world.people.technician.id },
      orgId: t.world.orgs.integrator.id,
    };
    return { ...camera, caseId: record.id, grantId, scope };
  }

  const spend = (grantId: string, scope: GrantScope) =>
    t.db.transaction((tx) => consumeGrant(tx, grantId, scope));

  describe('consumeGrant (guided control-button reset)', () => {
    it('spends a grant once, marks it used and audits it', async () => {
      const { grantId, scope } = await approved('guided-button-reset');
      const grant = await spend(grantId, scope);
      expect(grant).toMatchObject({
        id: grantId,
        verb: 'guided-button-reset',
        usedAt: expect.any(Date) as unknown,
      });
      expect(grant.approvedBy).toEqual([t.world.people.ownerApprover.id]);
      const [row] = await t.db.select().from(approvalGrants).where(eq(approvalGrants.id, grantId));
      expect(row?.usedAt).toBeInstanceOf(Date);
      const [event] = await listAuditEvents(t.db, {
        scope: 'all',
        subject: { kind: 'approval-grant', id: grantId },
        action: 'approval.grant-used',
      });
      expect(event?.content.data).toMatchObject({
        serial: scope.serial,
        verb: 'guided-button-reset',
      });
    });

    it('refuses a grant used before', async () => {
      const { grantId, scope } = await approved('guided-button-reset');
      await spend(grantId, scope);
      expect(await refusalOf(spend(grantId, scope))).toBe('used');
    });

    it('refuses an expired grant and leaves it unused', async () => {
      const { grantId, scope } = await approved('guided-button-reset');
      await t.db
        .update(approvalGrants)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(approvalGrants.id, grantId));
      expect(await refusalOf(spend(grantId, scope))).toBe('expired');
      const [row] = await t.db.select().from(approvalGrants).where(eq(approvalGrants.id, grantId));
      expect(row?.usedAt).toBeNull();
    });

    it('refuses a changed scope: another serial, verb, site or agent', async () => {
      const { grantId, scope } = await approved('guided-button-reset');
      const other = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
      const strayAgent = await insertAgent(t.db, t.world.sites.grantedSite.id, 'Stray agent');
      const changes: Partial<GrantScope>[] = [
        { serial: other.serial },
        { verb: 'factory-default-hard' },
        { siteId: t.world.sites.ungrantedSite.id },
        { agentId: strayAgent.id },
      ];
      for (const change of changes) {
        expect(await refusalOf(spend(grantId, { ...scope, ...change }))).toBe('scope-mismatch');
      }
      // Refusals spend nothing: the grant still works for its own scope.
      expect(await refusalOf(spend(grantId, scope))).toBe('OK');
    });

    it('refuses a grant that does not exist', async () => {
      const { scope } = await approved('guided-button-reset');
      expect(await refusalOf(spend(crypto.randomUUID(), scope))).toBe('not-approved');
    });

    it('lets only one of two concurrent spends succeed', async () => {
      const { grantId, scope } = await approved('guided-button-reset');
      const outcomes = await Promise.all([
        refusalOf(spend(grantId, scope)),
        refusalOf(spend(grantId, scope)),
      ]);
      expect(outcomes.sort()).toEqual(['OK', 'used']);
    });
  });

  describe('queueCommand (software factory default through the agent)', () => {
    function queue(
      target: { serial: string; agentId: string },
      grantId: string | null,
      verb: 'factory-default-soft' | 'factory-default-hard' = 'factory-default-soft',
    ) {
      return queueCommand(t.db, {
        agentId: target.agentId,
        serial: target.serial,
        verb,
        params: { credential: 'admin' },
        secretsRef: { admin: `credential:${crypto.randomUUID()}` },
        approvalGrantId: grantId,
        requestedBy: t.world.people.technician.id,
      });
    }

    it('queues a destructive command once for its grant and refuses the replay', async () => {
      const target = await approved('factory-default-soft');
      const queued = await queue(target, target.grantId);
      expect(queued.commandId).toEqual(expect.any(String));
      const [row] = await t.db
        .select()
        .from(approvalGrants)
        .where(eq(approvalGrants.id, target.grantId));
      expect(row?.usedByCommandId).toBe(queued.commandId);
      expect(await refusalOf(queue(target, target.grantId))).toBe('approval-refused');
    });

    it('refuses a destructive command without a grant', async () => {
      const target = await approved('factory-default-soft');
      expect(await refusalOf(queue(target, null))).toBe('approval-refused');
    });

    it('refuses a grant for serial A used for serial B, or for another verb', async () => {
      const target = await approved('factory-default-soft');
      const other = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
      expect(await refusalOf(queue(other, target.grantId))).toBe('approval-refused');
      expect(await refusalOf(queue(target, target.grantId, 'factory-default-hard'))).toBe(
        'approval-refused',
      );
    });

    it('refuses an expired grant', async () => {
      const target = await approved('factory-default-soft');
      await t.db
        .update(approvalGrants)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(approvalGrants.id, target.grantId));
      expect(await refusalOf(queue(target, target.grantId))).toBe('approval-refused');
    });

    it('refuses a guided-reset grant for an agent verb', async () => {
      const target = await approved('guided-button-reset');
      expect(await refusalOf(queue(target, target.grantId))).toBe('approval-refused');
    });
  });
});
