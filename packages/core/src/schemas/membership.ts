import { z } from 'zod';
import { IdSchema } from './common.ts';

export const ROLES = ['integrator-admin', 'technician', 'owner-approver', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const MembershipSchema = z.object({
  userId: IdSchema,
  orgId: IdSchema,
  role: z.enum(ROLES),
});
export type Membership = z.infer<typeof MembershipSchema>;

export function hasRole(
  memberships: readonly Membership[],
  query: { userId: string; orgId: string; role: Role },
): boolean {
  return memberships.some(
    (m) => m.userId === query.userId && m.orgId === query.orgId && m.role === query.role,
  );
}
