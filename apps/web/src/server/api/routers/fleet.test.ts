import { rowsOf, schema } from '@custody/db';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_HEADER } from '../../auth/client-address.ts';
import { createAuth } from '../../auth/create-auth.ts';
import type { FleetEvent } from '../../gateway/index.ts';
import { setPassword } from '../../services/accounts.ts';
import { createFleetFeed, type FleetLiveEvent } from '../../services/fleet-feed.ts';
import type { FleetQueryInput } from '../../services/fleet-query.ts';
import { insertCamera, seedFleet } from '../../services/fleet-test-fixtures.ts';
import { fleetSearchCondition } from '../../services/fleet.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { handleTrpcRequest } from '../http-handler.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected<T> = Record<CallerName | 'anonymous', T>;

const HOME_GRANTED = ['ACCC8E000001', 'ACCC8E000002', 'B8A44F000003'];
const HOME_ALL = ['ACCC8E000001', 'ACCC8E000002', 'ACCC8E000004', 'B8A44F000003'];
const FOREIGN = ['E82725000005'];

const visible: Expected<string[] | string> = {
  integratorAdmin: HOME_GRANTED,
  technician: HOME_GRANTED,
  integratorAuditor: HOME_GRANTED,
  ownerApprover: HOME_ALL,
  ownerAuditor: HOME_ALL,
  foreignIntegratorAdmin: FOREIGN,
  foreignOwnerApprover: FOREIGN,
  anonymous: 'UNAUTHORIZED',
};

