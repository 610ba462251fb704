import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '@custody/core';
import type { DatabaseHandle } from '@custody/db';
import { cameras, rotationItems, rotationJobs } from '@custody/db/schema';
import { openTestDatabase, seedWorld, type World } from '../../test-support/world.ts';
import { listAuditEvents, verifyAuditLog } from '../audit-log.ts';
import {
  CASES_CHANNEL,
  applyCaseEvent,
  findOpenCase,
  getCase,
  openCase,
  updateCaseDetails,
} from './case-store.ts';

let handle: DatabaseHandle;
let world: World;
let serialNo = 0;

beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
});
afterAll(async () => {
  await handle.close();
});

async function insertCamera(): Promise<string> {
  serialNo += 1;
  const serial = `ACCC8E${serialNo.toString(16).toUpperCase().padStart(6, '0')}`;
  await handle.db.insert(cameras).values({ serial, siteId: world.sites.grantedSite.id });
  return serial;
}

function techActor() {
  return { kind: 'user' as const, id: world.people.technician.id };
}

async function open(serial: string) {
  return handle.db.transaction((tx) =>
    openCase(tx, { serial, actor: techActor(), orgId: world.orgs.integrator.id }),
  );
}

describe('the case store', () => {
  it('opens a case in state "opened" and audits it against the camera’s site', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    expect(record).toMatchObject({ serial, status: 'opened', revision: 0 });
    expect(record.siteId).toBe(world.sites.grantedSite.id);
    expect(record.details.commands).toEqual([]);
    const events = await listAuditEvents(handle.db, {
      scope: 'all',
      subject: { kind: 'case', id: record.id },
    });
    expect(events.map((event) => event.content.action)).toEqual(['case.opened']);
    expect(events[0]?.siteId).toBe(world.sites.grantedSite.id);
  });

  it('allows one open case per serial and names the existing one', async () => {
    const serial = await insertCamera();
    const first = await open(serial);
    const error = await open(serial).catch((caught: unknown) => caught);
    expect(isDomainError(error, 'conflict')).toBe(true);
    expect((error as { details: { caseId: string } }).details.caseId).toBe(first.id);
    expect((await findOpenCase(handle.db, serial))?.id).toBe(first.id);
  });

  it('lets a new case open once the previous one is cancelled', async () => {
    const serial = await insertCamera();
    const first = await open(serial);
    await handle.db.transaction((tx) =>
      applyCaseEvent(tx, {
        caseId: first.id,
        event: { type: 'cancelled', reason: 'Opened by mistake.' },
        actor: techActor(),
        orgId: world.orgs.integrator.id,
      }),
    );
    const second = await open(serial);
    expect(second.id).not.toBe(first.id);
  });

  it('refuses a camera whose password a rotation is changing, and opens once it is done', async () => {
    const serial = await insertCamera();
    const [job] = await handle.db
      .insert(rotationJobs)
      .values({
        orgId: world.orgs.integrator.id,
        selection: { serials: [serial] },
        canarySize: 1,
        waveSize: 1,
        createdBy: world.people.integratorAdmin.id,
      })
      .returning({ id: rotationJobs.id });
    const jobId = job?.id ?? '';
    await handle.db
      .insert(rotationItems)
      .values({ jobId, serial, siteId: world.sites.grantedSite.id, wave: 0, status: 'checking' });
    const error = await open(serial).catch((caught: unknown) => caught);
    expect(isDomainError(error, 'conflict')).toBe(true);
    expect((error as { details: { rotationJobId: string } }).details.rotationJobId).toBe(jobId);
    expect(await findOpenCase(handle.db, serial)).toBeNull();

    await handle.db
      .update(rotationItems)
      .set({ status: 'rotated' })
      .where(eq(rotationItems.serial, serial));
    const record = await open(serial);
    expect(record.status).toBe('opened');
  });

  it('refuses an unknown camera', async () => {
    const error = await open('ACCC8EFFFFFF').catch((caught: unknown) => caught);
    expect(isDomainError(error, 'not-found')).toBe(true);
  });

  it('applies a transition with its details, bumps the revision and audits case.<event>', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    const next = await handle.db.transaction((tx) =>
      applyCaseEvent(tx, {
        caseId: record.id,
        event: {
          type: 'triage-completed',
          path: 'recommission',
          resetRequired: true,
          reasons: ['No known administrator credential works.'],
        },
        actor: techActor(),
        orgId: world.orgs.integrator.id,
        expectedRevision: 0,
        details: (current) => ({
          ...current,
          triage: {
            path: 'recommission',
            resetRequired: true,
            reasons: ['No known administrator credential works.'],
            accessState: 'login-failed',
            credentialTests: [],
            workingAdmin: null,
            decidedAt: new Date().toISOString(),
            decidedBy: null,
          },
        }),
      }),
    );
    expect(next.state).toEqual({ status: 'triaged', path: 'recommission', resetRequired: true });
    expect(next.revision).toBe(1);
    expect(next.details.triage?.accessState).toBe('login-failed');
    const stored = await getCase(handle.db, record.id);
    expect(stored?.status).toBe('triaged');
    const events = await listAuditEvents(handle.db, {
      scope: 'all',
      subject: { kind: 'case', id: record.id },
    });
    expect(events[0]?.content.action).toBe('case.triage-completed');
    expect(events[0]?.content.data).toMatchObject({ from: 'opened', to: 'triaged', revision: 1 });
    expect(await verifyAuditLog(handle.db)).toMatchObject({ ok: true });
  });

  it('refuses an invalid transition and changes nothing', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    const error = await handle.db
      .transaction((tx) =>
        applyCaseEvent(tx, {
          caseId: record.id,
          event: { type: 'provisioned' },
          actor: techActor(),
          orgId: null,
        }),
      )
      .catch((caught: unknown) => caught);
    expect(isDomainError(error, 'invalid-transition')).toBe(true);
    expect((await getCase(handle.db, record.id))?.revision).toBe(0);
  });

  it('refuses a stale revision with "conflict"', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    await handle.db.transaction((tx) =>
      updateCaseDetails(tx, {
        caseId: record.id,
        actor: techActor(),
        orgId: null,
        details: (current) => ({ ...current, approvalGrantId: null }),
      }),
    );
    const error = await handle.db
      .transaction((tx) =>
        applyCaseEvent(tx, {
          caseId: record.id,
          event: { type: 'cancelled', reason: 'stale' },
          actor: techActor(),
          orgId: null,
          expectedRevision: 0,
        }),
      )
      .catch((caught: unknown) => caught);
    expect(isDomainError(error, 'conflict')).toBe(true);
  });

  it('keeps details written by other services when it rewrites its own', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    await handle.db.transaction((tx) =>
      updateCaseDetails(tx, {
        caseId: record.id,
        actor: techActor(),
        orgId: null,
        details: (current) => ({ ...current, handover: { note: 'kept' } }),
      }),
    );
    const next = await handle.db.transaction((tx) =>
      updateCaseDetails(tx, {
        caseId: record.id,
        actor: techActor(),
        orgId: null,
        details: (current) => ({ ...current, approvalGrantId: null }),
      }),
    );
    expect(next.details.handover).toEqual({ note: 'kept' });
  });

  it('rolls the transition back when the details are malformed', async () => {
    const serial = await insertCamera();
    const record = await open(serial);
    await expect(
      handle.db.transaction((tx) =>
        applyCaseEvent(tx, {
          caseId: record.id,
          event: { type: 'cancelled', reason: 'x' },
          actor: techActor(),
          orgId: null,
          details: (current) => ({ ...current, commands: [{ id: 'not-a-uuid' }] }) as never,
        }),
      ),
    ).rejects.toThrow();
    expect((await getCase(handle.db, record.id))?.status).toBe('opened');
  });

  it('wakes listeners on commit', async () => {
    const serial = await insertCamera();
    const heard: string[] = [];
    const unlisten = await handle.listen(CASES_CHANNEL, (payload) => heard.push(payload));
    try {
      const record = await open(serial);
      await expect.poll(() => heard.some((p) => p.includes(record.id))).toBe(true);
    } finally {
      await unlisten();
    }
  });
});
