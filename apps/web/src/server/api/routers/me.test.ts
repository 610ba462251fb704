import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';

describe('me.get', () => {
  const t = useWorld({ beforeAll, afterAll });
  const expected: Record<CallerName, string> = {
    integratorAdmin: 'Northwind Integrators:integrator-admin',
    technician: 'Northwind Integrators:technician',
    integratorAuditor: 'Northwind Integrators:auditor',
    ownerApprover: 'Harbour Bakery:owner-approver',
    ownerAuditor: 'Harbour Bakery:auditor',
    foreignIntegratorAdmin: 'Southwind Integrators:integrator-admin',
    foreignOwnerApprover: 'Quay Foods:owner-approver',
  };
  for (const [caller, membership] of Object.entries(expected)) {
    it(`tells ${caller} its own identity and memberships only`, async () => {
      const me = await t.as(caller as CallerName).me.get();
      expect(me.id).toBe(t.world.people[caller as CallerName].id);
      expect(me.memberships.map((m) => `${m.orgName}:${m.role}`)).toEqual([membership]);
    });
  }

  it('refuses an anonymous caller', async () => {
    expect(await outcomeOf(t.as('anonymous').me.get())).toBe('UNAUTHORIZED');
  });
});