describe('fleet.list', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    await seedFleet(t.db, t.world);
  });
  const list = (input: FleetQueryInput = {}, caller: CallerName = 'ownerApprover') =>
    t.as(caller).fleet.list(input);
  const serials = async (input: FleetQueryInput, caller: CallerName = 'ownerApprover') =>
    (await list(input, caller)).items.map((camera) => camera.serial);

  for (const [caller, expected] of Object.entries(visible)) {
    it(`shows ${caller} ${Array.isArray(expected) ? expected.join(', ') : expected}`, async () => {
      const call = t.as(caller as CallerName).fleet.list({});
      if (typeof expected === 'string') {
        expect(await outcomeOf(call)).toBe(expected);
      } else {
        const page = await call;
        expect(page.items.map((camera) => camera.serial)).toEqual(expected);
        expect(page.total).toBe(expected.length);
      }
    });
  }

  const bySite: Expected<{ granted: string; foreign: string }> = {
    integratorAdmin: { granted: 'OK', foreign: 'NOT_FOUND' },
    technician: { granted: 'OK', foreign: 'NOT_FOUND' },
    integratorAuditor: { granted: 'OK', foreign: 'NOT_FOUND' },
    ownerApprover: { granted: 'OK', foreign: 'NOT_FOUND' },
    ownerAuditor: { granted: 'OK', foreign: 'NOT_FOUND' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', foreign: 'OK' },
    foreignOwnerApprover: { granted: 'NOT_FOUND', foreign: 'OK' },
    anonymous: { granted: 'UNAUTHORIZED', foreign: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(bySite)) {
    it(`answers ${caller} ${outcome.granted} filtering by the home site and ${outcome.foreign} by the foreign one`, async () => {
      const api = t.as(caller as CallerName);
      const { grantedSite, foreignSite } = t.world.sites;
      expect(await outcomeOf(api.fleet.list({ siteId: grantedSite.id }))).toBe(outcome.granted);
      expect(await outcomeOf(api.fleet.list({ siteId: foreignSite.id }))).toBe(outcome.foreign);
    });
  }

  it('filters by site, access state, model, firmware and presence', async () => {
    const { grantedSite, ungrantedSite } = t.world.sites;
    expect(await serials({ siteId: ungrantedSite.id })).toEqual(['ACCC8E000004']);
    expect(await serials({ siteId: grantedSite.id, accessState: 'login-failed' })).toEqual([
      'ACCC8E000002',
    ]);
    expect(await serials({ accessState: 'unknown' })).toEqual(['B8A44F000003']);
    expect(await serials({ model: 'M3086-V' })).toEqual(['ACCC8E000001']);
    expect(await serials({ firmware: '12.0.1' })).toEqual(['ACCC8E000004']);
    expect(await serials({ presence: 'lost' })).toEqual(['B8A44F000003']);
    expect(await serials({ presence: 'present' })).toEqual([
      'ACCC8E000001',
      'ACCC8E000002',
      'ACCC8E000004',
    ]);
  });

  it('filters by how long ago a camera was last seen', async () => {
    expect(await serials({ seenWithin: '1h' })).toEqual(['ACCC8E000001']);
    expect(await serials({ seenWithin: '24h' })).toEqual(['ACCC8E000001', 'ACCC8E000004']);
    expect(await serials({ notSeenFor: '24h' })).toEqual(['ACCC8E000002', 'B8A44F000003']);
    expect(await serials({ notSeenFor: '7d' })).toEqual(['B8A44F000003']);
    expect(await serials({ seenWithin: '7d', notSeenFor: '90m' })).toEqual([
      'ACCC8E000002',
      'ACCC8E000004',
    ]);
  });

  it('searches serials in any MAC spelling, models and product names, never across tenants', async () => {
    expect(await serials({ q: 'ac:cc:8e:00:00:0' })).toEqual([
      'ACCC8E000001',
      'ACCC8E000002',
      'ACCC8E000004',
    ]);
    expect(await serials({ q: 'b8a4' })).toEqual(['B8A44F000003']);
    expect(await serials({ q: 'p3265' })).toEqual(['ACCC8E000002']);
    expect(await serials({ q: 'ptz camera' })).toEqual(['ACCC8E000004']);
    expect(await serials({ q: 'dome' })).toEqual(['ACCC8E000001', 'ACCC8E000002']);
    expect(await serials({ q: 'E82725' })).toEqual([]);
    expect(await serials({ q: 'E82725' }, 'foreignIntegratorAdmin')).toEqual(FOREIGN);
    // LIKE wildcards in the search are plain characters.
    expect(await serials({ q: '%' })).toEqual([]);
    expect(await serials({ q: '_' })).toEqual([]);
  });

  it('sorts by each column both ways, empty values last, ties by serial', async () => {
    expect(await serials({ sort: 'serial', dir: 'desc' })).toEqual([...HOME_ALL].sort().reverse());
    expect(await serials({ sort: 'model' })).toEqual([
      'ACCC8E000001',
      'ACCC8E000002',
      'ACCC8E000004',
      'B8A44F000003',
    ]);
    expect(await serials({ sort: 'model', dir: 'desc' })).toEqual([
      'ACCC8E000004',
      'ACCC8E000002',
      'ACCC8E000001',
      'B8A44F000003',
    ]);
    // 9.80.3 < 11.11.73 < 12.0.1 as versions, not as text.
    expect(await serials({ sort: 'firmware' })).toEqual([
      'ACCC8E000002',
      'ACCC8E000001',
      'ACCC8E000004',
      'B8A44F000003',
    ]);
    expect(await serials({ sort: 'lastSeen', dir: 'desc' })).toEqual([
      'ACCC8E000001',
      'ACCC8E000004',
      'ACCC8E000002',
      'B8A44F000003',
    ]);
    expect(await serials({ sort: 'site' })).toEqual(['ACCC8E000004', ...HOME_GRANTED]);
    expect(await serials({ sort: 'accessState' })).toEqual([
      'ACCC8E000001',
      'ACCC8E000004',
      'ACCC8E000002',
      'B8A44F000003',
    ]);
  });

  it('pages on the server with a total that counts every page', async () => {
    const first = await list({ pageSize: 10, sort: 'serial' });
    expect(first).toMatchObject({ total: 4, page: 1, pageSize: 10, pageCount: 1 });
    const beyond = await list({ pageSize: 10, page: 3 });
    expect(beyond.items).toEqual([]);
    expect(beyond.total).toBe(4);
  });

  it('reports bad input', async () => {
    expect(await outcomeOf(list({ pageSize: 5000 }))).toBe('BAD_REQUEST');
    expect(await outcomeOf(list({ seenWithin: 'yesterday' }))).toBe('BAD_REQUEST');
    expect(await outcomeOf(list({ sort: 'password' as 'serial' }))).toBe('BAD_REQUEST');
  });

  it('searches through the trigram indexes', async () => {
    for (let i = 0; i < 200; i++) {
      await insertCamera(t.db, {
        serial: `00408C${i.toString(16).toUpperCase().padStart(6, '0')}`,
        siteId: t.world.sites.grantedSite.id,
        agentId: null,
        model: `Model ${i}`,
        productName: `Product ${i}`,
        firmware: '10.12.1',
        address: `10.50.${Math.floor(i / 250)}.${i % 250}`,
        accessState: 'authenticated',
        seenHoursAgo: 1,
      });
    }
    await t.db.execute(sql`analyze cameras`);
    const condition = fleetSearchCondition('accc8e');
    const plan = await t.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const result = await tx.execute(
        sql`explain select ${schema.cameras.serial} from ${schema.cameras} where ${condition}`,
      );
      return rowsOf<{ 'QUERY PLAN': string }>(result)
        .map((row) => row['QUERY PLAN'])
        .join('\n');
    });
    expect(plan).toContain('cameras_serial_trgm_idx');
    expect(plan).toContain('cameras_model_trgm_idx');
    expect(plan).toContain('cameras_product_name_trgm_idx');
    expect(await serials({ q: 'product 19' })).toHaveLength(11);
  });
});

