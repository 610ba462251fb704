import { generateKeyPairSync } from 'node:crypto';
import { schema } from '@custody/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAgent } from '../../gateway/enrollment.ts';
import { AGENTS_CHANNEL, FLEET_CHANNEL } from '../../gateway/notifications.ts';
import { insertAgent, insertCommand, seedFleet } from '../../services/fleet-test-fixtures.ts';
import {
  openTestDatabase,
  outcomeOf,
  seedWorld,
  useWorld,
  type CallerName,
} from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected<T> = Record<CallerName | 'anonymous', T>;
const ORIGIN = 'https://custody.example.test';

function newPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

describe('agents.list', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    await seedFleet(t.db, t.world);
  });

  const expected: Expected<string[] | string> = {
    integratorAdmin: ['Harbour gatehouse'],
    technician: ['Harbour gatehouse'],
    integratorAuditor: ['Harbour gatehouse'],
    ownerApprover: ['Depot cabinet', 'Harbour gatehouse'],
    ownerAuditor: ['Depot cabinet', 'Harbour gatehouse'],
    foreignIntegratorAdmin: ['Quay office'],
    foreignOwnerApprover: ['Quay office'],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, names] of Object.entries(expected)) {
    it(`shows ${caller} ${Array.isArray(names) ? names.join(', ') : names}`, async () => {
      const call = t.as(caller as CallerName).agents.list();
      if (typeof names === 'string') expect(await outcomeOf(call)).toBe(names);
      else expect((await call).map((agent) => agent.name)).toEqual(names);
    });
  }

  const perSite: Expected<{ granted: string; foreign: string }> = {
    integratorAdmin: { granted: 'OK', foreign: 'NOT_FOUND' },
    technician: { granted: 'OK', foreign: 'NOT_FOUND' },
    integratorAuditor: { granted: 'OK', foreign: 'NOT_FOUND' },
    ownerApprover: { granted: 'OK', foreign: 'NOT_FOUND' },
    ownerAuditor: { granted: 'OK', foreign: 'NOT_FOUND' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', foreign: 'OK' },
    foreignOwnerApprover: { granted: 'NOT_FOUND', foreign: 'OK' },
    anonymous: { granted: 'UNAUTHORIZED', foreign: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(perSite)) {
    it(`answers ${caller} ${outcome.granted} for the home site's agents and ${outcome.foreign} abroad`, async () => {
      const api = t.as(caller as CallerName);
      const { grantedSite, foreignSite } = t.world.sites;
      expect(await outcomeOf(api.agents.list({ siteId: grantedSite.id }))).toBe(outcome.granted);
      expect(await outcomeOf(api.agents.list({ siteId: foreignSite.id }))).toBe(outcome.foreign);
    });
  }

  it('shows status, versions, last contact, outbox depth and the cameras each agent reports', async () => {
    const [agent] = await t.as('technician').agents.list({ siteId: t.world.sites.grantedSite.id });
    expect(agent).toMatchObject({
      name: 'Harbour gatehouse',
      siteName: 'Harbour Street',
      status: 'online',
      version: '0.4.0',
      protocolVersion: 1,
      outboxDepth: 3,
      cameraCount: 3,
      revokedAt: null,
    });
    expect(agent?.lastSeenAt).toBeInstanceOf(Date);
  });
});

describe('agents.enrollableSites', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Expected<string[] | string> = {
    integratorAdmin: ['Harbour Street'],
    technician: [],
    integratorAuditor: [],
    ownerApprover: [],
    ownerAuditor: [],
    foreignIntegratorAdmin: ['Quay Warehouse'],
    foreignOwnerApprover: [],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, names] of Object.entries(expected)) {
    it(`offers ${caller} ${Array.isArray(names) ? names.join(', ') || 'no site' : names}`, async () => {
      const call = t.as(caller as CallerName).agents.enrollableSites();
      if (typeof names === 'string') expect(await outcomeOf(call)).toBe(names);
      else expect((await call).map((site) => site.name)).toEqual(names);
    });
  }
});

