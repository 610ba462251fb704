import { schema } from '@custody/db';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../gateway/notifications.ts';
import { useWorld } from '../test-support/world.ts';
import { createFleetFeed, type FleetLiveEvent } from './fleet-feed.ts';
import { seedFleet } from './fleet-test-fixtures.ts';

function createEventSource() {
  const listeners = new Set<(event: FleetEvent) => void>();
  return {
    onFleetEvent(listener: (event: FleetEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event: FleetEvent) {
      for (const listener of listeners) listener(event);
    },
  };
}

function eventually<T>(check: () => T) {
  return expect.poll(check, { timeout: 10_000, interval: 20 });
}

describe('the fleet feed', () => {
  const t = useWorld({ beforeAll, afterAll });
  let fleet: Awaited<ReturnType<typeof seedFleet>>;
  beforeAll(async () => {
    fleet = await seedFleet(t.db, t.world);
  });

  function subscribe(topics: ('cameras' | 'agents')[]) {
    const source = createEventSource();
    const feed = createFleetFeed({ db: t.db, source, windowMs: 20 });
    const controller = new AbortController();
    const events: FleetLiveEvent[] = [];
    const done = (async () => {
      const stream = feed.subscribe(t.world.actors.technician, { topics }, controller.signal);
      for await (const event of stream) events.push(event);
    })();
    const stop = async () => {
      controller.abort();
      await done;
    };
    return { source, events, stop };
  }

  it('pushes an agent’s heartbeat (last contact, outbox) to live agent pages', async () => {
    const { source, events, stop } = subscribe(['agents']);
    await eventually(() => events.length).toBe(1);
    const seenAt = new Date(Date.now() - 5_000);
    await t.db
      .update(schema.agents)
      .set({ lastSeenAt: seenAt, outboxDepth: 42 })
      .where(eq(schema.agents.id, fleet.agents.gatehouse.id));
    source.emit({
      event: 'agent-heartbeat',
      agentId: fleet.agents.gatehouse.id,
      siteId: t.world.sites.grantedSite.id,
    });
    await eventually(() =>
      events.flatMap((event) => (event.type === 'changes' ? event.agents : [])),
    ).toEqual([
      expect.objectContaining({ name: 'Harbour gatehouse', outboxDepth: 42, lastSeenAt: seenAt }),
    ]);
    await stop();
  });

  it('reads only the cameras an inventory event names, and the whole site when it names none', async () => {
    const { source, events, stop } = subscribe(['cameras']);
    await eventually(() => events.length).toBe(1);
    // Both change in the database; the event names one.
    await t.db
      .update(schema.cameras)
      .set({ firmware: sql`${schema.cameras.firmware} || '-b'` })
      .where(eq(schema.cameras.siteId, t.world.sites.grantedSite.id));
    const base = {
      event: 'inventory' as const,
      siteId: t.world.sites.grantedSite.id,
      agentId: fleet.agents.gatehouse.id,
    };
    source.emit({ ...base, serials: ['ACCC8E000001'] });
    const changed = () =>
      events.flatMap((event) =>
        event.type === 'changes' ? event.cameras.map((camera) => camera.serial) : [],
      );
    await eventually(changed).toEqual(['ACCC8E000001']);
    source.emit(base);
    await eventually(() => new Set(changed())).toEqual(
      new Set(['ACCC8E000001', 'ACCC8E000002', 'B8A44F000003']),
    );
    await stop();
  });
});