describe('fleet.facets', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    await seedFleet(t.db, t.world);
  });
  const expected: Expected<{ sites: string[]; models: string[] } | string> = {
    integratorAdmin: { sites: ['Harbour Street'], models: ['M3086-V', 'P3265-LVE'] },
    technician: { sites: ['Harbour Street'], models: ['M3086-V', 'P3265-LVE'] },
    integratorAuditor: { sites: ['Harbour Street'], models: ['M3086-V', 'P3265-LVE'] },
    ownerApprover: {
      sites: ['Harbour Depot', 'Harbour Street'],
      models: ['M3086-V', 'P3265-LVE', 'Q6135-LE'],
    },
    ownerAuditor: {
      sites: ['Harbour Depot', 'Harbour Street'],
      models: ['M3086-V', 'P3265-LVE', 'Q6135-LE'],
    },
    foreignIntegratorAdmin: { sites: ['Quay Warehouse'], models: ['M3086-V'] },
    foreignOwnerApprover: { sites: ['Quay Warehouse'], models: ['M3086-V'] },
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, facets] of Object.entries(expected)) {
    it(`offers ${caller} the sites and models of its own tenancy`, async () => {
      const call = t.as(caller as CallerName).fleet.facets();
      if (typeof facets === 'string') {
        expect(await outcomeOf(call)).toBe(facets);
        return;
      }
      const result = await call;
      expect(result.sites.map((site) => site.name)).toEqual(facets.sites);
      expect(result.models).toEqual(facets.models);
    });
  }

  it('lists firmware versions and narrows to one site', async () => {
    const facets = await t.as('ownerApprover').fleet.facets({
      siteId: t.world.sites.ungrantedSite.id,
    });
    expect(facets.firmware).toEqual(['12.0.1']);
    expect(
      await outcomeOf(
        t.as('integratorAdmin').fleet.facets({ siteId: t.world.sites.ungrantedSite.id }),
      ),
    ).toBe('NOT_FOUND');
  });
});

/** Live updates arrive within a window; a loaded machine may take longer than poll's second. */
function eventually<T>(check: () => T) {
  return expect.poll(check, { timeout: 10_000, interval: 20 });
}

/** A stand-in for the gateway's fleet events: what the NOTIFY listener would hand over. */
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
    get listenerCount() {
      return listeners.size;
    },
  };
}

/** Collects what a subscription sends until stopped. */
function collect(iterable: AsyncIterable<FleetLiveEvent>) {
  const events: FleetLiveEvent[] = [];
  const done = (async () => {
    for await (const event of iterable) events.push(event);
  })();
  const changed = () => events.flatMap((event) => (event.type === 'changes' ? event.cameras : []));
  return { events, done, changed };
}

