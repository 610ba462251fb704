import type { OrgKind, Role } from '@custody/core';

/** Which kinds of organisation each role can be held in. */
export const ROLE_ORG_KINDS: Readonly<Record<Role, readonly OrgKind[]>> = {
  'integrator-admin': ['integrator'],
  technician: ['integrator'],
  'owner-approver': ['owner'],
  auditor: ['integrator', 'owner'],
};

export function isRoleAllowedIn(role: Role, kind: OrgKind): boolean {
  return ROLE_ORG_KINDS[role].includes(kind);
}
