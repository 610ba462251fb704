import { schema } from '@custody/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCommand, seedFleet } from '../../services/fleet-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

type Expected<T> = Record<CallerName | 'anonymous', T>;

describe('cameras.get', () => {
  const t = useWorld({ beforeAll, afterAll });
  let fleet: Awaited<ReturnType<typeof seedFleet>>;
  beforeAll(async () => {
    fleet = await seedFleet(t.db, t.world);
  });

  const expected: Expected<{ granted: string; ungranted: string; foreign: string }> = {
    integratorAdmin: { granted: 'OK', ungranted: 'NOT_FOUND', foreign: 'NOT_FOUND' },
    technician: { granted: 'OK', ungranted: 'NOT_FOUND', foreign: 'NOT_FOUND' },
    integratorAuditor: { granted: 'OK', ungranted: 'NOT_FOUND', foreign: 'NOT_FOUND' },
    ownerApprover: { granted: 'OK', ungranted: 'OK', foreign: 'NOT_FOUND' },
    ownerAuditor: { granted: 'OK', ungranted: 'OK', foreign: 'NOT_FOUND' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND', foreign: 'OK' },
    foreignOwnerApprover: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND', foreign: 'OK' },
    anonymous: { granted: 'UNAUTHORIZED', ungranted: 'UNAUTHORIZED', foreign: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.granted} / ${outcome.ungranted} / ${outcome.foreign} for cameras of the granted, ungranted and foreign sites`, async () => {
      const api = t.as(caller as CallerName);
      expect(await outcomeOf(api.cameras.get({ serial: 'ACCC8E000001' }))).toBe(outcome.granted);
      expect(await outcomeOf(api.cameras.get({ serial: 'ACCC8E000004' }))).toBe(outcome.ungranted);
      expect(await outcomeOf(api.cameras.get({ serial: 'E82725000005' }))).toBe(outcome.foreign);
    });
  }

  it('answers a serial nobody has seen exactly like a foreign one, and a malformed one as bad input', async () => {
    const api = t.as('ownerApprover');
    expect(await outcomeOf(api.cameras.get({ serial: 'ACCC8EFFFFFF' }))).toBe('NOT_FOUND');
    expect(await outcomeOf(api.cameras.get({ serial: 'not a serial' }))).toBe('BAD_REQUEST');
  });

  it('shows identity, address history, access state, site, owner, agent and a timeline', async () => {
    const serial = 'ACCC8E000001';
    const moved = new Date(Date.now() - 25 * 3_600_000);
    await t.db.insert(schema.cameraAddresses).values({
      serial,
      address: '192.168.0.90',
      source: 'default-ip',
      firstSeenAt: new Date(Date.now() - 30 * 3_600_000),
      lastSeenAt: moved,
    });
    const probe = await insertCommand(t.db, {
      agentId: fleet.agents.gatehouse.id,
      serial,
      verb: 'probe',
      status: 'succeeded',
      requestedBy: t.world.people.technician.id,
      queuedAt: new Date(Date.now() - 20 * 60_000),
      completedAt: new Date(Date.now() - 19 * 60_000),
      params: { credential: 'admin' },
      result: { accessState: 'authenticated' },
    });
    const failed = await insertCommand(t.db, {
      agentId: fleet.agents.gatehouse.id,
      serial,
      verb: 'soft-restart',
      status: 'failed',
      queuedAt: new Date(Date.now() - 10 * 60_000),
      completedAt: new Date(Date.now() - 9 * 60_000),
      error: { code: 'unreachable', message: 'The camera did not answer.', outcome: 'failed' },
    });
    // Another tenant's agent reporting the same serial is not this tenant's to know.
    await t.db.insert(schema.cameraSiteConflicts).values({
      serial,
      agentId: fleet.agents.quay.id,
      siteId: t.world.sites.foreignSite.id,
      url: 'http://10.40.0.77/',
      address: '10.40.0.77',
    });

    const camera = await t.as('technician').cameras.get({ serial: 'accc8e-00:00:01' });
    expect(camera).toMatchObject({
      serial,
      mac: 'AC:CC:8E:00:00:01',
      model: 'M3086-V',
      productName: 'AXIS M3086-V Dome Camera',
      firmware: '11.11.73',
      hardwareId: '9A1.1',
      accessState: 'authenticated',
      address: '10.20.0.21',
      url: 'http://10.20.0.21/',
      lostAt: null,
      site: { name: 'Harbour Street', ownerName: 'Harbour Bakery' },
      ownership: null,
      agent: { name: 'Harbour gatehouse', status: 'online' },
    });
    expect(camera.addresses.map((row) => [row.address, row.source, row.current])).toEqual([
      ['10.20.0.21', 'scan', true],
      ['192.168.0.90', 'default-ip', false],
    ]);
    expect(camera.commands.map((command) => command.id)).toEqual([failed.id, probe.id]);
    expect(camera.commands[0]?.error).toEqual({
      code: 'unreachable',
      message: 'The camera did not answer.',
    });
    expect(camera.commands[1]?.requestedByName).toBe('tech');
    expect(JSON.stringify(camera)).not.toContain('credential');

    const timeline = camera.timeline.map((entry) =>
      entry.kind === 'command-queued' || entry.kind === 'command-finished'
        ? `${entry.kind} ${entry.command.verb}`
        : entry.kind === 'discovered' || entry.kind === 'address'
          ? `${entry.kind} ${entry.address}`
          : entry.kind,
    );
    expect(timeline).toEqual([
      'command-finished soft-restart',
      'command-queued soft-restart',
      'command-finished probe',
      'command-queued probe',
      'address 192.168.0.90',
      'discovered 10.20.0.21',
    ]);
    expect(JSON.stringify(camera)).not.toContain('10.40.0.77');
    const owners = await t.as('foreignOwnerApprover').cameras.get({ serial: 'E82725000005' });
    expect(owners.timeline.map((entry) => entry.kind)).toContain('discovered');
  });

  it('shows a camera the agent stopped seeing as lost, and a sighting by another site of the same tenant', async () => {
    const camera = await t.as('ownerApprover').cameras.get({ serial: 'B8A44F000003' });
    expect(camera.lostAt).toBeInstanceOf(Date);
    expect(camera.timeline[0]?.kind).toBe('lost');
    expect(camera.accessState).toBeNull();

    await t.db.insert(schema.cameraSiteConflicts).values({
      serial: 'B8A44F000003',
      agentId: fleet.agents.depot.id,
      siteId: t.world.sites.ungrantedSite.id,
      url: 'http://10.30.0.77/',
      address: '10.30.0.77',
    });
    const forOwner = await t.as('ownerApprover').cameras.get({ serial: 'B8A44F000003' });
    expect(forOwner.timeline).toContainEqual(
      expect.objectContaining({ kind: 'seen-elsewhere', siteName: 'Harbour Depot' }),
    );
    // The integrator has no grant on the depot: it does not learn about that sighting.
    const forIntegrator = await t.as('technician').cameras.get({ serial: 'B8A44F000003' });
    expect(forIntegrator.timeline.map((entry) => entry.kind)).not.toContain('seen-elsewhere');
  });
});
