import { auditEvents, vmsRegistrations } from '@custody/db/schema';
import { asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFleet } from '../fleet-test-fixtures.ts';
import { useWorld, type CallerName } from '../../test-support/world.ts';
import { runFleetAudit } from './audit-query.ts';
import { importVmsRegistrations, markVmsRegistrations, parseVmsList } from './vms-registrations.ts';

describe('parseVmsList', () => {
  it('reads bare serials and MAC addresses in any spelling, skipping blanks and comments', () => {
    const list = parseVmsList(
      '# exported from the VMS\nACCC8E000001\n\n ac:cc:8e:00:00:02 \r\naccc8e-00-00-04\n',
    );
    expect(list.errors).toEqual([]);
    expect(list.serials).toEqual([
      { line: 2, serial: 'ACCC8E000001' },
      { line: 4, serial: 'ACCC8E000002' },
      { line: 5, serial: 'ACCC8E000004' },
    ]);
  });

  it("takes the header's serial or MAC column from a CSV export, quoted cells included", () => {
    const list = parseVmsList(
      [
        'Name;Address;MAC address;Model',
        '"Gate, north";10.0.0.5;AC:CC:8E:00:00:01;M3086-V',
        'Yard;10.0.0.6;B8A44F000003;Q6135',
        'Broken;10.0.0.7;unknown;Q6135',
      ].join('\n'),
    );
    expect(list.serials.map((entry) => entry.serial)).toEqual(['ACCC8E000001', 'B8A44F000003']);
    expect(list.errors).toEqual([
      {
        line: 4,
        text: 'Broken;10.0.0.7;unknown;Q6135',
        reason: 'Column 3 is not a serial number or MAC address.',
      },
    ]);
  });

  it('reports each line without a serial by its number', () => {
    const list = parseVmsList('ACCC8E000001\nnot a camera\nACCC8E00000\n');
    expect(list.serials).toHaveLength(1);
    expect(list.errors.map((error) => [error.line, error.reason])).toEqual([
      [2, 'No serial number or MAC address on this line.'],
      [3, 'No serial number or MAC address on this line.'],
    ]);
  });
});

describe('VMS registrations', () => {
  const t = useWorld({ beforeAll, afterAll });
  const actor = (name: CallerName) => t.world.actors[name];
  beforeAll(async () => {
    await seedFleet(t.db, t.world);
  });
  const registered = async () =>
    (
      await t.db
        .select({ serial: vmsRegistrations.serial, source: vmsRegistrations.source })
        .from(vmsRegistrations)
        .orderBy(asc(vmsRegistrations.serial))
    ).map((row) => `${row.serial}:${row.source}`);

  it('marks and unmarks cameras by hand, audited per site, and the audit follows', async () => {
    const before = await runFleetAudit(t.db, actor('integratorAdmin'));
    expect(before.fleet.findings['not-in-vms']).toBe(3);
    await markVmsRegistrations(t.db, actor('technician'), {
      serials: ['ac:cc:8e:00:00:01', 'ACCC8E000002'],
      platform: 'AXIS Camera Station',
    });
    expect(await registered()).toEqual(['ACCC8E000001:manual', 'ACCC8E000002:manual']);
    const after = await runFleetAudit(t.db, actor('integratorAdmin'));
    expect(after.fleet.findings['not-in-vms']).toBe(1);

    await markVmsRegistrations(t.db, actor('technician'), {
      serials: ['ACCC8E000002'],
      registered: false,
    });
    expect(await registered()).toEqual(['ACCC8E000001:manual']);
    const events = await t.db
      .select()
      .from(auditEvents)
      .where(like(auditEvents.action, 'vms-registration.%'))
      .orderBy(asc(auditEvents.seq));
    expect(events.map((event) => [event.action, event.siteId, event.orgId])).toEqual([
      ['vms-registration.marked', t.world.sites.grantedSite.id, t.world.orgs.integrator.id],
      ['vms-registration.removed', t.world.sites.grantedSite.id, t.world.orgs.integrator.id],
    ]);
    expect((events[0]?.payload as { data: unknown }).data).toEqual({
      platform: 'AXIS Camera Station',
      serials: ['ACCC8E000001', 'ACCC8E000002'],
    });
  });

  it('refuses the whole mark when one camera is out of reach, and read-only roles', async () => {
    await expect(
      markVmsRegistrations(t.db, actor('technician'), {
        serials: ['ACCC8E000002', 'ACCC8E000004'],
      }),
    ).rejects.toMatchObject({ code: 'not-found' });
    await expect(
      markVmsRegistrations(t.db, actor('foreignIntegratorAdmin'), { serials: ['ACCC8E000002'] }),
    ).rejects.toMatchObject({ code: 'not-found' });
    for (const caller of ['integratorAuditor', 'ownerAuditor'] as const) {
      await expect(
        markVmsRegistrations(t.db, actor(caller), { serials: ['ACCC8E000002'] }),
      ).rejects.toMatchObject({ code: 'forbidden' });
    }
    expect(await registered()).toEqual(['ACCC8E000001:manual']);
  });

  it('imports nothing from a list with a bad line, and says which', async () => {
    const report = await importVmsRegistrations(t.db, actor('ownerApprover'), {
      text: 'ACCC8E000002\nACCC8E000004\nfront door\n',
      platform: 'Milestone XProtect',
    });
    expect(report).toMatchObject({ applied: false, matched: 2, added: 2, unknown: [] });
    expect(report.errors).toEqual([
      { line: 3, text: 'front door', reason: 'No serial number or MAC address on this line.' },
    ]);
    expect(await registered()).toEqual(['ACCC8E000001:manual']);
  });

  it('checks a list without recording it, then imports it, leaving out serials not in the fleet', async () => {
    const text = 'MAC\nACCC8E000001\nACCC8E000004\nB8A44F000003\nE82725000005\n00408CFFFFFF\n';
    const dry = await importVmsRegistrations(t.db, actor('ownerApprover'), {
      text,
      platform: 'Milestone XProtect',
      dryRun: true,
    });
    expect(dry).toEqual({
      applied: false,
      matched: 3,
      added: 2,
      unknown: ['E82725000005', '00408CFFFFFF'],
      errors: [],
    });
    expect(await registered()).toEqual(['ACCC8E000001:manual']);

    const done = await importVmsRegistrations(t.db, actor('ownerApprover'), {
      text,
      platform: 'Milestone XProtect',
    });
    expect(done).toMatchObject({ applied: true, matched: 3, added: 2 });
    expect(await registered()).toEqual([
      'ACCC8E000001:import',
      'ACCC8E000004:import',
      'B8A44F000003:import',
    ]);
    const imported = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'vms-registration.imported'))
      .orderBy(asc(auditEvents.seq));
    expect(imported.map((event) => [event.siteId, event.orgId])).toEqual(
      expect.arrayContaining([
        [t.world.sites.grantedSite.id, t.world.orgs.owner.id],
        [t.world.sites.ungrantedSite.id, t.world.orgs.owner.id],
      ]),
    );
    expect(imported).toHaveLength(2);
  });

  it('refuses an empty list and a missing platform', async () => {
    await expect(
      importVmsRegistrations(t.db, actor('ownerApprover'), { text: '# nothing\n', platform: 'X' }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(
      importVmsRegistrations(t.db, actor('ownerApprover'), { text: 'ACCC8E000001', platform: ' ' }),
    ).rejects.toThrow(/Name the VMS/);
  });
});
