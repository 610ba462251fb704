import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAgent } from '../../gateway/enrollment.ts';
import { appendAuditEvent, listAuditEvents } from '../../services/audit-log.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected<T> = Record<CallerName | 'anonymous', T>;

describe('audit.list', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    const { sites, people, orgs } = t.world;
    await t.as('integratorAdmin').sites.update({
      siteId: sites.grantedSite.id,
      patch: { address: '1 Harbour Street' },
    });
    await t.as('ownerApprover').sites.update({
      siteId: sites.ungrantedSite.id,
      patch: { address: 'Depot Lane' },
    });
    await t.as('foreignIntegratorAdmin').sites.update({
      siteId: sites.foreignSite.id,
      patch: { address: 'Quay 9' },
    });
    await t.db.transaction((tx) =>
      appendAuditEvent(tx, {
        orgId: orgs.integrator.id,
        siteId: sites.grantedSite.id,
        actor: { kind: 'user', id: people.technician.id },
        action: 'case.opened',
        subject: { kind: 'case', id: 'c-1' },
      }),
    );
  });

  const label = (event: { action: string; actor: { name: string | null }; site: unknown }) =>
    `${event.action} by ${event.actor.name ?? '?'}`;
  const expected: Expected<string[] | string> = {
    integratorAdmin: ['case.opened by tech', 'site.updated by admin'],
    technician: ['case.opened by tech'],
    integratorAuditor: ['case.opened by tech', 'site.updated by admin'],
    // The owner's own events and everything on its sites.
    ownerApprover: ['case.opened by tech', 'site.updated by approver', 'site.updated by admin'],
    ownerAuditor: ['case.opened by tech', 'site.updated by approver', 'site.updated by admin'],
    foreignIntegratorAdmin: ['site.updated by admin'],
    foreignOwnerApprover: ['site.updated by admin'],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, events] of Object.entries(expected)) {
    it(`shows ${caller} ${Array.isArray(events) ? events.join(', ') : events}, newest first`, async () => {
      const call = t.as(caller as CallerName).audit.list();
      if (typeof events === 'string') {
        expect(await outcomeOf(call)).toBe(events);
        return;
      }
      const page = await call;
      expect(page.events.map(label)).toEqual(events);
      expect(page.nextBeforeSeq).toBeNull();
    });
  }

  it('keeps the foreign tenant’s events to itself', async () => {
    const page = await t.as('foreignOwnerApprover').audit.list();
    expect(page.events.map((event) => event.site?.name)).toEqual(['Quay Warehouse']);
    const home = await t.as('ownerApprover').audit.list();
    expect(home.events.map((event) => event.site?.name)).not.toContain('Quay Warehouse');
  });

  it('names the organisation, the site and the fields, never their values', async () => {
    const page = await t.as('integratorAdmin').audit.list({ action: 'site.updated' });
    expect(page.events).toEqual([
      expect.objectContaining({
        org: { id: t.world.orgs.integrator.id, name: 'Northwind Integrators' },
        site: { id: t.world.sites.grantedSite.id, name: 'Harbour Street' },
        subject: { kind: 'site', id: t.world.sites.grantedSite.id },
        data: { fields: ['address'], name: 'Harbour Street' },
      }),
    ]);
  });

  it('pages back by sequence and filters by action and subject', async () => {
    const api = t.as('ownerAuditor');
    const first = await api.audit.list({ limit: 2 });
    expect(first.events).toHaveLength(2);
    expect(first.nextBeforeSeq).toBe(first.events[1]?.seq);
    const second = await api.audit.list({ limit: 2, beforeSeq: first.nextBeforeSeq ?? 0 });
    expect(second.events.map((event) => event.action)).toEqual(['site.updated']);
    expect(second.nextBeforeSeq).toBeNull();
    const bySubject = await api.audit.list({
      subject: { kind: 'site', id: t.world.sites.ungrantedSite.id },
    });
    expect(bySubject.events.map(label)).toEqual(['site.updated by approver']);
    expect(await outcomeOf(api.audit.list({ action: 'Not An Action' }))).toBe('BAD_REQUEST');
  });
});

