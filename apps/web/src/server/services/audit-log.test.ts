import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '@custody/core';
import type { DatabaseHandle } from '@custody/db';
import { openTestDatabase, seedWorld, type World } from '../test-support/world.ts';
import {
  appendAuditEvent,
  appendAuditEvents,
  countAuditActions,
  listAuditEvents,
  verifyAuditLog,
  type AuditEntry,
} from './audit-log.ts';

let handle: DatabaseHandle;
let world: World;

beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
});
afterAll(async () => {
  await handle.close();
});

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    orgId: world.orgs.integrator.id,
    actor: { kind: 'user', id: world.people.integratorAdmin.id },
    action: 'test.happened',
    subject: { kind: 'thing', id: 'one' },
    data: { n: 1 },
    ...overrides,
  };
}

describe('the audit log', () => {
  it('links events in order and verifies the whole chain', async () => {
    const first = await handle.db.transaction((tx) => appendAuditEvent(tx, entry()));
    const second = await handle.db.transaction((tx) =>
      appendAuditEvent(tx, entry({ data: { n: 2 } })),
    );
    expect(second.seq).toBe(first.seq + 1);
    expect(second.prevHash).toBe(first.hash);
    const report = await verifyAuditLog(handle.db);
    expect(report).toMatchObject({ ok: true });
    expect(report.length).toBeGreaterThanOrEqual(2);
  });

  it('leaves no gap when the audited transaction rolls back', async () => {
    const before = await verifyAuditLog(handle.db);
    await expect(
      handle.db.transaction(async (tx) => {
        await appendAuditEvent(tx, entry({ action: 'test.rolled-back' }));
        throw new Error('the audited change failed');
      }),
    ).rejects.toThrow('the audited change failed');
    await handle.db.transaction((tx) => appendAuditEvent(tx, entry({ action: 'test.after' })));
    const after = await verifyAuditLog(handle.db);
    expect(after).toMatchObject({ ok: true, length: before.length + 1 });
  });

  it('keeps one chain when many transactions append at once', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        handle.db.transaction((tx) => appendAuditEvent(tx, entry({ data: { n } }))),
      ),
    );
    expect(await verifyAuditLog(handle.db)).toMatchObject({ ok: true });
  });

  it('appends many events at once in order, linked like single appends', async () => {
    const single = await handle.db.transaction((tx) => appendAuditEvent(tx, entry()));
    const batch = await handle.db.transaction((tx) =>
      appendAuditEvents(
        tx,
        Array.from({ length: 7 }, (_, n) => entry({ action: 'test.batched', data: { n } })),
      ),
    );
    expect(batch.map((event) => event.seq)).toEqual(
      Array.from({ length: 7 }, (_, n) => single.seq + 1 + n),
    );
    expect(batch[0]?.prevHash).toBe(single.hash);
    expect(batch.map((event) => event.content.data)).toEqual(
      Array.from({ length: 7 }, (_, n) => ({ n })),
    );
    const after = await handle.db.transaction((tx) => appendAuditEvent(tx, entry()));
    expect(after.prevHash).toBe(batch.at(-1)?.hash);
    expect(await verifyAuditLog(handle.db)).toMatchObject({ ok: true });
    await expect(
      handle.db.transaction((tx) =>
        appendAuditEvents(tx, [entry(), entry({ action: 'Not An Action' })]),
      ),
    ).rejects.toSatisfy((error) => isDomainError(error, 'invalid-input'));
    expect(await handle.db.transaction((tx) => appendAuditEvents(tx, []))).toEqual([]);
  });

  it('refuses a malformed event and the transaction fails closed', async () => {
    const error = await handle.db
      .transaction((tx) => appendAuditEvent(tx, entry({ action: 'Not An Action' })))
      .catch((caught: unknown) => caught);
    expect(isDomainError(error, 'invalid-input')).toBe(true);
  });

  it('scopes listing to organisations or sites and counts an actor’s actions', async () => {
    await handle.db.transaction((tx) =>
      appendAuditEvent(
        tx,
        entry({
          orgId: world.orgs.foreignIntegrator.id,
          siteId: world.sites.grantedSite.id,
          action: 'test.on-site',
        }),
      ),
    );
    const owner = await listAuditEvents(handle.db, {
      scope: { orgIds: [world.orgs.owner.id], siteIds: [world.sites.grantedSite.id] },
    });
    expect(owner.map((event) => event.content.action)).toEqual(['test.on-site']);
    const none = await listAuditEvents(handle.db, { scope: { orgIds: [], siteIds: [] } });
    expect(none).toEqual([]);
    const count = await countAuditActions(handle.db, {
      action: 'test.happened',
      actorId: world.people.integratorAdmin.id,
      since: new Date(Date.now() - 60_000),
    });
    expect(count).toBeGreaterThanOrEqual(14);
  });

  it('names the first broken link after tampering, by content or by an indexed column', async () => {
    const events = await listAuditEvents(handle.db, { scope: 'all', limit: 500 });
    const victim = events.at(-3);
    if (victim === undefined) throw new Error('no events');
    await handle.db.execute(
      sql`update audit_events set action = 'test.edited' where seq = ${victim.seq}`,
    );
    expect(await verifyAuditLog(handle.db)).toMatchObject({
      ok: false,
      brokenSeq: victim.seq,
      code: 'column-mismatch',
    });
    await handle.db.execute(
      sql`update audit_events set action = ${victim.content.action}, payload = jsonb_set(payload, '{data}', '{"n": 99}') where seq = ${victim.seq}`,
    );
    expect(await verifyAuditLog(handle.db)).toMatchObject({
      ok: false,
      brokenSeq: victim.seq,
      code: 'hash-mismatch',
    });
  });
});
