import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '@custody/db';
import { insertReportedCamera } from '../../services/approvals/approval-test-fixtures.ts';
import { openCaseForCamera } from '../../services/cases/case-service.ts';
import { testVault } from '../../services/cases/case-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected = Record<CallerName | 'anonymous', string>;

const vault = testVault();

describe('the cases router', () => {
  const t = useWorld({ beforeAll, afterAll });
  const api = (name: CallerName | 'anonymous') =>
    createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: name === 'anonymous' ? null : t.world.actors[name],
        vault,
      }),
    );
  const camera = (site: 'grantedSite' | 'ungrantedSite' | 'foreignSite' = 'grantedSite') =>
    insertReportedCamera(t.db, t.world.sites[site].id);
  const openAsTechnician = async () => {
    const { serial } = await camera();
    return openCaseForCamera(t.db, t.world.actors.technician, { serial });
  };

  const opening: Expected = {
    integratorAdmin: 'OK',
    technician: 'OK',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'FORBIDDEN',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'FORBIDDEN',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(opening)) {
    it(`lets ${caller} open a case for a camera of the granted site: ${outcome}`, async () => {
      const { serial } = await camera();
      expect(await outcomeOf(api(caller as CallerName).cases.open({ serial }))).toBe(outcome);
    });
  }

  it('answers a camera of an ungranted or foreign site as not found to the integrator', async () => {
    const ungranted = await camera('ungrantedSite');
    const foreign = await camera('foreignSite');
    expect(await outcomeOf(api('technician').cases.open({ serial: ungranted.serial }))).toBe(
      'NOT_FOUND',
    );
    expect(await outcomeOf(api('technician').cases.open({ serial: foreign.serial }))).toBe(
      'NOT_FOUND',
    );
  });

  it('refuses a second open case for a serial with CONFLICT naming the first', async () => {
    const first = await openAsTechnician();
    const error = await api('integratorAdmin')
      .cases.open({ serial: first.serial })
      .catch((caught: unknown) => caught);
    expect((error as { code: string }).code).toBe('CONFLICT');
    expect((error as Error).message).toContain(first.id);
  });

  const reading: Expected = {
    integratorAdmin: 'OK',
    technician: 'OK',
    integratorAuditor: 'OK',
    ownerApprover: 'OK',
    ownerAuditor: 'OK',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(reading)) {
    it(`shows a case of the granted site to ${caller}: ${outcome}`, async () => {
      const record = await openAsTechnician();
      expect(await outcomeOf(api(caller as CallerName).cases.get({ caseId: record.id }))).toBe(
        outcome,
      );
    });
  }

  it('lists only the cases of the caller’s sites, with the next action', async () => {
    const record = await openAsTechnician();
    const mine = await api('ownerAuditor').cases.list({ status: 'open' });
    expect(mine.items.map((item) => item.id)).toContain(record.id);
    expect(mine.items.find((item) => item.id === record.id)?.next?.action).toBe('triage');
    const theirs = await api('foreignIntegratorAdmin').cases.list({});
    expect(theirs.items.map((item) => item.id)).not.toContain(record.id);
    expect(
      await outcomeOf(
        api('foreignIntegratorAdmin').cases.list({ siteId: t.world.sites.grantedSite.id }),
      ),
    ).toBe('NOT_FOUND');
  });

  it('tells each role which actions it has on the case', async () => {
    const record = await openAsTechnician();
    const asTech = await api('technician').cases.get({ caseId: record.id });
    expect(asTech.can).toMatchObject({
      'add-candidate': true,
      'run-access-check': true,
      cancel: false,
    });
    expect(asTech.nextActions[0]).toMatchObject({ action: 'triage', youCan: true });
    const asOwner = await api('ownerApprover').cases.get({ caseId: record.id });
    expect(asOwner.can).toMatchObject({ 'add-candidate': false, cancel: true });
    expect(asOwner.nextActions[0]?.youCan).toBe(false);
    const asAuditor = await api('integratorAuditor').cases.get({ caseId: record.id });
    expect(Object.values(asAuditor.can).every((allowed) => !allowed)).toBe(true);
  });

  const candidates: Expected = {
    integratorAdmin: 'OK',
    technician: 'OK',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'FORBIDDEN',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'FORBIDDEN',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(candidates)) {
    it(`lets ${caller} add a credential candidate: ${outcome}`, async () => {
      const record = await openAsTechnician();
      expect(
        await outcomeOf(
          api(caller as CallerName).cases.addCandidate({
            caseId: record.id,
            username: 'root',
            password: 'Handover-Sheet-Pass-9',
            source: 'handover sheet',
          }),
        ),
      ).toBe(outcome);
    });
  }

  it('never echoes a candidate password back, in the answer or the case view', async () => {
    const record = await openAsTechnician();
    const secret = 'Never-Echo-This-Walrus-12';
    const added = await api('technician').cases.addCandidate({
      caseId: record.id,
      username: 'root',
      password: secret,
    });
    const view = await api('technician').cases.get({ caseId: record.id });
    expect(JSON.stringify(added)).not.toContain(secret);
    expect(JSON.stringify(view)).not.toContain(secret);
    expect(view.candidates).toHaveLength(1);
    const rows = await t.db.select().from(schema.credentialCandidates);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  const cancelling: Expected = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(cancelling)) {
    it(`lets ${caller} cancel a case: ${outcome}`, async () => {
      const record = await openAsTechnician();
      expect(
        await outcomeOf(
          api(caller as CallerName).cases.cancel({
            caseId: record.id,
            reason: 'The camera is being replaced.',
          }),
        ),
      ).toBe(outcome);
    });
  }

  it('opens cases in bulk for a site and skips the cameras that already have one', async () => {
    const site = t.world.sites.grantedSite.id;
    const first = await camera();
    const second = await camera();
    const already = await openAsTechnician();
    const result = await api('technician').cases.openForSite({
      siteId: site,
      serials: [first.serial, second.serial, already.serial],
    });
    expect(result.opened.map((entry) => entry.serial).sort()).toEqual(
      [first.serial, second.serial].sort(),
    );
    expect(result.skipped).toEqual([
      { serial: already.serial, reason: 'It already has an open case.', caseId: already.id },
    ]);
    expect(
      await outcomeOf(
        api('foreignIntegratorAdmin').cases.openForSite({ siteId: site, filter: {} }),
      ),
    ).toBe('NOT_FOUND');
    expect(await outcomeOf(api('technician').cases.openForSite({ siteId: site }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('refuses an action the state does not allow with CONFLICT', async () => {
    const record = await openAsTechnician();
    expect(await outcomeOf(api('technician').cases.startReset({ caseId: record.id }))).toBe(
      'CONFLICT',
    );
    expect(await outcomeOf(api('technician').cases.startCleanup({ caseId: record.id }))).toBe(
      'CONFLICT',
    );
  });
});