describe('agents.createEnrollmentToken', () => {
  const t = useWorld({ beforeAll, afterAll });
  // Over HTTP the origin comes from the request; the enrollment command names it.
  const withOrigin = (caller: CallerName | 'anonymous') =>
    createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: caller === 'anonymous' ? null : t.world.actors[caller],
        origin: ORIGIN,
      }),
    );

  const expected: Expected<{ granted: string; ungranted: string }> = {
    integratorAdmin: { granted: 'OK', ungranted: 'NOT_FOUND' },
    technician: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    integratorAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    ownerApprover: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    ownerAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    foreignOwnerApprover: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    anonymous: { granted: 'UNAUTHORIZED', ungranted: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.granted} on the granted site and ${outcome.ungranted} on the ungranted one`, async () => {
      const api = withOrigin(caller as CallerName);
      const { grantedSite, ungrantedSite } = t.world.sites;
      expect(await outcomeOf(api.agents.createEnrollmentToken({ siteId: grantedSite.id }))).toBe(
        outcome.granted,
      );
      expect(await outcomeOf(api.agents.createEnrollmentToken({ siteId: ungrantedSite.id }))).toBe(
        outcome.ungranted,
      );
    });
  }

  it('shows the token once with the command to run, keeps only its hash, and enrolls with it once', async () => {
    const before = Date.now();
    const issued = await withOrigin('integratorAdmin').agents.createEnrollmentToken({
      siteId: t.world.sites.grantedSite.id,
      ttl: '1h',
    });
    expect(issued.token).toMatch(/^cenr_[A-Za-z0-9_-]{32}$/);
    expect(issued.command).toBe(
      `custody-agent enroll --server ${ORIGIN} --token-env CUSTODY_ENROLL_TOKEN`,
    );
    expect(issued.command).not.toContain(issued.token);
    expect(issued.siteName).toBe('Harbour Street');
    const ttl = issued.expiresAt.getTime() - before;
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThan(3_610_000);

    const rows = await t.db
      .select()
      .from(schema.enrollmentTokens)
      .where(eq(schema.enrollmentTokens.id, issued.tokenId));
    expect(JSON.stringify(rows)).not.toContain(issued.token);
    expect(rows[0]?.createdBy).toBe(t.world.people.integratorAdmin.id);

    const pending = await t.as('integratorAdmin').agents.pendingTokens({
      siteId: t.world.sites.grantedSite.id,
    });
    expect(pending.map((token) => token.id)).toContain(issued.tokenId);
    expect(JSON.stringify(pending)).not.toContain(issued.token);

    const request = { token: issued.token, name: 'gatehouse-2', agentVersion: '0.4.0' };
    const first = await enrollAgent(t.db, { ...request, publicKey: newPublicKey() });
    expect(first).toMatchObject({ ok: true, siteId: t.world.sites.grantedSite.id });
    const again = await enrollAgent(t.db, { ...request, publicKey: newPublicKey() });
    expect(again).toEqual({ ok: false, reason: 'invalid-token' });
    const after = await t.as('integratorAdmin').agents.pendingTokens({
      siteId: t.world.sites.grantedSite.id,
    });
    expect(after.map((token) => token.id)).not.toContain(issued.tokenId);
  });

  it('lists the unused tokens of every site the admin may enroll at, and no other', async () => {
    const home = await withOrigin('integratorAdmin').agents.createEnrollmentToken({
      siteId: t.world.sites.grantedSite.id,
    });
    const abroad = await withOrigin('foreignIntegratorAdmin').agents.createEnrollmentToken({
      siteId: t.world.sites.foreignSite.id,
    });
    const mine = await t.as('integratorAdmin').agents.pendingTokens();
    expect(mine.map((token) => token.id)).toContain(home.tokenId);
    expect(mine.map((token) => token.id)).not.toContain(abroad.tokenId);
    expect(new Set(mine.map((token) => token.siteName))).toEqual(new Set(['Harbour Street']));
    const theirs = await t.as('foreignIntegratorAdmin').agents.pendingTokens();
    expect(theirs.map((token) => token.id)).toEqual([abroad.tokenId]);
  });

  it('refuses an expiry it does not offer', async () => {
    const call = withOrigin('integratorAdmin').agents.createEnrollmentToken({
      siteId: t.world.sites.grantedSite.id,
      ttl: '90d' as '7d',
    });
    expect(await outcomeOf(call)).toBe('BAD_REQUEST');
  });

  const pendingExpected: Expected<string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'FORBIDDEN',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'FORBIDDEN',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(pendingExpected)) {
    it(`answers ${caller} ${outcome} for the granted site's pending tokens`, async () => {
      const call = t.as(caller as CallerName).agents.pendingTokens({
        siteId: t.world.sites.grantedSite.id,
      });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }
});

