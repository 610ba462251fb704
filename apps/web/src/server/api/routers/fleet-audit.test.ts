import { AUDIT_FINDINGS } from '@custody/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldErrorsOf } from '../error-table.ts';
import { seedAuditedFleet } from '../../services/fleet-audit/audit-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

type Caller = CallerName | 'anonymous';
type Expected<T> = Record<Caller, T>;

describe('fleetAudit router', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    await seedAuditedFleet(t.db, t.world);
  });

  const cameras: Expected<number | string> = {
    integratorAdmin: 3,
    technician: 3,
    integratorAuditor: 3,
    ownerApprover: 4,
    ownerAuditor: 4,
    foreignIntegratorAdmin: 1,
    foreignOwnerApprover: 1,
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, expected] of Object.entries(cameras)) {
    it(`shows ${caller} the audit of its own organisation (${expected})`, async () => {
      const call = t.as(caller as Caller).fleetAudit.summary();
      if (typeof expected === 'string') {
        expect(await outcomeOf(call)).toBe(expected);
        return;
      }
      const summary = await call;
      expect(summary.fleet.cameras).toBe(expected);
      expect(summary.catalog.map((entry) => entry.code)).toEqual(AUDIT_FINDINGS);
      const findings = await t.as(caller as Caller).fleetAudit.findings({ limit: 50 });
      expect(findings.items).toHaveLength(summary.fleet.withFindings);
      const trend = await t.as(caller as Caller).fleetAudit.trend();
      expect(trend.siteId).toBeNull();
    });
  }

  const foreignSite: Expected<string> = {
    integratorAdmin: 'NOT_FOUND',
    technician: 'NOT_FOUND',
    integratorAuditor: 'NOT_FOUND',
    ownerApprover: 'NOT_FOUND',
    ownerAuditor: 'NOT_FOUND',
    foreignIntegratorAdmin: 'OK',
    foreignOwnerApprover: 'OK',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, expected] of Object.entries(foreignSite)) {
    it(`answers ${caller} ${expected} for the foreign site, in every read`, async () => {
      const api = t.as(caller as Caller).fleetAudit;
      const siteId = t.world.sites.foreignSite.id;
      expect(await outcomeOf(api.summary({ siteId }))).toBe(expected);
      expect(await outcomeOf(api.findings({ siteId, limit: 10 }))).toBe(expected);
      expect(await outcomeOf(api.trend({ siteId, limit: 10 }))).toBe(expected);
    });
  }

  it("refuses another tenant's organisation as if it did not exist", async () => {
    const api = t.as('foreignIntegratorAdmin').fleetAudit;
    const orgId = t.world.orgs.integrator.id;
    expect(await outcomeOf(api.summary({ orgId }))).toBe('NOT_FOUND');
    expect(await outcomeOf(api.settings({ orgId }))).toBe('NOT_FOUND');
    expect(await outcomeOf(api.updateSettings({ orgId, staleAfterDays: 3 }))).toBe('NOT_FOUND');
    expect(await outcomeOf(api.snapshotNow({ orgId }))).toBe('NOT_FOUND');
  });

  const admin: Expected<string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'OK',
    foreignOwnerApprover: 'OK',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, expected] of Object.entries(admin)) {
    it(`lets ${caller} change settings and take a snapshot: ${expected}`, async () => {
      const api = t.as(caller as Caller).fleetAudit;
      expect(await outcomeOf(api.updateSettings({ staleAfterDays: 14, firmwareFloor: '10' }))).toBe(
        expected,
      );
      expect(await outcomeOf(api.snapshotNow())).toBe(expected);
      if (caller !== 'anonymous') {
        const settings = await api.settings();
        expect(settings.canEdit).toBe(expected === 'OK');
        const orgs = await api.organisations();
        expect(orgs.map((org) => org.canAdminister)).toEqual([expected === 'OK']);
      }
    });
  }

  const vmsWriter: Expected<string> = {
    integratorAdmin: 'OK',
    technician: 'OK',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, expected] of Object.entries(vmsWriter)) {
    it(`lets ${caller} record VMS registrations of a home camera: ${expected}`, async () => {
      const api = t.as(caller as Caller).fleetAudit;
      expect(
        await outcomeOf(
          api.markVms({ serials: ['ACCC8E000002'], platform: 'AXIS Camera Station' }),
        ),
      ).toBe(expected);
      const imported = api.importVms({ text: 'ACCC8E000002\n', platform: 'ACS', dryRun: true });
      if (expected === 'OK') {
        expect(await imported).toMatchObject({ applied: false, matched: 1, unknown: [] });
      } else if (expected === 'NOT_FOUND') {
        // A foreign tenant's import just does not find the camera.
        expect(await imported).toMatchObject({ matched: 0, unknown: ['ACCC8E000002'] });
      } else {
        expect(await outcomeOf(imported)).toBe(expected);
      }
    });
  }

  it('refuses malformed input with the field named', async () => {
    const api = t.as('integratorAdmin').fleetAudit;
    for (const input of [
      { staleAfterDays: 0 },
      { staleAfterDays: 3651 },
      { firmwareFloor: 'latest' },
      { snapshotIntervalHours: 0 },
    ]) {
      expect(await outcomeOf(api.updateSettings(input))).toBe('BAD_REQUEST');
    }
    const failure: unknown = await api
      .updateSettings({ staleAfterDays: 0 })
      .catch((e: unknown) => e);
    expect(fieldErrorsOf((failure as { cause?: unknown }).cause)).toEqual({
      staleAfterDays: ['At least one day.'],
    });
    expect(await outcomeOf(api.findings({ finding: 'bogus' as 'not-seen', limit: 10 }))).toBe(
      'BAD_REQUEST',
    );
    expect(await outcomeOf(api.findings({ cursor: "'; drop", limit: 10 }))).toBe('BAD_REQUEST');
    expect(await outcomeOf(api.markVms({ serials: ['nope'] }))).toBe('BAD_REQUEST');
  });
});
