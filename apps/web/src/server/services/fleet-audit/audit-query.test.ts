import { AUDIT_FINDINGS, emptyFindingCounts, type AuditFinding } from '@custody/core';
import { auditEvents } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorld, type CallerName } from '../../test-support/world.ts';
import { listFindings, runFleetAudit, type AuditedCamera } from './audit-query.ts';
import { getAuditSettings, updateAuditSettings } from './audit-settings.ts';
import { seedAuditedFleet } from './audit-test-fixtures.ts';

function countsOf(items: readonly AuditedCamera[]) {
  const counts = emptyFindingCounts();
  for (const item of items) for (const finding of item.findings) counts[finding] += 1;
  return counts;
}

function findingsBySerial(items: readonly AuditedCamera[]): Record<string, AuditFinding[]> {
  return Object.fromEntries(items.map((item) => [item.serial, item.findings]));
}

describe('the fleet documentation audit', () => {
  const t = useWorld({ beforeAll, afterAll });
  const actor = (name: CallerName) => t.world.actors[name];
  beforeAll(async () => {
    await seedAuditedFleet(t.db, t.world);
    await updateAuditSettings(t.db, actor('integratorAdmin'), {
      firmwareFloor: '11',
      staleAfterDays: 5,
      snapshotIntervalHours: 12,
    });
  });

  it("judges each camera of the integrator's granted site by the integrator's settings", async () => {
    const page = await listFindings(t.db, actor('integratorAuditor'), { limit: 50 });
    expect(findingsBySerial(page.items)).toEqual({
      ACCC8E000002: [
        'no-owner-record',
        'no-documented-credential',
        'unverified-after-reset',
        'not-in-vms',
        'firmware-below-floor',
        'duplicate-serial',
      ],
      B8A44F000003: ['no-owner-record', 'no-documented-credential', 'not-seen', 'not-in-vms'],
    });
    expect(page.nextCursor).toBeNull();
  });

  it("judges the owner's two sites by the owner's default settings", async () => {
    const page = await listFindings(t.db, actor('ownerAuditor'), { limit: 50 });
    expect(findingsBySerial(page.items)).toEqual({
      ACCC8E000002: [
        'no-owner-record',
        'no-documented-credential',
        'unverified-after-reset',
        'not-in-vms',
        'duplicate-serial',
      ],
      ACCC8E000004: [
        'no-owner-record',
        'no-documented-credential',
        'not-in-vms',
        'factory-default',
      ],
      B8A44F000003: ['no-owner-record', 'no-documented-credential', 'not-in-vms'],
    });
  });

  for (const caller of ['integratorAdmin', 'ownerApprover', 'foreignIntegratorAdmin'] as const) {
    it(`counts in SQL exactly what core's rules find camera by camera (${caller})`, async () => {
      const summary = await runFleetAudit(t.db, actor(caller));
      const all = await listFindings(t.db, actor(caller), { limit: 1000 });
      expect(summary.fleet.findings).toEqual(countsOf(all.items));
      expect(summary.fleet.withFindings).toBe(all.items.length);
      for (const finding of AUDIT_FINDINGS) {
        const only = await listFindings(t.db, actor(caller), { finding, limit: 1000 });
        expect(only.items.every((item) => item.findings.includes(finding))).toBe(true);
        expect(only.items).toHaveLength(summary.fleet.findings[finding]);
      }
    });
  }

  it('reports per site and fleet-wide, with the settings and the versions below the floor', async () => {
    const summary = await runFleetAudit(t.db, actor('integratorAdmin'));
    expect(summary.organisation.id).toBe(t.world.orgs.integrator.id);
    expect(summary.settings).toEqual({
      firmwareFloor: '11',
      staleAfterDays: 5,
      snapshotIntervalHours: 12,
    });
    expect(summary.firmwareBelowFloor).toEqual(['9.80.3']);
    expect(summary.sites).toEqual([
      {
        siteId: t.world.sites.grantedSite.id,
        siteName: 'Harbour Street',
        cameras: 3,
        withFindings: 2,
        findings: {
          'no-owner-record': 2,
          'no-documented-credential': 2,
          'unverified-after-reset': 1,
          'not-seen': 1,
          'not-in-vms': 2,
          'firmware-below-floor': 1,
          'duplicate-serial': 1,
          'factory-default': 0,
        },
      },
    ]);
    expect(summary.fleet).toMatchObject({ sites: 1, cameras: 3, withFindings: 2 });

    const owner = await runFleetAudit(t.db, actor('ownerApprover'));
    expect(owner.sites.map((site) => [site.siteName, site.cameras, site.withFindings])).toEqual([
      ['Harbour Depot', 1, 1],
      ['Harbour Street', 3, 2],
    ]);
    expect(owner.fleet).toMatchObject({ sites: 2, cameras: 4, withFindings: 3 });
    expect(owner.fleet.findings['factory-default']).toBe(1);
    expect(owner.firmwareBelowFloor).toEqual([]);
  });

  it('narrows to one site, and refuses a site of another tenant as if it did not exist', async () => {
    const { grantedSite, ungrantedSite, foreignSite } = t.world.sites;
    const one = await runFleetAudit(t.db, actor('ownerAuditor'), { siteId: ungrantedSite.id });
    expect(one.siteId).toBe(ungrantedSite.id);
    expect(one.sites.map((site) => site.siteName)).toEqual(['Harbour Depot']);
    const page = await listFindings(t.db, actor('ownerAuditor'), {
      siteId: grantedSite.id,
      finding: 'no-owner-record',
      limit: 10,
    });
    expect(page.items.map((item) => item.serial)).toEqual(['ACCC8E000002', 'B8A44F000003']);
    for (const siteId of [foreignSite.id, ungrantedSite.id]) {
      await expect(runFleetAudit(t.db, actor('integratorAdmin'), { siteId })).rejects.toMatchObject(
        { code: 'not-found' },
      );
    }
    await expect(
      listFindings(t.db, actor('integratorAdmin'), { siteId: foreignSite.id, limit: 10 }),
    ).rejects.toMatchObject({ code: 'not-found' });
  });

  it('pages the drill-down by serial', async () => {
    const first = await listFindings(t.db, actor('ownerApprover'), { limit: 2 });
    expect(first.items.map((item) => item.serial)).toEqual(['ACCC8E000002', 'ACCC8E000004']);
    expect(first.nextCursor).toBe('ACCC8E000004');
    const second = await listFindings(t.db, actor('ownerApprover'), {
      limit: 2,
      cursor: first.nextCursor ?? undefined,
    });
    expect(second.items.map((item) => item.serial)).toEqual(['B8A44F000003']);
    expect(second.nextCursor).toBeNull();
    expect(second.items[0]).toMatchObject({
      siteName: 'Harbour Street',
      model: null,
      firmware: null,
      accessState: null,
    });
  });

  it('shows a foreign tenant only its own camera, and an organisation it is not in as missing', async () => {
    const foreign = await runFleetAudit(t.db, actor('foreignIntegratorAdmin'));
    expect(foreign.sites.map((site) => site.siteName)).toEqual(['Quay Warehouse']);
    expect(foreign.fleet.cameras).toBe(1);
    await expect(
      runFleetAudit(t.db, actor('foreignIntegratorAdmin'), { orgId: t.world.orgs.integrator.id }),
    ).rejects.toMatchObject({ code: 'not-found' });
  });

  it('keeps settings per organisation, editable by its admins only, and audits each change', async () => {
    const mine = await getAuditSettings(t.db, actor('integratorAuditor'));
    expect(mine).toMatchObject({ firmwareFloor: '11', staleAfterDays: 5, canEdit: false });
    expect(mine.updatedBy).toBe(t.world.people.integratorAdmin.id);
    const owners = await getAuditSettings(t.db, actor('ownerApprover'));
    expect(owners).toMatchObject({ firmwareFloor: null, staleAfterDays: 30, canEdit: true });
    expect(owners.updatedAt).toBeNull();

    for (const caller of ['integratorAuditor', 'technician', 'ownerAuditor'] as const) {
      await expect(
        updateAuditSettings(t.db, actor(caller), { staleAfterDays: 7 }),
      ).rejects.toMatchObject({ code: 'forbidden' });
    }
    await expect(
      updateAuditSettings(t.db, actor('ownerApprover'), { staleAfterDays: 0 }),
    ).rejects.toThrow();

    const events = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'fleet-audit.settings-updated'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      orgId: t.world.orgs.integrator.id,
      actorId: t.world.people.integratorAdmin.id,
    });
    expect((events[0]?.payload as { data: unknown }).data).toEqual({
      before: { firmwareFloor: null, staleAfterDays: 30, snapshotIntervalHours: 24 },
      after: { firmwareFloor: '11', staleAfterDays: 5, snapshotIntervalHours: 12 },
    });
  });
});
