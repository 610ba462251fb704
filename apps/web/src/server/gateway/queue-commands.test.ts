import { isDomainError } from '@custody/core';
import { schema } from '@custody/db';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAgent } from '../services/fleet-test-fixtures.ts';
import { useWorld } from '../test-support/world.ts';
import { FLEET_CHANNEL, FleetEventSchema, parseNotification } from './notifications.ts';
import { queueCommands, type QueueCommandInput } from './queue-command.ts';

const { commands } = schema;

describe('queueing many commands at once', () => {
  const t = useWorld({ beforeAll, afterAll });
  let gatehouse: string;
  let depot: string;

  beforeAll(async () => {
    gatehouse = (await insertAgent(t.db, t.world.sites.grantedSite.id, 'gatehouse')).id;
    depot = (await insertAgent(t.db, t.world.sites.ungrantedSite.id, 'depot')).id;
  });

  const test = (
    agentId: string,
    serial: string,
    requestedBy: string | null,
  ): QueueCommandInput => ({
    agentId,
    serial,
    verb: 'test-credential',
    params: { credentials: ['next', 'previous'] },
    secretsRef: {
      next: 'credential:00000000-0000-4000-8000-000000000001',
      previous: 'credential:00000000-0000-4000-8000-000000000002',
    },
    requestedBy,
  });

  it('queues each like queueCommand would, and tells every process about each', async () => {
    const heard: string[] = [];
    const unlisten = await t.handle.listen(FLEET_CHANNEL, (payload) => {
      const event = parseNotification(FleetEventSchema, payload);
      if (event?.event === 'command') heard.push(event.commandId);
    });
    const queued = await queueCommands(t.db, [
      test(gatehouse, 'ACCC8E00B001', t.world.people.integratorAdmin.id),
      test(gatehouse, 'accc8e00b002', null),
      test(depot, 'ACCC8E00B003', t.world.people.ownerApprover.id),
    ]);
    expect(queued).toHaveLength(3);
    const rows = await t.db
      .select()
      .from(commands)
      .where(
        inArray(
          commands.id,
          queued.map((command) => command.commandId),
        ),
      );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const [first, second, third] = queued.map((command) => byId.get(command.commandId)!);
    expect(first).toMatchObject({
      status: 'queued',
      agentId: gatehouse,
      serial: 'ACCC8E00B001',
      verb: 'test-credential',
      requestedBy: t.world.people.integratorAdmin.id,
      secretsRef: {
        next: 'credential:00000000-0000-4000-8000-000000000001',
        previous: 'credential:00000000-0000-4000-8000-000000000002',
      },
    });
    // Serials are normalised; the payload is what queueCommand stores.
    expect(second?.serial).toBe('ACCC8E00B002');
    expect(third?.payload).toMatchObject({
      agentId: depot,
      siteId: t.world.sites.ungrantedSite.id,
      verb: 'test-credential',
      approval: null,
    });
    expect(new Set(rows.map((row) => row.nonce)).size).toBe(3);
    for (let wait = 0; wait < 100 && heard.length < 3; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await unlisten();
    expect(heard.sort()).toEqual(queued.map((command) => command.commandId).sort());
  });

  it('queues nothing when one of them is refused', async () => {
    const before = await t.db.select({ id: commands.id }).from(commands);
    const refused = await queueCommands(t.db, [
      test(gatehouse, 'ACCC8E00B011', t.world.people.technician.id),
      // The integrator holds no grant on the depot.
      test(depot, 'ACCC8E00B012', t.world.people.technician.id),
    ]).catch((error: unknown) => error);
    expect(isDomainError(refused, 'forbidden')).toBe(true);
    const malformed = await queueCommands(t.db, [
      test(gatehouse, 'ACCC8E00B013', null),
      { ...test(gatehouse, 'ACCC8E00B014', null), secretsRef: { next: 'credential:x' } },
    ]).catch((error: unknown) => error);
    expect(isDomainError(malformed, 'invalid-input')).toBe(true);
    const destructive = await queueCommands(t.db, [
      {
        agentId: gatehouse,
        serial: 'ACCC8E00B015',
        verb: 'factory-default-soft',
        params: { credential: 'admin' },
        secretsRef: { admin: 'credential:00000000-0000-4000-8000-000000000001' },
        requestedBy: null,
      },
    ]).catch((error: unknown) => error);
    expect(isDomainError(destructive, 'invalid-input')).toBe(true);
    expect(await t.db.select({ id: commands.id }).from(commands)).toHaveLength(before.length);
    expect(await queueCommands(t.db, [])).toEqual([]);
  });
});