describe('fleet.live', () => {
  const t = useWorld({ beforeAll, afterAll });
  let fleet: Awaited<ReturnType<typeof seedFleet>>;
  beforeAll(async () => {
    fleet = await seedFleet(t.db, t.world);
  });

  function setUp(options: { maxPendingPerSubscriber?: number; windowMs?: number } = {}) {
    const source = createEventSource();
    const feed = createFleetFeed({ db: t.db, source, windowMs: 20, ...options });
    const controller = new AbortController();
    const subscribe = async (
      caller: CallerName | 'anonymous',
      input: Parameters<ReturnType<typeof createCaller>['fleet']['live']>[0] = {},
    ) => {
      const api = createCaller(
        createInnerTRPCContext({
          db: t.db,
          actor: caller === 'anonymous' ? null : t.world.actors[caller],
          fleetFeed: feed,
        }),
        { signal: controller.signal },
      );
      return api.fleet.live(input);
    };
    return { source, feed, controller, subscribe };
  }

  /** A sighting as the gateway stores it, then the event it sends after the commit. */
  async function touch(
    source: ReturnType<typeof createEventSource>,
    serial: string,
    fields: Partial<typeof schema.cameras.$inferInsert>,
  ) {
    const [camera] = await t.db
      .update(schema.cameras)
      .set({ lastSeenAt: new Date(), ...fields })
      .where(eq(schema.cameras.serial, serial))
      .returning();
    if (!camera) throw new Error(`no camera ${serial}`);
    source.emit({ event: 'inventory', siteId: camera.siteId, agentId: camera.agentId ?? '' });
  }

  for (const [caller, expected] of Object.entries(visible)) {
    it(`sends ${caller} ${Array.isArray(expected) ? 'changes of its own sites only' : expected}`, async () => {
      const { source, controller, subscribe } = setUp();
      if (typeof expected === 'string') {
        expect(await outcomeOf(subscribe(caller as CallerName))).toBe(expected);
        return;
      }
      const live = collect(await subscribe(caller as CallerName));
      await eventually(() => live.events[0]).toEqual({ type: 'resync', reason: 'subscribed' });
      for (const serial of [...HOME_ALL, ...FOREIGN]) {
        await touch(source, serial, { firmware: `${caller}-fw` });
      }
      await eventually(() => new Set(live.changed().map((camera) => camera.serial))).toEqual(
        new Set(expected),
      );
      controller.abort();
      await live.done;
    });
  }

  it('refuses a subscription to another tenant’s site as if it did not exist', async () => {
    const { subscribe } = setUp();
    const call = subscribe('foreignIntegratorAdmin', { siteId: t.world.sites.grantedSite.id });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });

  it('sends the latest state of a camera once per window, and nothing for cameras that did not change', async () => {
    // A window wide enough for three updates on a busy machine.
    const { source, controller, subscribe } = setUp({ windowMs: 400 });
    const live = collect(await subscribe('technician'));
    await eventually(() => live.events.length).toBe(1);
    for (const state of ['login-failed', 'locked-out', 'authenticated'] as const) {
      await touch(source, 'ACCC8E000002', { accessState: state });
    }
    await eventually(() => live.changed().length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const changes = live.changed().filter((camera) => camera.serial === 'ACCC8E000002');
    expect(changes.at(-1)?.accessState).toBe('authenticated');
    // The first read of a site reports all its cameras; the three updates cost one read.
    expect(changes.length).toBe(1);

    await touch(source, 'ACCC8E000001', { firmware: '11.11.80' });
    await eventually(() => live.changed().some((camera) => camera.firmware === '11.11.80')).toBe(
      true,
    );
    const last = live.events.at(-1);
    expect(last?.type === 'changes' && last.cameras.map((camera) => camera.serial)).toEqual([
      'ACCC8E000001',
    ]);
    controller.abort();
    await live.done;
  });

  it('narrows to one camera and carries its agent and commands', async () => {
    const { source, controller, subscribe } = setUp();
    const live = collect(
      await subscribe('integratorAdmin', {
        siteId: t.world.sites.grantedSite.id,
        serial: 'accc8e:000001',
        topics: ['cameras', 'agents', 'commands'],
      }),
    );
    await eventually(() => live.events.length).toBe(1);
    await touch(source, 'ACCC8E000001', { address: '10.20.0.99' });
    await touch(source, 'ACCC8E000002', { address: '10.20.0.98' });
    const [command] = await t.db
      .insert(schema.commands)
      .values({ agentId: fleet.agents.gatehouse.id, serial: 'ACCC8E000001', verb: 'probe' })
      .returning();
    source.emit({ event: 'command', agentId: fleet.agents.gatehouse.id, commandId: command!.id });
    source.emit({
      event: 'agent-status',
      agentId: fleet.agents.gatehouse.id,
      siteId: t.world.sites.grantedSite.id,
      status: 'offline',
    });
    await eventually(() =>
      live.events.flatMap((event) =>
        event.type === 'changes'
          ? [
              ...event.cameras.map((camera) => `camera ${camera.serial} ${camera.address}`),
              ...event.commands.map((row) => `command ${row.verb} ${row.status}`),
              ...event.agents.map((agent) => `agent ${agent.name}`),
            ]
          : [],
      ),
    ).toEqual(
      expect.arrayContaining([
        'camera ACCC8E000001 10.20.0.99',
        'command probe queued',
        'agent Harbour gatehouse',
      ]),
    );
    expect(live.changed().map((camera) => camera.serial)).not.toContain('ACCC8E000002');
    controller.abort();
    await live.done;
  });

  it('stops sending a site the moment its grant is revoked', async () => {
    const { source, controller, subscribe } = setUp();
    const live = collect(await subscribe('technician'));
    await eventually(() => live.events.length).toBe(1);
    await touch(source, 'ACCC8E000001', { firmware: 'before-revocation' });
    await eventually(() => live.changed().length).toBeGreaterThan(0);
    const grant = and(
      eq(schema.siteGrants.siteId, t.world.sites.grantedSite.id),
      isNull(schema.siteGrants.revokedAt),
    );
    await t.db.update(schema.siteGrants).set({ revokedAt: new Date() }).where(grant);
    try {
      const seen = live.changed().length;
      await touch(source, 'ACCC8E000001', { firmware: 'after-revocation' });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(live.changed().length).toBe(seen);
    } finally {
      await t.db
        .update(schema.siteGrants)
        .set({ revokedAt: null })
        .where(eq(schema.siteGrants.siteId, t.world.sites.grantedSite.id));
    }
    controller.abort();
    await live.done;
  });

  it('sends nothing more to a user removed from its organisation', async () => {
    const source = createEventSource();
    const feed = createFleetFeed({ db: t.db, source, windowMs: 20, reverifyMs: 0 });
    const controller = new AbortController();
    const api = createCaller(
      createInnerTRPCContext({ db: t.db, actor: t.world.actors.technician, fleetFeed: feed }),
      { signal: controller.signal },
    );
    const live = collect(await api.fleet.live({}));
    await eventually(() => live.events.length).toBe(1);
    const membership = eq(schema.memberships.userId, t.world.people.technician.id);
    const [removed] = await t.db.delete(schema.memberships).where(membership).returning();
    try {
      await touch(source, 'ACCC8E000001', { firmware: 'after-removal' });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(live.changed()).toEqual([]);
    } finally {
      await t.db.insert(schema.memberships).values(removed!);
    }
    await touch(source, 'ACCC8E000001', { firmware: 'member-again' });
    await eventually(() => live.changed().map((camera) => camera.firmware)).toContain(
      'member-again',
    );
    controller.abort();
    await live.done;
  });

  it('tells a subscriber that fell behind to resync instead of dropping changes', async () => {
    const { source, controller, subscribe } = setUp({ maxPendingPerSubscriber: 2 });
    const iterator = (await subscribe('ownerApprover'))[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: 'resync', reason: 'subscribed' });
    // Not reading: four cameras change at two sites while the consumer is busy.
    await touch(source, 'ACCC8E000001', { firmware: 'busy-1' });
    await touch(source, 'ACCC8E000004', { firmware: 'busy-2' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await iterator.next()).value).toEqual({ type: 'resync', reason: 'catch-up' });
    await touch(source, 'ACCC8E000004', { firmware: 'caught-up' });
    const next = (await iterator.next()).value as FleetLiveEvent;
    expect(next.type === 'changes' && next.cameras.map((camera) => camera.firmware)).toEqual([
      'caught-up',
    ]);
    controller.abort();
    await iterator.return?.();
  });

  it('listens to the gateway only while someone subscribes', async () => {
    const { source, feed, controller, subscribe } = setUp();
    expect(source.listenerCount).toBe(0);
    const live = collect(await subscribe('technician'));
    await eventually(() => source.listenerCount).toBe(1);
    expect(feed.subscriberCount).toBe(1);
    controller.abort();
    await live.done;
    expect(feed.subscriberCount).toBe(0);
    expect(source.listenerCount).toBe(0);
  });
});

