import { schema } from '@custody/db';
import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

describe('sites.list', () => {
  const { as } = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string[] | string> = {
    integratorAdmin: ['Harbour Street'],
    technician: ['Harbour Street'],
    integratorAuditor: ['Harbour Street'],
    ownerApprover: ['Harbour Depot', 'Harbour Street'],
    ownerAuditor: ['Harbour Depot', 'Harbour Street'],
    foreignIntegratorAdmin: ['Quay Warehouse'],
    foreignOwnerApprover: ['Quay Warehouse'],
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, sites] of Object.entries(expected)) {
    it(`shows ${caller} ${Array.isArray(sites) ? sites.join(', ') : 'nothing'}`, async () => {
      const call = as(caller as CallerName).sites.list();
      if (typeof sites === 'string') {
        expect(await outcomeOf(call)).toBe(sites);
      } else {
        expect((await call).map((site) => site.name)).toEqual(sites);
      }
    });
  }
});

describe('sites.get', () => {
  const t = useWorld({ beforeAll, afterAll });
  const { as } = t;
  const expected: Record<CallerName | 'anonymous', { granted: string; ungranted: string }> = {
    integratorAdmin: { granted: 'OK', ungranted: 'NOT_FOUND' },
    technician: { granted: 'OK', ungranted: 'NOT_FOUND' },
    integratorAuditor: { granted: 'OK', ungranted: 'NOT_FOUND' },
    ownerApprover: { granted: 'OK', ungranted: 'OK' },
    ownerAuditor: { granted: 'OK', ungranted: 'OK' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    foreignOwnerApprover: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    anonymous: { granted: 'UNAUTHORIZED', ungranted: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.granted} for a granted site and ${outcome.ungranted} for an ungranted one`, async () => {
      const api = as(caller as CallerName);
      expect(await outcomeOf(api.sites.get({ siteId: t.world.sites.grantedSite.id }))).toBe(
        outcome.granted,
      );
      expect(await outcomeOf(api.sites.get({ siteId: t.world.sites.ungrantedSite.id }))).toBe(
        outcome.ungranted,
      );
    });
  }

  it('answers a missing site exactly like a foreign one', async () => {
    const missing = await outcomeOf(
      as('ownerApprover').sites.get({ siteId: '00000000-0000-4000-8000-000000000000' }),
    );
    expect(missing).toBe('NOT_FOUND');
  });
});

describe('sites.create', () => {
  const t = useWorld({ beforeAll, afterAll });
  const { as } = t;
  const expected: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome} when creating a site for the home owner`, async () => {
      const call = as(caller as CallerName).sites.create({
        ownerOrgId: t.world.orgs.owner.id,
        name: `New ${caller}`,
      });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  it('gives the integrator that creates a site for its client a grant on it at once', async () => {
    const site = await as('integratorAdmin').sites.create({
      ownerOrgId: t.world.orgs.owner.id,
      name: 'New Harbour Annex',
      address: '1 Annex Road',
      dhcpRange: { start: '10.0.0.100', end: '10.0.0.199' },
    });
    expect(site).toMatchObject({
      ownerName: 'Harbour Bakery',
      address: '1 Annex Road',
      dhcpRange: { start: '10.0.0.100', end: '10.0.0.199' },
    });
    const grants = await t.db
      .select()
      .from(schema.siteGrants)
      .where(eq(schema.siteGrants.siteId, site.id));
    expect(grants.map((g) => [g.integratorOrgId, g.revokedAt])).toEqual([
      [t.world.orgs.integrator.id, null],
    ]);
    expect(await outcomeOf(as('technician').sites.get({ siteId: site.id }))).toBe('OK');
    expect(await outcomeOf(as('foreignIntegratorAdmin').sites.get({ siteId: site.id }))).toBe(
      'NOT_FOUND',
    );
  });

  it('gives no grant when the owner creates its own site', async () => {
    const site = await as('ownerApprover').sites.create({
      ownerOrgId: t.world.orgs.owner.id,
      name: 'New Harbour Cellar',
    });
    expect(await outcomeOf(as('integratorAdmin').sites.get({ siteId: site.id }))).toBe('NOT_FOUND');
  });

  it('refuses an integrator organisation as the owner', async () => {
    const call = as('integratorAdmin').sites.create({
      ownerOrgId: t.world.orgs.integrator.id,
      name: 'New Wrong',
    });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });

  it('reports bad input per field', async () => {
    const error = await as('ownerApprover')
      .sites.create({
        ownerOrgId: t.world.orgs.owner.id,
        name: '  ',
        dhcpRange: { start: '10.0.0.200', end: '10.0.0.100' },
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe('BAD_REQUEST');
  });
});

describe('sites.update', () => {
  const t = useWorld({ beforeAll, afterAll });
  const { as } = t;
  const expected: Record<CallerName | 'anonymous', { granted: string; ungranted: string }> = {
    integratorAdmin: { granted: 'OK', ungranted: 'NOT_FOUND' },
    technician: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    integratorAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    ownerApprover: { granted: 'OK', ungranted: 'OK' },
    ownerAuditor: { granted: 'FORBIDDEN', ungranted: 'FORBIDDEN' },
    foreignIntegratorAdmin: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    foreignOwnerApprover: { granted: 'NOT_FOUND', ungranted: 'NOT_FOUND' },
    anonymous: { granted: 'UNAUTHORIZED', ungranted: 'UNAUTHORIZED' },
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome.granted} on a granted site and ${outcome.ungranted} on an ungranted one`, async () => {
      const api = as(caller as CallerName);
      const patch = { networkNotes: `edited by ${caller}` };
      expect(
        await outcomeOf(api.sites.update({ siteId: t.world.sites.grantedSite.id, patch })),
      ).toBe(outcome.granted);
      expect(
        await outcomeOf(api.sites.update({ siteId: t.world.sites.ungrantedSite.id, patch })),
      ).toBe(outcome.ungranted);
    });
  }

  it('changes only the fields given and can remove the DHCP range', async () => {
    const api = as('ownerApprover');
    const site = await api.sites.create({
      ownerOrgId: t.world.orgs.owner.id,
      name: 'New Harbour Loft',
      address: '2 Loft Lane',
      dhcpRange: { start: '192.168.1.10', end: '192.168.1.20' },
    });
    const renamed = await api.sites.update({ siteId: site.id, patch: { name: 'New Loft' } });
    expect(renamed).toMatchObject({ name: 'New Loft', address: '2 Loft Lane' });
    expect(renamed.dhcpRange).toEqual({ start: '192.168.1.10', end: '192.168.1.20' });
    const cleared = await api.sites.update({ siteId: site.id, patch: { dhcpRange: null } });
    expect(cleared.dhcpRange).toBeNull();
  });
});

describe('sites.create with a new owner organisation', () => {
  const t = useWorld({ beforeAll, afterAll });

  it('creates the client organisation, the site and the grant together', async () => {
    const site = await t.as('integratorAdmin').sites.create({
      newOwnerName: 'Marina Ltd',
      name: 'Marina Gate',
    });
    expect(site.ownerName).toBe('Marina Ltd');
    const owners = await t.as('integratorAdmin').organisations.siteOwners();
    expect(owners.map((o) => o.name)).toContain('Marina Ltd');
    expect((await t.as('technician').sites.list()).map((s) => s.name)).toContain('Marina Gate');
    expect((await t.as('foreignIntegratorAdmin').sites.list()).map((s) => s.name)).not.toContain(
      'Marina Gate',
    );
  });

  it('is for integrator admins only', async () => {
    const call = t.as('ownerApprover').sites.create({ newOwnerName: 'Other', name: 'Other Site' });
    expect(await outcomeOf(call)).toBe('FORBIDDEN');
  });

  it('needs exactly one way of naming the owner', async () => {
    const neither = t.as('integratorAdmin').sites.create({ name: 'Nowhere' });
    const both = t.as('integratorAdmin').sites.create({
      name: 'Twice',
      ownerOrgId: t.world.orgs.owner.id,
      newOwnerName: 'Twice Ltd',
    });
    expect(await outcomeOf(neither)).toBe('BAD_REQUEST');
    expect(await outcomeOf(both)).toBe('BAD_REQUEST');
  });
});
