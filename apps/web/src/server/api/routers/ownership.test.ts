import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documents, ownershipRecords } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { listAuditEvents } from '../../services/audit-log.ts';
import { getCase } from '../../services/cases/case-store.ts';
import { caseIn, insertReportedCamera } from '../../services/approvals/approval-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

const ORDER = { kind: 'order-number' as const, reference: 'PO-4471' };

describe('ownership.history', () => {
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
    it(`answers ${caller} ${outcome} for a camera at the granted site`, async () => {
      const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
      const call = t.as(caller as CallerName).ownership.history({ serial });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  it('tells only an owner approver of the site owner that it may record', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    expect((await t.as('ownerApprover').ownership.history({ serial })).canRecord).toBe(true);
    expect((await t.as('integratorAdmin').ownership.history({ serial })).canRecord).toBe(false);
    expect((await t.as('ownerAuditor').ownership.history({ serial })).canRecord).toBe(false);
  });
});

describe('ownership.record', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'FORBIDDEN',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'FORBIDDEN',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome} when recording a home camera's owner`, async () => {
      const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
      const call = t.as(caller as CallerName).ownership.record({
        serial,
        circumstance: 'original-purchase',
        evidence: [ORDER],
      });
      expect(await outcomeOf(call)).toBe(outcome);
      const rows = await t.db
        .select()
        .from(ownershipRecords)
        .where(eq(ownershipRecords.serial, serial));
      expect(rows).toHaveLength(outcome === 'OK' ? 1 : 0);
    });
  }

  it('records the site owner as owner, the approver as attester, and the inherited circumstance', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const record = await t.as('ownerApprover').ownership.record({
      serial,
      circumstance: 'inherited-from-another-installer',
      evidence: [ORDER, { kind: 'invoice', reference: 'INV-2020-118' }],
    });
    expect(record).toMatchObject({
      serial,
      ownerOrgId: t.world.orgs.owner.id,
      ownerName: 'Harbour Bakery',
      circumstance: 'inherited-from-another-installer',
      attestedBy: { id: t.world.people.ownerApprover.id },
      current: true,
    });
    expect(record.evidence.map((item) => item.reference).sort()).toEqual([
      'INV-2020-118',
      'PO-4471',
    ]);
    const camera = await t.as('technician').cameras.get({ serial });
    expect(camera.ownership?.circumstances).toBe('inherited-from-another-installer');
  });

  it('keeps history: a new record supersedes the current one, which stays readable', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const approver = t.as('ownerApprover');
    const first = await approver.ownership.record({
      serial,
      circumstance: 'original-purchase',
      evidence: [ORDER],
    });
    const second = await approver.ownership.record({
      serial,
      circumstance: 'acquired-with-premises',
      evidence: [{ kind: 'other', reference: 'Lease annex B lists the cameras' }],
    });
    const history = await t.as('integratorAuditor').ownership.history({ serial });
    expect(history.records.map((record) => [record.id, record.current])).toEqual([
      [second.id, true],
      [first.id, false],
    ]);
    expect(history.records[1]?.supersededAt).toBeInstanceOf(Date);
    expect(history.records[1]?.evidence[0]?.reference).toBe('PO-4471');
    const audit = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'ownership-record', id: second.id },
    });
    expect(audit[0]?.content).toMatchObject({
      action: 'ownership.recorded',
      data: { serial, supersedes: [first.id], circumstance: 'acquired-with-premises' },
    });
  });

  it('refuses a record without evidence, and a document without its file', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const approver = t.as('ownerApprover');
    expect(
      await outcomeOf(
        approver.ownership.record({ serial, circumstance: 'original-purchase', evidence: [] }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await outcomeOf(
        approver.ownership.record({
          serial,
          circumstance: 'original-purchase',
          evidence: [{ kind: 'document', reference: 'scan.pdf' }],
        }),
      ),
    ).toBe('BAD_REQUEST');
  });

  it('refuses a document another organisation uploaded, even by its id', async () => {
    const { serial } = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const [foreignDocument] = await t.db
      .insert(documents)
      .values({
        orgId: t.world.orgs.foreignOwner.id,
        filename: 'quay-invoice.pdf',
        mediaType: 'application/pdf',
        sizeBytes: 9,
        sha256: '0'.repeat(64),
        content: new TextEncoder().encode('%PDF-1.4\n'),
        uploadedBy: t.world.people.foreignOwnerApprover.id,
      })
      .returning();
    const call = t.as('ownerApprover').ownership.record({
      serial,
      circumstance: 'original-purchase',
      evidence: [{ kind: 'document', reference: 'invoice', documentId: foreignDocument?.id }],
    });
    expect(await outcomeOf(call)).toBe('BAD_REQUEST');
  });

  it('moves an open case waiting for ownership on to awaiting approval', async () => {
    const waiting = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const waitingCase = await caseIn(t.db, t.world, waiting.serial, 'awaiting-ownership');
    const triaged = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const triagedCase = await caseIn(t.db, t.world, triaged.serial, 'triaged');
    const opened = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const openedCase = await caseIn(t.db, t.world, opened.serial, 'opened');
    for (const { serial } of [waiting, triaged, opened]) {
      await t.as('ownerApprover').ownership.record({
        serial,
        circumstance: 'inherited-from-another-installer',
        evidence: [ORDER],
      });
    }
    const afterWaiting = await getCase(t.db, waitingCase.id);
    expect(afterWaiting?.state).toEqual({ status: 'awaiting-approval', requestId: null });
    expect(afterWaiting?.details.ownershipRecordId).toEqual(expect.any(String));
    expect((await getCase(t.db, triagedCase.id))?.status).toBe('awaiting-approval');
    expect((await getCase(t.db, openedCase.id))?.status).toBe('opened');
  });
});
