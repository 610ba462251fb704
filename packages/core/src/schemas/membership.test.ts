import { describe, expect, it } from 'vitest';
import { MembershipSchema, ROLES, hasRole } from './membership.ts';
import type { Membership } from './membership.ts';

const USER = '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f';
const ORG = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const OTHER_ORG = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5e';

describe('MembershipSchema', () => {
  it('accepts the four roles', () => {
    expect(ROLES).toEqual(['integrator-admin', 'technician', 'owner-approver', 'auditor']);
    for (const role of ROLES) {
      expect(MembershipSchema.parse({ userId: USER, orgId: ORG, role })).toEqual({
        userId: USER,
        orgId: ORG,
        role,
      });
    }
  });

  it('rejects unknown roles', () => {
    expect(MembershipSchema.safeParse({ userId: USER, orgId: ORG, role: 'admin' }).success).toBe(
      false,
    );
  });
});

describe('hasRole', () => {
  const memberships: Membership[] = [
    { userId: USER, orgId: ORG, role: 'technician' },
    { userId: USER, orgId: OTHER_ORG, role: 'owner-approver' },
  ];

  it('needs the user, the organisation and the role to match in one membership', () => {
    expect(hasRole(memberships, { userId: USER, orgId: ORG, role: 'technician' })).toBe(true);
    expect(hasRole(memberships, { userId: USER, orgId: OTHER_ORG, role: 'owner-approver' })).toBe(
      true,
    );
    expect(hasRole(memberships, { userId: USER, orgId: ORG, role: 'owner-approver' })).toBe(false);
    expect(hasRole(memberships, { userId: ORG, orgId: ORG, role: 'technician' })).toBe(false);
    expect(hasRole([], { userId: USER, orgId: ORG, role: 'technician' })).toBe(false);
  });
});
