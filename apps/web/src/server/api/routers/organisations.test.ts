import { schema } from '@custody/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActor } from '../../services/actor.ts';
import { callerFor, outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

describe('organisations.list', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string[] | string> = {
    integratorAdmin: ['Harbour Bakery:client', 'Northwind Integrators:member:integrator-admin'],
    technician: ['Harbour Bakery:client', 'Northwind Integrators:member:technician'],
    integratorAuditor: ['Harbour Bakery:client', 'Northwind Integrators:member:auditor'],
    ownerApprover: [
      'Harbour Bakery:member:owner-approver',
      'Northwind Integrators:serving-integrator',
    ],
    ownerAuditor: ['Harbour Bakery:member:auditor', 'Northwind Integrators:serving-integrator'],
    foreignIntegratorAdmin: ['Quay Foods:client', 'Southwind Integrators:member:integrator-admin'],
    foreignOwnerApprover: [
      'Quay Foods:member:owner-approver',
      'Southwind Integrators:serving-integrator',
    ],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, orgs] of Object.entries(expected)) {
    it(`shows ${caller} ${Array.isArray(orgs) ? orgs.join(', ') : orgs}`, async () => {
      const call = t.as(caller as CallerName).organisations.list();
      if (typeof orgs === 'string') {
        expect(await outcomeOf(call)).toBe(orgs);
      } else {
        const seen = (await call).map((org) => [org.name, org.relation, ...org.roles].join(':'));
        expect(seen).toEqual(orgs);
      }
    });
  }
});

describe('organisations.siteOwners', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string[] | string> = {
    integratorAdmin: ['Harbour Bakery'],
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: ['Harbour Bakery'],
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: ['Quay Foods'],
    foreignOwnerApprover: ['Quay Foods'],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, owners] of Object.entries(expected)) {
    it(`offers ${caller} ${Array.isArray(owners) ? owners.join(', ') : owners}`, async () => {
      const call = t.as(caller as CallerName).organisations.siteOwners();
      if (typeof owners === 'string') expect(await outcomeOf(call)).toBe(owners);
      else expect((await call).map((org) => org.name)).toEqual(owners);
    });
  }
});