describe('audit.verify', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    for (const address of ['one', 'two', 'three']) {
      await t.as('ownerApprover').sites.update({
        siteId: t.world.sites.grantedSite.id,
        patch: { address },
      });
    }
  });

  const expected: Expected<string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'OK',
    ownerApprover: 'OK',
    ownerAuditor: 'OK',
    foreignIntegratorAdmin: 'OK',
    foreignOwnerApprover: 'OK',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome}`, async () => {
      expect(await outcomeOf(t.as(caller as CallerName).audit.verify())).toBe(outcome);
    });
  }

  it('reports an intact chain with its length and head hash', async () => {
    const report = await t.as('ownerAuditor').audit.verify();
    const [head] = await listAuditEvents(t.db, { scope: 'all', limit: 1 });
    expect(report).toMatchObject({ ok: true, length: 3, headHash: head?.hash });
  });

  it('names the first broken link after someone edits an event in the database', async () => {
    const events = await listAuditEvents(t.db, { scope: 'all' });
    const middle = events[1];
    if (middle === undefined) throw new Error('no events');
    await t.db.execute(
      sql`update audit_events set payload = jsonb_set(payload, '{data,name}', '"Somewhere else"') where seq = ${middle.seq}`,
    );
    const report = await t.as('integratorAuditor').audit.verify();
    expect(report).toMatchObject({ ok: false, brokenSeq: middle.seq, code: 'hash-mismatch' });
    expect(report.ok ? '' : report.reason).toMatch(new RegExp(`^Event ${middle.seq}`));
  });
});

describe('audited changes', () => {
  const t = useWorld({ beforeAll, afterAll });

  async function actions(): Promise<string[]> {
    const events = await listAuditEvents(t.db, { scope: 'all', limit: 500 });
    return events.map((event) => event.content.action).reverse();
  }
  async function last(action: string) {
    const [event] = await listAuditEvents(t.db, { scope: 'all', action, limit: 1 });
    if (event === undefined) throw new Error(`no ${action} event`);
    return event;
  }

  it('records grants given and revoked by the owner, on the site', async () => {
    const { sites, orgs, people } = t.world;
    const api = t.as('ownerApprover');
    await api.grants.grant({ siteId: sites.ungrantedSite.id, integratorOrgId: orgs.integrator.id });
    await api.grants.revoke({
      siteId: sites.ungrantedSite.id,
      integratorOrgId: orgs.integrator.id,
    });
    for (const action of ['grant.created', 'grant.revoked']) {
      expect(await last(action)).toMatchObject({
        orgId: orgs.owner.id,
        siteId: sites.ungrantedSite.id,
        content: { actor: { kind: 'user', id: people.ownerApprover.id } },
      });
    }
  });

  it('records organisations and sites created for a client, filed under the integrator', async () => {
    const api = t.as('integratorAdmin');
    const before = (await actions()).length;
    const client = await api.organisations.create({ name: 'Lighthouse Café', kind: 'owner' });
    const site = await api.sites.create({ newOwnerName: 'Pier Market', name: 'Pier 1' });
    expect((await actions()).slice(before)).toEqual([
      'organisation.created',
      'organisation.created',
      'site.created',
    ]);
    expect(await last('site.created')).toMatchObject({
      orgId: t.world.orgs.integrator.id,
      siteId: site.id,
      content: { data: { name: 'Pier 1', grantedTo: t.world.orgs.integrator.id } },
    });
    expect(client.kind).toBe('owner');
  });

  it('records invitations created, replaced, withdrawn and accepted, never with the token', async () => {
    const api = t.as('integratorAdmin');
    const orgId = t.world.orgs.integrator.id;
    const first = await api.organisations.invite({ orgId, email: 'a@n.test', role: 'technician' });
    const second = await api.organisations.invite({ orgId, email: 'a@n.test', role: 'technician' });
    await api.organisations.revokeInvitation({ invitationId: second.id });
    const third = await api.organisations.invite({ orgId, email: 'b@n.test', role: 'auditor' });
    await createCaller(
      createInnerTRPCContext({ db: t.db, actor: null }),
    ).organisations.acceptInvitation({
      token: third.token,
      name: 'Bea',
      password: 'a long enough password',
    });
    const events = await listAuditEvents(t.db, { scope: { orgIds: [orgId], siteIds: [] } });
    const invitationEvents = events
      .filter((event) => event.content.subject.kind === 'invitation')
      .map((event) => [event.content.action, event.content.subject.id, event.content.data.reason]);
    expect(invitationEvents.reverse()).toEqual([
      ['invitation.created', first.id, undefined],
      ['invitation.revoked', first.id, 'replaced'],
      ['invitation.created', second.id, undefined],
      ['invitation.revoked', second.id, 'withdrawn'],
      ['invitation.created', third.id, undefined],
      ['invitation.accepted', third.id, undefined],
    ]);
    const text = JSON.stringify(events);
    for (const token of [first.token, second.token, third.token]) expect(text).not.toContain(token);
    expect(text).not.toContain('a long enough password');
  });

  it('records enrollment tokens issued and used, and agents revoked, on the site', async () => {
    const { sites, orgs } = t.world;
    const admin = createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: t.world.actors.integratorAdmin,
        origin: 'https://custody.example.test',
      }),
    );
    const issued = await admin.agents.createEnrollmentToken({ siteId: sites.grantedSite.id });
    const { publicKey } = generateKeyPairSync('ed25519');
    const enrolled = await enrollAgent(t.db, {
      token: issued.token,
      name: 'gatehouse',
      agentVersion: '0.4.0',
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    });
    if (!enrolled.ok) throw new Error('enrollment refused');
    await admin.agents.revoke({ agentId: enrolled.agentId });
    expect(await last('enrollment-token.created')).toMatchObject({
      orgId: orgs.integrator.id,
      siteId: sites.grantedSite.id,
      content: { subject: { id: issued.tokenId }, data: { ttl: '24h' } },
    });
    expect(await last('enrollment-token.used')).toMatchObject({
      orgId: orgs.integrator.id,
      siteId: sites.grantedSite.id,
      content: { actor: { kind: 'agent', id: enrolled.agentId }, subject: { id: issued.tokenId } },
    });
    expect(await last('agent.revoked')).toMatchObject({
      orgId: orgs.integrator.id,
      siteId: sites.grantedSite.id,
      content: { subject: { kind: 'agent', id: enrolled.agentId } },
    });
    const text = JSON.stringify(await listAuditEvents(t.db, { scope: 'all', limit: 500 }));
    expect(text).not.toContain(issued.token);
  });
});
