import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.ts';

/** An owner's grant of access to one of its sites to an integrator; revocable at any time. */
export const SiteGrantSchema = z.object({
  siteId: IdSchema,
  ownerOrgId: IdSchema,
  integratorOrgId: IdSchema,
  grantedBy: IdSchema,
  grantedAt: TimestampSchema,
  revokedAt: TimestampSchema.nullable().default(null),
});
export type SiteGrant = z.infer<typeof SiteGrantSchema>;

export function isSiteGrantActive(
  grant: Pick<SiteGrant, 'grantedAt' | 'revokedAt'>,
  now: Date,
): boolean {
  if (grant.grantedAt.getTime() > now.getTime()) return false;
  return grant.revokedAt === null || grant.revokedAt.getTime() > now.getTime();
}