describe('agents.revoke', () => {
  const t = useWorld({ beforeAll, afterAll });

  const expected: Expected<{ granted: string; ungranted: string }> = {
    integratorAdmin: { granted: 'OK', ungranted: 'NOT_FOUND' },
    technician: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    integratorAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    ownerApprover: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    ownerAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    foreignOwnerApprover: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    anonymous: { granted: 'UNAUTHORIZED', ungranted: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.granted} for an agent of the granted site and ${outcome.ungranted} for one of the ungranted site`, async () => {
      const { grantedSite, ungrantedSite } = t.world.sites;
      const granted = await insertAgent(t.db, grantedSite.id, `granted for ${caller}`);
      const ungranted = await insertAgent(t.db, ungrantedSite.id, `ungranted for ${caller}`);
      const api = t.as(caller as CallerName);
      expect(await outcomeOf(api.agents.revoke({ agentId: granted.id }))).toBe(outcome.granted);
      expect(await outcomeOf(api.agents.revoke({ agentId: ungranted.id }))).toBe(outcome.ungranted);
      const [row] = await t.db.select().from(schema.agents).where(eq(schema.agents.id, granted.id));
      expect(row?.revokedAt !== null).toBe(outcome.granted === 'OK');
    });
  }

  it('takes effect at once: the gateway is told, unfinished commands are cancelled, the list says revoked', async () => {
    // A database of its own, to LISTEN on it as every gateway process does.
    const handle = await openTestDatabase();
    try {
      const world = await seedWorld(handle.db);
      const as = (caller: CallerName) =>
        createCaller(createInnerTRPCContext({ db: handle.db, actor: world.actors[caller] }));
      const agent = await insertAgent(handle.db, world.sites.grantedSite.id, 'soon revoked', {
        status: 'online',
      });
      const queued = await insertCommand(handle.db, {
        agentId: agent.id,
        serial: 'ACCC8E00000A',
        verb: 'probe',
      });
      const heard: string[] = [];
      const fleetHeard: unknown[] = [];
      const unlisten = await handle.listen(AGENTS_CHANNEL, (payload) => heard.push(payload));
      const unlistenFleet = await handle.listen(FLEET_CHANNEL, (payload) =>
        fleetHeard.push(JSON.parse(payload)),
      );
      try {
        const revoked = await as('integratorAdmin').agents.revoke({ agentId: agent.id });
        expect(revoked).toMatchObject({ id: agent.id, status: 'revoked' });
        expect(revoked.revokedAt).toBeInstanceOf(Date);
        await expect
          .poll(() => heard, { timeout: 10_000 })
          .toContainEqual(JSON.stringify({ event: 'revoked', agentId: agent.id }));
        // What waits on the cancelled command (a case, a rotation) hears that it ended.
        await expect
          .poll(() => fleetHeard, { timeout: 10_000 })
          .toContainEqual({
            event: 'command',
            agentId: agent.id,
            commandId: queued.id,
            finished: true,
          });
      } finally {
        await unlisten();
        await unlistenFleet();
      }
      const [command] = await handle.db
        .select()
        .from(schema.commands)
        .where(eq(schema.commands.id, queued.id));
      expect(command?.status).toBe('cancelled');
      const listed = await as('ownerAuditor').agents.list({ siteId: world.sites.grantedSite.id });
      expect(listed.find((row) => row.id === agent.id)?.status).toBe('revoked');
      const [row] = await handle.db
        .select()
        .from(schema.agents)
        .where(eq(schema.agents.id, agent.id));
      expect(row?.revokedBy).toBe(world.people.integratorAdmin.id);
    } finally {
      await handle.close();
    }
  });

  it('answers a second revocation with a conflict', async () => {
    const agent = await insertAgent(t.db, t.world.sites.grantedSite.id, 'twice');
    const api = t.as('integratorAdmin');
    expect(await outcomeOf(api.agents.revoke({ agentId: agent.id }))).toBe('OK');
    expect(await outcomeOf(api.agents.revoke({ agentId: agent.id }))).toBe('CONFLICT');
  });

  it('answers a missing agent exactly like a foreign one', async () => {
    const call = t
      .as('integratorAdmin')
      .agents.revoke({ agentId: '00000000-0000-4000-8000-000000000000' });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });
});
