import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

describe('grants.list', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string[] | string> = {
    integratorAdmin: ['Northwind Integrators'],
    technician: ['Northwind Integrators'],
    integratorAuditor: ['Northwind Integrators'],
    ownerApprover: ['Northwind Integrators'],
    ownerAuditor: ['Northwind Integrators'],
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, grants] of Object.entries(expected)) {
    it(`answers ${caller} with ${Array.isArray(grants) ? grants.join(', ') : grants} for the granted site`, async () => {
      const call = t.as(caller as CallerName).grants.list({ siteId: t.world.sites.grantedSite.id });
      if (typeof grants === 'string') {
        expect(await outcomeOf(call)).toBe(grants);
      } else {
        expect((await call).map((grant) => grant.integratorName)).toEqual(grants);
      }
    });
  }

  it('shows an integrator only its own grants, and the owner every grant', async () => {
    const { world } = t;
    await t.as('ownerApprover').grants.grant({
      siteId: world.sites.grantedSite.id,
      integratorOrgId: world.orgs.foreignIntegrator.id,
    });
    const forIntegrator = await t
      .as('technician')
      .grants.list({ siteId: world.sites.grantedSite.id });
    expect(forIntegrator.map((grant) => grant.integratorName)).toEqual(['Northwind Integrators']);
    const forOwner = await t.as('ownerAuditor').grants.list({ siteId: world.sites.grantedSite.id });
    expect(forOwner.map((grant) => grant.integratorName).sort()).toEqual([
      'Northwind Integrators',
      'Southwind Integrators',
    ]);
  });
});

describe('grants.grant', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'FORBIDDEN',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'FORBIDDEN',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome} when granting a home site to the home integrator`, async () => {
      const site = await t.as('ownerApprover').sites.create({
        ownerOrgId: t.world.orgs.owner.id,
        name: `Grant target for ${caller}`,
      });
      const call = t.as(caller as CallerName).grants.grant({
        siteId: site.id,
        integratorOrgId: t.world.orgs.integrator.id,
      });
      expect(await outcomeOf(call)).toBe(outcome);
      const seen = await outcomeOf(t.as('technician').sites.get({ siteId: site.id }));
      expect(seen).toBe(outcome === 'OK' ? 'OK' : 'NOT_FOUND');
    });
  }

  it('refuses a second active grant to the same integrator', async () => {
    const call = t.as('ownerApprover').grants.grant({
      siteId: t.world.sites.grantedSite.id,
      integratorOrgId: t.world.orgs.integrator.id,
    });
    expect(await outcomeOf(call)).toBe('CONFLICT');
  });

  it('refuses to grant a site to an owner organisation', async () => {
    const call = t.as('ownerApprover').grants.grant({
      siteId: t.world.sites.ungrantedSite.id,
      integratorOrgId: t.world.orgs.foreignOwner.id,
    });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });

  it('makes the owner a client of a newly granted integrator', async () => {
    const { world } = t;
    await t.as('ownerApprover').grants.grant({
      siteId: world.sites.ungrantedSite.id,
      integratorOrgId: world.orgs.foreignIntegrator.id,
    });
    const owners = await t.as('foreignIntegratorAdmin').organisations.siteOwners();
    expect(owners.map((org) => org.name)).toEqual(['Harbour Bakery', 'Quay Foods']);
    const sites = await t.as('foreignIntegratorAdmin').sites.list();
    expect(sites.map((site) => site.name)).toEqual(['Harbour Depot', 'Quay Warehouse']);
  });
});

describe('grants.revoke', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName | 'anonymous', string> = {
    integratorAdmin: 'FORBIDDEN',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'FORBIDDEN',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(expected)) {
    it(`answers ${caller} ${outcome} when revoking the home integrator's grant`, async () => {
      const site = await t.as('integratorAdmin').sites.create({
        ownerOrgId: t.world.orgs.owner.id,
        name: `Revoke target for ${caller}`,
      });
      const call = t.as(caller as CallerName).grants.revoke({
        siteId: site.id,
        integratorOrgId: t.world.orgs.integrator.id,
      });
      expect(await outcomeOf(call)).toBe(outcome);
    });
  }

  it('takes effect at once: the integrator loses the site in its very next call', async () => {
    const { world } = t;
    const technician = t.as('technician');
    const siteId = world.sites.grantedSite.id;
    expect((await technician.sites.list()).map((site) => site.id)).toContain(siteId);
    await t
      .as('ownerApprover')
      .grants.revoke({ siteId, integratorOrgId: world.orgs.integrator.id });
    expect(await outcomeOf(technician.sites.get({ siteId }))).toBe('NOT_FOUND');
    expect((await technician.sites.list()).map((site) => site.id)).not.toContain(siteId);
    expect(await outcomeOf(technician.grants.list({ siteId }))).toBe('NOT_FOUND');
    const history = await t.as('ownerApprover').grants.list({ siteId });
    expect(
      history.find((grant) => grant.integratorOrgId === world.orgs.integrator.id)?.revokedAt,
    ).toBeInstanceOf(Date);
  });

  it('reports a grant that is not active', async () => {
    const call = t.as('ownerApprover').grants.revoke({
      siteId: t.world.sites.ungrantedSite.id,
      integratorOrgId: t.world.orgs.integrator.id,
    });
    expect(await outcomeOf(call)).toBe('NOT_FOUND');
  });
});