describe('fleet.live over HTTP', () => {
  const t = useWorld({ beforeAll, afterAll });
  const ORIGIN = 'http://custody.test:3000';
  const PASSWORD = 'a long enough passphrase';
  let auth: ReturnType<typeof createAuth>;
  beforeAll(async () => {
    await seedFleet(t.db, t.world);
    await setPassword(t.db, t.world.people.technician.id, PASSWORD, {
      passwordChangeRequired: false,
    });
    auth = createAuth({ db: t.db, secret: 'z'.repeat(32), origins: [ORIGIN] });
  });

  async function sessionCookie(): Promise<string> {
    const response = await auth.handler(
      new Request(`${ORIGIN}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: ORIGIN,
          [CLIENT_ADDRESS_HEADER]: '192.0.2.7',
        },
        body: JSON.stringify({ email: 'tech@northwind.test', password: PASSWORD }),
      }),
    );
    const cookie = response.headers
      .getSetCookie()
      .map((value) => value.split(';')[0] ?? '')
      .find((value) => value.startsWith('custody.session_token='));
    if (!cookie) throw new Error(`no session cookie (${response.status})`);
    return cookie;
  }

  function liveRequest(headers: Record<string, string>, signal?: AbortSignal) {
    const input = encodeURIComponent(JSON.stringify({ json: { topics: ['cameras'] } }));
    return new Request(`${ORIGIN}/api/trpc/fleet.live?input=${input}`, {
      headers,
      ...(signal ? { signal } : {}),
    });
  }

  it('streams the changes of the caller’s sites as server-sent events until the browser goes away', async () => {
    const source = createEventSource();
    const feed = createFleetFeed({ db: t.db, source, windowMs: 20 });
    const controller = new AbortController();
    const response = await handleTrpcRequest(
      liveRequest({ cookie: await sessionCookie() }, controller.signal),
      { db: t.db, auth, origins: [ORIGIN], fleetFeed: feed },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: '', done: true }));
        if (done) return;
        text += value;
      }
    })();
    await eventually(() => text).toContain('subscribed');
    for (const serial of ['ACCC8E000001', 'E82725000005']) {
      const [camera] = await t.db
        .update(schema.cameras)
        .set({ firmware: '11.12.1' })
        .where(eq(schema.cameras.serial, serial))
        .returning();
      source.emit({ event: 'inventory', siteId: camera!.siteId, agentId: camera!.agentId! });
    }
    await eventually(() => text).toContain('"serial":"ACCC8E000001"');
    expect(text).not.toContain('E82725000005');
    expect(feed.subscriberCount).toBe(1);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await reading;
    await eventually(() => feed.subscriberCount).toBe(0);
  });

  it('ends the stream with an "ended" event once the browser’s session is signed out', async () => {
    const source = createEventSource();
    const feed = createFleetFeed({ db: t.db, source, windowMs: 20, reverifyMs: 0 });
    const cookie = await sessionCookie();
    const response = await handleTrpcRequest(liveRequest({ cookie }), {
      db: t.db,
      auth,
      origins: [ORIGIN],
      fleetFeed: feed,
    });
    const body = response.text();
    await eventually(() => feed.subscriberCount).toBe(1);
    await auth.api.signOut({ headers: new Headers({ cookie }) });
    const [camera] = await t.db
      .update(schema.cameras)
      .set({ firmware: '11.12.2' })
      .where(eq(schema.cameras.serial, 'ACCC8E000001'))
      .returning();
    source.emit({ event: 'inventory', siteId: camera!.siteId, agentId: camera!.agentId! });
    const text = await body;
    expect(text).toContain('session-ended');
    expect(text).not.toContain('11.12.2');
    expect(feed.subscriberCount).toBe(0);
  });

  it('answers a subscription without a session with an error event and ends the stream', async () => {
    const feed = createFleetFeed({ db: t.db, source: createEventSource() });
    const response = await handleTrpcRequest(liveRequest({}), {
      db: t.db,
      auth,
      origins: [ORIGIN],
      fleetFeed: feed,
    });
    // SSE answers 200 and reports the refusal in the stream, which then ends.
    const text = await response.text();
    expect(text).toContain('event: serialized-error');
    expect(text).toContain('UNAUTHORIZED');
    expect(feed.subscriberCount).toBe(0);
  });
});
