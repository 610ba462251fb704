import { IdSchema } from '@custody/core';
import { z } from 'zod';
import { grantSite, listGrants, revokeGrant } from '../../services/grants.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const GrantInputSchema = z.object({ siteId: IdSchema, integratorOrgId: IdSchema });

export const grantsRouter = {
  list: protectedProcedure
    .input(z.object({ siteId: IdSchema }))
    .query(({ ctx, input }) => listGrants(ctx.db, ctx.actor, input.siteId)),

  grant: roleProcedure('owner-approver')
    .input(GrantInputSchema)
    .mutation(({ ctx, input }) => grantSite(ctx.db, ctx.actor, input)),

  revoke: roleProcedure('owner-approver')
    .input(GrantInputSchema)
    .mutation(({ ctx, input }) => revokeGrant(ctx.db, ctx.actor, input)),
};
