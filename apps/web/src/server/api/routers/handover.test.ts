import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseIn, insertReportedCamera } from '../../services/approvals/approval-test-fixtures.ts';
import { listAuditEvents } from '../../services/audit-log.ts';
import { getCase } from '../../services/cases/case-store.ts';
import { verifiedCase } from '../../services/handover/handover-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

describe('handover.get', () => {
  const t = useWorld({ beforeAll, afterAll });
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
    it(`answers ${caller} ${outcome} for a home case`, async () => {
      const { caseId } = await verifiedCase(t.db, t.world);
      expect(await outcomeOf(t.as(caller as CallerName).handover.get({ caseId }))).toBe(outcome);
    });
  }

  it('states model, serial, owner, site, address, credential references, VMS, evidence and timeline', async () => {
    const { caseId, serial, credentialIds, verificationId } = await verifiedCase(t.db, t.world);
    const handover = await t.as('ownerAuditor').handover.get({ caseId });
    expect(handover.camera).toMatchObject({
      serial,
      model: 'AXIS P3265-LVE',
      plannedAddress: '10.0.0.60',
    });
    expect(handover.owner).toMatchObject({
      name: 'Harbour Bakery',
      record: { circumstance: 'inherited-from-another-installer', attestedBy: 'approver' },
    });
    expect(handover.site.name).toBe('Harbour Street');
    expect(
      handover.credentials.map((c) => [c.account, c.username, c.version, c.credentialId]),
    ).toEqual([
      ['admin', 'root', 1, credentialIds.admin],
      ['service', 'custody-svc', 1, credentialIds.service],
      ['vms', 'acs', 1, credentialIds.vms],
    ]);
    expect(handover.vms).toMatchObject({
      platform: 'AXIS Camera Station',
      username: 'acs',
      confirmation: { confirmedBy: 'tech' },
    });
    expect(handover.verification).toMatchObject({ id: verificationId, passed: true });
    expect(handover.verification?.checks).toHaveLength(4);
    expect(handover.verification?.snapshot?.sha256).toBe('e'.repeat(64));
    const actions = handover.timeline.map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'case.opened',
        'case.triage-completed',
        'ownership.recorded',
        'case.ownership-recorded',
        'credential.stored',
        'case.verification-passed',
      ]),
    );
    expect(handover.timeline.map((entry) => entry.seq)).toEqual(
      [...handover.timeline.map((entry) => entry.seq)].sort((a, b) => a - b),
    );
  });
});

describe('handover.confirm', () => {
  const t = useWorld({ beforeAll, afterAll });
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
    it(`answers ${caller} ${outcome} when confirming a verified home case`, async () => {
      const { caseId } = await verifiedCase(t.db, t.world);
      const call = t.as(caller as CallerName).handover.confirm({ caseId });
      expect(await outcomeOf(call)).toBe(outcome);
      expect((await getCase(t.db, caseId))?.status).toBe(
        outcome === 'OK' ? 'documented' : 'verified',
      );
    });
  }

  it('documents the case with who confirmed it, and audits the handover', async () => {
    const { caseId } = await verifiedCase(t.db, t.world);
    const handover = await t
      .as('technician')
      .handover.confirm({ caseId, note: 'Keys given to the manager.' });
    expect(handover.case.status).toBe('documented');
    expect(handover.case.handedOver?.by).toBe('tech');
    const events = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'case', id: caseId },
    });
    expect(events.slice(0, 2).map((event) => event.content.action)).toEqual([
      'handover.confirmed',
      'case.documented',
    ]);
  });

  it('refuses a case that is not verified, and a second confirmation', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const waiting = await caseIn(t.db, t.world, serial, 'awaiting-approval');
    expect(await outcomeOf(t.as('technician').handover.confirm({ caseId: waiting.id }))).toBe(
      'CONFLICT',
    );
    const { caseId } = await verifiedCase(t.db, t.world);
    await t.as('technician').handover.confirm({ caseId });
    expect(await outcomeOf(t.as('technician').handover.confirm({ caseId }))).toBe('CONFLICT');
  });
});
