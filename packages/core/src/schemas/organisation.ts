import { z } from 'zod';
import { IdSchema, TextSchema } from './common.ts';

export const ORG_KINDS = ['integrator', 'owner'] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

export const OrganisationSchema = z.object({
  id: IdSchema,
  name: TextSchema,
  kind: z.enum(ORG_KINDS),
});
export type Organisation = z.infer<typeof OrganisationSchema>;
