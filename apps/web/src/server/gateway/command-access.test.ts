import { isDomainError } from '@custody/core';
import { schema } from '@custody/db';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../services/audit-log.ts';
import { insertAgent } from '../services/fleet-test-fixtures.ts';
import { useWorld } from '../test-support/world.ts';
import { ACCESS_REVOKED_ERROR, confirmSendable } from './command-access.ts';
import { claimCommands } from './command-dispatch.ts';
import { queueCommand } from './queue-command.ts';

const { commands, memberships, siteGrants } = schema;
const SERIAL = 'ACCC8E00C0DE';

describe('commands follow site grants', () => {
  const t = useWorld({ beforeAll, afterAll });
  let agentId: string;
  let depotAgentId: string;

  beforeAll(async () => {
    agentId = (await insertAgent(t.db, t.world.sites.grantedSite.id, 'gatehouse')).id;
    depotAgentId = (await insertAgent(t.db, t.world.sites.ungrantedSite.id, 'depot')).id;
  });

  function probe(requestedBy: string | null, agent = agentId) {
    return queueCommand(t.db, {
      agentId: agent,
      serial: SERIAL,
      verb: 'probe',
      params: {},
      requestedBy,
    });
  }

  async function statusOf(commandId: string) {
    const [row] = await t.db.select().from(commands).where(eq(commands.id, commandId));
    return row;
  }

  async function regrant() {
    await t.db.insert(siteGrants).values({
      siteId: t.world.sites.grantedSite.id,
      integratorOrgId: t.world.orgs.integrator.id,
      grantedBy: t.world.people.ownerApprover.id,
    });
  }

  it('queues for a member of the owner or of a granted integrator, and for the system', async () => {
    const { people } = t.world;
    for (const requester of [people.technician.id, people.ownerApprover.id, null]) {
      const queued = await probe(requester);
      expect((await statusOf(queued.commandId))?.status).toBe('queued');
    }
  });

  it('refuses to queue for a requester without access to the agent’s site', async () => {
    const { people } = t.world;
    const foreign = await probe(people.foreignIntegratorAdmin.id).catch((error: unknown) => error);
    expect(isDomainError(foreign, 'forbidden')).toBe(true);
    // The home integrator has no grant on the depot.
    const ungranted = await probe(people.technician.id, depotAgentId).catch((e: unknown) => e);
    expect(isDomainError(ungranted, 'forbidden')).toBe(true);
  });

  it('cancels the integrator’s unsent commands on the site when the owner revokes its grant', async () => {
    const { world } = t;
    const { people } = world;
    await t.db.delete(commands);
    const queued = await probe(people.technician.id);
    const sent = await probe(people.integratorAdmin.id);
    await t.db
      .update(commands)
      .set({ status: 'dispatched', dispatchedAt: new Date() })
      .where(eq(commands.id, sent.commandId));
    const running = await probe(people.technician.id);
    await t.db
      .update(commands)
      .set({ status: 'acknowledged' })
      .where(eq(commands.id, running.commandId));
    const owners = await probe(people.ownerApprover.id);
    const system = await probe(null);

    const result = await t.as('ownerApprover').grants.revoke({
      siteId: world.sites.grantedSite.id,
      integratorOrgId: world.orgs.integrator.id,
    });
    expect(result.cancelledCommands).toBe(2);
    for (const id of [queued.commandId, sent.commandId]) {
      const row = await statusOf(id);
      expect(row).toMatchObject({ status: 'cancelled', error: ACCESS_REVOKED_ERROR });
      expect(row?.completedAt).toBeInstanceOf(Date);
    }
    expect((await statusOf(running.commandId))?.status).toBe('acknowledged');
    expect((await statusOf(owners.commandId))?.status).toBe('queued');
    expect((await statusOf(system.commandId))?.status).toBe('queued');

    const [event] = await listAuditEvents(t.db, { scope: 'all', action: 'grant.revoked' });
    expect(event).toMatchObject({ orgId: world.orgs.owner.id, siteId: world.sites.grantedSite.id });
    expect(event?.content.data).toEqual({
      integratorOrgId: world.orgs.integrator.id,
      cancelledCommands: 2,
    });
    expect(await outcomeOfQueue(people.technician.id)).toBe('forbidden');
    await regrant();
  });

  async function outcomeOfQueue(requester: string): Promise<string> {
    return probe(requester).then(
      () => 'queued',
      (error: unknown) => (isDomainError(error) ? error.code : String(error)),
    );
  }

  it('keeps the commands of a member who still reaches the site through another organisation', async () => {
    const { world } = t;
    const { people } = world;
    // The technician also works for Southwind, which the owner grants the same site.
    await t.db.insert(memberships).values({
      userId: people.technician.id,
      orgId: world.orgs.foreignIntegrator.id,
      role: 'technician',
    });
    await t.as('ownerApprover').grants.grant({
      siteId: world.sites.grantedSite.id,
      integratorOrgId: world.orgs.foreignIntegrator.id,
    });
    const kept = await probe(people.technician.id);
    const result = await t.as('ownerApprover').grants.revoke({
      siteId: world.sites.grantedSite.id,
      integratorOrgId: world.orgs.integrator.id,
    });
    expect(result.cancelledCommands).toBe(0);
    expect((await statusOf(kept.commandId))?.status).toBe('queued');
    await t.as('ownerApprover').grants.revoke({
      siteId: world.sites.grantedSite.id,
      integratorOrgId: world.orgs.foreignIntegrator.id,
    });
    await t.db
      .delete(memberships)
      .where(
        and(
          eq(memberships.userId, people.technician.id),
          eq(memberships.orgId, world.orgs.foreignIntegrator.id),
        ),
      );
    await regrant();
  });

  it('cancels at dispatch time what a requester queued before losing access, and sends the rest', async () => {
    const { world } = t;
    const { people } = world;
    await t.db.delete(commands);
    const lost = await probe(people.technician.id);
    const kept = await probe(null);
    // Revoked behind the service's back, as a concurrent revocation would look to the dispatcher.
    await t.db
      .update(siteGrants)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(siteGrants.siteId, world.sites.grantedSite.id),
          eq(siteGrants.integratorOrgId, world.orgs.integrator.id),
          isNull(siteGrants.revokedAt),
        ),
      );
    const claimed = await claimCommands(t.db, {
      agentId,
      processId: 'test',
      now: new Date(),
      resendBefore: new Date(),
      limit: 10,
    });
    expect(claimed.map((command) => command.id)).toEqual([kept.commandId]);
    expect(await statusOf(lost.commandId)).toMatchObject({
      status: 'cancelled',
      error: ACCESS_REVOKED_ERROR,
    });
    expect(await confirmSendable(t.db, kept.commandId)).toBe(true);
    await regrant();
  });

  it('cancels a claimed command instead of sending it when access goes between claim and send', async () => {
    const { world } = t;
    const { people } = world;
    await t.db.delete(commands);
    const racing = await probe(people.technician.id);
    const [claimed] = await claimCommands(t.db, {
      agentId,
      processId: 'test',
      now: new Date(),
      resendBefore: null,
      limit: 10,
    });
    expect(claimed?.id).toBe(racing.commandId);
    await t.db
      .update(siteGrants)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(siteGrants.siteId, world.sites.grantedSite.id),
          eq(siteGrants.integratorOrgId, world.orgs.integrator.id),
          isNull(siteGrants.revokedAt),
        ),
      );
    expect(await confirmSendable(t.db, racing.commandId)).toBe(false);
    expect(await statusOf(racing.commandId)).toMatchObject({ status: 'cancelled' });
    // Cancelled already: not this process's to send any more.
    expect(await confirmSendable(t.db, racing.commandId)).toBe(false);
    await regrant();
  });
});
