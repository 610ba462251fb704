import { DhcpRangeSchema, IdSchema, MAX_APPROVAL_QUORUM } from '@custody/core';
import { z } from 'zod';
import { createSite, getSite, listSites, updateSite } from '../../services/sites.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const SiteNameSchema = z.string().trim().min(1, 'Give the site a name.').max(500);

const SitePatchSchema = z.object({
  name: SiteNameSchema.optional(),
  address: z.string().trim().max(500).optional(),
  networkNotes: z.string().trim().max(5000).optional(),
  /** null removes the range. */
  dhcpRange: DhcpRangeSchema.nullable().optional(),
  approvalQuorum: z.int().min(1).max(MAX_APPROVAL_QUORUM).optional(),
});

/** The owner is an existing organisation, or a new client organisation named here. */
const NewSiteSchema = SitePatchSchema.extend({
  name: SiteNameSchema,
  address: z.string().trim().max(500).default(''),
  networkNotes: z.string().trim().max(5000).default(''),
  ownerOrgId: IdSchema.optional(),
  newOwnerName: z.string().trim().min(1, 'Name the owner organisation.').max(500).optional(),
  integratorOrgId: IdSchema.optional(),
}).superRefine((input, context) => {
  if ((input.ownerOrgId === undefined) === (input.newOwnerName === undefined)) {
    context.addIssue({
      code: 'custom',
      path: input.ownerOrgId === undefined ? ['ownerOrgId'] : ['newOwnerName'],
      message: 'Choose an owner organisation, or name a new one, but not both.',
    });
  }
});

export const sitesRouter = {
  list: protectedProcedure.query(({ ctx }) => listSites(ctx.db, ctx.actor)),

  get: protectedProcedure
    .input(z.object({ siteId: IdSchema }))
    .query(({ ctx, input }) => getSite(ctx.db, ctx.actor, input.siteId)),

  create: roleProcedure('integrator-admin', 'owner-approver')
    .input(NewSiteSchema)
    .mutation(({ ctx, input }) => {
      const { ownerOrgId, newOwnerName, ...fields } = input;
      const owner =
        newOwnerName === undefined ? { ownerOrgId: ownerOrgId ?? '' } : { newOwnerName };
      return createSite(ctx.db, ctx.actor, { ...fields, ...owner });
    }),

  update: roleProcedure('integrator-admin', 'owner-approver')
    .input(z.object({ siteId: IdSchema, patch: SitePatchSchema }))
    .mutation(({ ctx, input }) => updateSite(ctx.db, ctx.actor, input.siteId, input.patch)),
};
