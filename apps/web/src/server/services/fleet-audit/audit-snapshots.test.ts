import { auditEvents, fleetAuditSnapshots } from '@custody/db/schema';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useWorld, type CallerName } from '../../test-support/world.ts';
import {
  listAuditTrend,
  startAuditScheduler,
  takeDueSnapshots,
  takeSnapshotNow,
} from './audit-snapshots.ts';
import { seedAuditedFleet } from './audit-test-fixtures.ts';
import { markVmsRegistrations } from './vms-registrations.ts';

const HOUR = 3_600_000;

describe('fleet audit snapshots', () => {
  const t = useWorld({ beforeAll, afterAll });
  const actor = (name: CallerName) => t.world.actors[name];
  beforeAll(async () => {
    await seedAuditedFleet(t.db, t.world);
  });
  const snapshotsOf = (orgId: string) =>
    t.db
      .select()
      .from(fleetAuditSnapshots)
      .where(eq(fleetAuditSnapshots.orgId, orgId))
      .orderBy(asc(fleetAuditSnapshots.takenAt));

  it('takes a snapshot on demand for an admin, with per-site counts, audited', async () => {
    const snapshot = await takeSnapshotNow(t.db, actor('ownerApprover'));
    expect(snapshot).toMatchObject({ trigger: 'manual', cameraCount: 4 });
    const [row] = await snapshotsOf(t.world.orgs.owner.id);
    expect(row?.totals).toMatchObject({ 'not-in-vms': 3, 'factory-default': 1 });
    expect(row?.sites).toEqual({
      [t.world.sites.grantedSite.id]: {
        cameras: 3,
        withFindings: 2,
        findings: {
          'no-owner-record': 2,
          'no-documented-credential': 2,
          'unverified-after-reset': 1,
          'not-in-vms': 2,
          'duplicate-serial': 1,
        },
      },
      [t.world.sites.ungrantedSite.id]: {
        cameras: 1,
        withFindings: 1,
        findings: {
          'no-owner-record': 1,
          'no-documented-credential': 1,
          'not-in-vms': 1,
          'factory-default': 1,
        },
      },
    });
    expect(row?.settings).toEqual({ firmwareFloor: null, staleAfterDays: 30 });
    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'fleet-audit.snapshot-taken'));
    expect(event).toMatchObject({
      orgId: t.world.orgs.owner.id,
      actorId: t.world.people.ownerApprover.id,
      subjectId: snapshot.id,
    });
  });

  it('refuses "snapshot now" to read-only roles', async () => {
    for (const caller of ['ownerAuditor', 'integratorAuditor', 'technician'] as const) {
      await expect(takeSnapshotNow(t.db, actor(caller))).rejects.toMatchObject({
        code: 'forbidden',
      });
    }
  });

  it('takes each due snapshot once, even when two processes run the schedule at once', async () => {
    const now = new Date();
    const taken = await Promise.all([takeDueSnapshots(t.db, now), takeDueSnapshots(t.db, now)]);
    // Integrator, foreign integrator and foreign owner; the owner took one a moment ago.
    expect(taken[0] + taken[1]).toBe(3);
    for (const org of [t.world.orgs.integrator, t.world.orgs.foreignIntegrator]) {
      expect((await snapshotsOf(org.id)).map((row) => row.trigger)).toEqual(['scheduled']);
    }
    expect(await takeDueSnapshots(t.db, new Date(now.getTime() + HOUR))).toBe(0);
    // A day later, every organisation with cameras is due again.
    expect(await takeDueSnapshots(t.db, new Date(now.getTime() + 25 * HOUR))).toBe(4);
  });

  it('shows the trend fleet-wide and per site, oldest first', async () => {
    await markVmsRegistrations(t.db, actor('ownerApprover'), {
      serials: ['ACCC8E000004'],
      platform: 'AXIS Camera Station',
    });
    await takeSnapshotNow(t.db, actor('ownerApprover'));
    const fleet = await listAuditTrend(t.db, actor('ownerAuditor'), {});
    expect(fleet.siteId).toBeNull();
    // The scheduled snapshot was taken "a day later" by the previous test, so it comes last.
    expect(fleet.points.map((point) => [point.trigger, point.findings['not-in-vms']])).toEqual([
      ['manual', 3],
      ['manual', 2],
      ['scheduled', 3],
    ]);
    const depot = await listAuditTrend(t.db, actor('ownerAuditor'), {
      siteId: t.world.sites.ungrantedSite.id,
    });
    expect(depot.points.map((point) => [point.cameras, point.findings['not-in-vms']])).toEqual([
      [1, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(depot.points[1]?.findings['factory-default']).toBe(1);
    await expect(
      listAuditTrend(t.db, actor('integratorAuditor'), { siteId: t.world.sites.ungrantedSite.id }),
    ).rejects.toMatchObject({ code: 'not-found' });
    const foreign = await listAuditTrend(t.db, actor('foreignIntegratorAdmin'), {});
    expect(foreign.points.every((point) => point.cameras === 1)).toBe(true);
  });

  it('runs the schedule in the background until closed', async () => {
    await t.db.delete(fleetAuditSnapshots);
    const scheduler = startAuditScheduler({ db: t.db, firstCheckMs: 0, checkIntervalMs: 60_000 });
    try {
      await vi.waitFor(
        async () => {
          expect(await t.db.select().from(fleetAuditSnapshots)).toHaveLength(4);
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(await scheduler.runOnce()).toBe(0);
    } finally {
      await scheduler.close();
    }
  });
});