describe('organisations.create', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'FORBIDDEN',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'OK',
    foreignOwnerApprover: 'FORBIDDEN',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome} when creating a client organisation`, async () => {
      const call = t
        .as(caller as CallerName)
        .organisations.create({ name: `Client of ${caller}`, kind: 'owner' });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  it("keeps a client organisation inside its integrator's tenancy", async () => {
    const org = await t
      .as('integratorAdmin')
      .organisations.create({ name: 'Lighthouse Co', kind: 'owner' });
    const home = await t.as('integratorAdmin').organisations.siteOwners();
    expect(home.map((o) => o.id)).toContain(org.id);
    const foreign = await t.as('foreignIntegratorAdmin').organisations.list();
    expect(foreign.map((o) => o.id)).not.toContain(org.id);
    const call = t
      .as('foreignIntegratorAdmin')
      .sites.create({ ownerOrgId: org.id, name: 'Sneaky' });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });

  it('makes the creator of an integrator organisation its admin', async () => {
    const { world } = t;
    const org = await t
      .as('integratorAdmin')
      .organisations.create({ name: 'Northwind East', kind: 'integrator' });
    const actor = await loadActor(t.db, world.people.integratorAdmin.id, null);
    expect(actor?.memberships).toContainEqual(
      expect.objectContaining({ orgId: org.id, role: 'integrator-admin', orgKind: 'integrator' }),
    );
  });
});

describe('organisations.invite', () => {
  const t = useWorld({ beforeAll, afterAll });
  const intoIntegrator: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'NOT_FOUND',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(intoIntegrator)) {
    it(`answers ${caller} ${outcome} when inviting a technician to the home integrator`, async () => {
      const call = t.as(caller as CallerName).organisations.invite({
        orgId: t.world.orgs.integrator.id,
        email: `tech-by-${caller}@northwind.test`,
        role: 'technician',
      });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  const intoOwner: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'FORBIDDEN',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(intoOwner)) {
    it(`answers ${caller} ${outcome} when inviting an approver to the home owner`, async () => {
      const call = t.as(caller as CallerName).organisations.invite({
        orgId: t.world.orgs.owner.id,
        email: `approver-by-${caller}@harbour.test`,
        role: 'owner-approver',
      });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  it("lets an integrator admin invite a new client's first approver, and only the first", async () => {
    const admin = t.as('integratorAdmin');
    const client = await admin.organisations.create({ name: 'Fresh Client', kind: 'owner' });
    const invitation = await admin.organisations.invite({
      orgId: client.id,
      email: 'boss@fresh.test',
      role: 'owner-approver',
    });
    const accepted = await callerFor(t.db, null).organisations.acceptInvitation({
      token: invitation.token,
      name: 'Fresh Boss',
      password: 'a long enough password',
    });
    expect(accepted).toMatchObject({
      orgId: client.id,
      role: 'owner-approver',
      createdAccount: true,
    });
    const again = admin.organisations.invite({
      orgId: client.id,
      email: 'x@fresh.test',
      role: 'auditor',
    });
    expect(await outcomeOf(again)).toBe('FORBIDDEN');
  });

  it('refuses a role the kind of organisation does not have', async () => {
    const call = t.as('integratorAdmin').organisations.invite({
      orgId: t.world.orgs.integrator.id,
      email: 'approver@northwind.test',
      role: 'owner-approver',
    });
    expect(await outcomeOf(call)).toBe('BAD_REQUEST');
  });

  it('refuses to invite someone who already holds the role', async () => {
    const call = t.as('integratorAdmin').organisations.invite({
      orgId: t.world.orgs.integrator.id,
      email: 'TECH@northwind.test',
      role: 'technician',
    });
    expect(await outcomeOf(call)).toBe('CONFLICT');
  });
});

describe('organisations.acceptInvitation', () => {
  const t = useWorld({ beforeAll, afterAll });

  async function invite(email: string) {
    return t.as('integratorAdmin').organisations.invite({
      orgId: t.world.orgs.integrator.id,
      email,
      role: 'technician',
    });
  }

  it('creates the account of a newcomer, who then holds the role; the link works once', async () => {
    const { token } = await invite('Newcomer@Northwind.test');
    const anonymous = callerFor(t.db, null);
    expect(await anonymous.organisations.invitation({ token })).toEqual({
      email: 'newcomer@northwind.test',
      role: 'technician',
      organisationName: 'Northwind Integrators',
      hasAccount: false,
      expiresAt: expect.any(Date) as unknown,
    });
    await anonymous.organisations.acceptInvitation({
      token,
      name: 'New Comer',
      password: 'correct horse battery',
    });
    const [user] = await t.db
      .select()
      .from(schema.users)
      .where(eq(schema.users.email, 'newcomer@northwind.test'));
    const actor = await loadActor(t.db, user!.id, null);
    expect(actor?.memberships.map((m) => [m.orgName, m.role])).toEqual([
      ['Northwind Integrators', 'technician'],
    ]);
    expect(actor?.passwordChangeRequired).toBe(false);
    const reused = anonymous.organisations.acceptInvitation({
      token,
      name: 'Again',
      password: 'correct horse battery',
    });
    expect(await outcomeOf(reused)).toBe('NOT_FOUND');
  });

  it('asks an existing account to sign in, and lets only that account accept', async () => {
    const { token } = await invite('audit@harbour.test');
    const anonymous = callerFor(t.db, null);
    const call = anonymous.organisations.acceptInvitation({
      token,
      name: 'X',
      password: 'whatever password',
    });
    expect(await outcomeOf(call)).toBe('FORBIDDEN');
    expect(await outcomeOf(t.as('ownerApprover').organisations.acceptInvitation({ token }))).toBe(
      'FORBIDDEN',
    );
    expect(await outcomeOf(t.as('ownerAuditor').organisations.acceptInvitation({ token }))).toBe(
      'OK',
    );
  });

  it('replaces a pending invitation with a newer one for the same person and role', async () => {
    const first = await invite('twice@northwind.test');
    const second = await invite('twice@northwind.test');
    const anonymous = callerFor(t.db, null);
    expect(await outcomeOf(anonymous.organisations.invitation({ token: first.token }))).toBe(
      'NOT_FOUND',
    );
    expect(await outcomeOf(anonymous.organisations.invitation({ token: second.token }))).toBe('OK');
  });

  it('refuses an unknown token', async () => {
    const call = callerFor(t.db, null).organisations.invitation({ token: 'x'.repeat(43) });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });
});

describe('organisations.invitations and revokeInvitation', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', { list: string; revoke: string }> = {
    integratorAdmin: { list: 'OK', revoke: 'OK' },
    technician: { list: 'FORBIDDEN', revoke: 'FORBIDDEN' },
    integratorAuditor: { list: 'FORBIDDEN', revoke: 'FORBIDDEN' },
    ownerApprover: { list: 'NOT_FOUND', revoke: 'NOT_FOUND' },
    ownerAuditor: { list: 'FORBIDDEN', revoke: 'FORBIDDEN' },
    foreignIntegratorAdmin: { list: 'NOT_FOUND', revoke: 'NOT_FOUND' },
    foreignOwnerApprover: { list: 'NOT_FOUND', revoke: 'NOT_FOUND' },
    anonymous: { list: 'UNAUTHORIZED', revoke: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.list} listing and ${outcome.revoke} withdrawing the home integrator's invitations`, async () => {
      const { id } = await t.as('integratorAdmin').organisations.invite({
        orgId: t.world.orgs.integrator.id,
        email: `listed-for-${caller}@northwind.test`,
        role: 'technician',
      });
      const api = t.as(caller as CallerName);
      const list = api.organisations.invitations({ orgId: t.world.orgs.integrator.id });
      expect(await outcomeOf(list)).toBe(outcome.list);
      expect(await outcomeOf(api.organisations.revokeInvitation({ invitationId: id }))).toBe(
        outcome.revoke,
      );
    });
  }

  it('offers each admin the organisations it may invite into', async () => {
    const names = async (caller: CallerName) =>
      (await t.as(caller).organisations.invitable()).map((org) => org.name);
    // Harbour has an approver of its own, who invites there; Northwind's admin does not.
    expect(await names('integratorAdmin')).toEqual(['Northwind Integrators']);
    expect(await names('ownerApprover')).toEqual(['Harbour Bakery']);
    expect(await names('foreignIntegratorAdmin')).toEqual(['Southwind Integrators']);
    expect(await outcomeOf(t.as('technician').organisations.invitable())).toBe('FORBIDDEN');
  });

  it('lists states newest first and says why a link no longer works', async () => {
    const admin = t.as('integratorAdmin');
    const anonymous = callerFor(t.db, null);
    const orgId = t.world.orgs.integrator.id;
    const withdrawn = await admin.organisations.invite({
      orgId,
      email: 'w@n.test',
      role: 'auditor',
    });
    await admin.organisations.revokeInvitation({ invitationId: withdrawn.id });
    const used = await admin.organisations.invite({ orgId, email: 'u@n.test', role: 'auditor' });
    await anonymous.organisations.acceptInvitation({
      token: used.token,
      name: 'U',
      password: 'a long enough password',
    });
    const stale = await admin.organisations.invite({ orgId, email: 's@n.test', role: 'auditor' });
    await t.db
      .update(schema.invitations)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.invitations.id, stale.id));

    const listed = await admin.organisations.invitations({ orgId });
    const states = Object.fromEntries(listed.map((row) => [row.email, row.state]));
    expect(states).toMatchObject({
      'w@n.test': 'revoked',
      'u@n.test': 'accepted',
      's@n.test': 'expired',
    });
    expect(listed[0]?.email).toBe('s@n.test');
    expect(JSON.stringify(listed)).not.toContain(used.token);

    const why = async (token: string) =>
      anonymous.organisations.invitation({ token }).then(
        () => 'valid',
        (error: unknown) => (error as Error).message,
      );
    expect(await why(withdrawn.token)).toMatch(/withdrawn/);
    expect(await why(used.token)).toMatch(/already accepted/);
    expect(await why(stale.token)).toMatch(/expired/);
    expect(await outcomeOf(admin.organisations.revokeInvitation({ invitationId: used.id }))).toBe(
      'CONFLICT',
    );
  });

  it('returns a link with the token in the fragment when the origin is known', async () => {
    const created = await createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: t.world.actors.integratorAdmin,
        origin: 'https://custody.example.test',
      }),
    ).organisations.invite({
      orgId: t.world.orgs.integrator.id,
      email: 'linked@northwind.test',
      role: 'technician',
    });
    expect(created.link).toBe(`https://custody.example.test/invite#${created.token}`);
  });
});
