import { z } from 'zod';
import { IdSchema, TextSchema } from './common.ts';

export const DEFAULT_APPROVAL_QUORUM = 1;
export const MAX_APPROVAL_QUORUM = 10;

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
}

export const DhcpRangeSchema = z
  .object({ start: z.ipv4(), end: z.ipv4() })
  .refine((range) => ipv4ToNumber(range.start) <= ipv4ToNumber(range.end), {
    message: 'The DHCP range must start at or before its end.',
    path: ['end'],
  });
export type DhcpRange = z.infer<typeof DhcpRangeSchema>;

/** Static addresses are planned outside the DHCP range, so the planner needs to test membership. */
export function isInDhcpRange(address: string, range: DhcpRange): boolean {
  if (!z.ipv4().safeParse(address).success) return false;
  const value = ipv4ToNumber(address);
  return value >= ipv4ToNumber(range.start) && value <= ipv4ToNumber(range.end);
}

export const SiteSchema = z.object({
  id: IdSchema,
  name: TextSchema,
  ownerOrgId: IdSchema,
  address: z.string().trim().max(500).default(''),
  networkNotes: z.string().trim().max(5000).default(''),
  dhcpRange: DhcpRangeSchema.optional(),
  /** Distinct owner approvers needed before a destructive verb may run at this site. */
  approvalQuorum: z.int().min(1).max(MAX_APPROVAL_QUORUM).default(DEFAULT_APPROVAL_QUORUM),
});
export type Site = z.infer<typeof SiteSchema>;
