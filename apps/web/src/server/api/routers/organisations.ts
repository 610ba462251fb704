import { IdSchema, ORG_KINDS, ROLES, TextSchema } from '@custody/core';
import { z } from 'zod';
import { UserPasswordSchema } from '../../services/accounts.ts';
import {
  acceptInvitation,
  createOrganisation,
  describeInvitation,
  inviteMember,
  listOrganisations,
  listSiteOwnerChoices,
} from '../../services/organisations.ts';
import { protectedProcedure, publicProcedure, roleProcedure } from '../trpc.ts';

const TokenSchema = z.string().min(20).max(200);

export const organisationsRouter = {
  list: protectedProcedure.query(({ ctx }) => listOrganisations(ctx.db, ctx.actor)),

  /** Owner organisations the caller may create a site for. */
  siteOwners: roleProcedure('integrator-admin', 'owner-approver').query(({ ctx }) =>
    listSiteOwnerChoices(ctx.db, ctx.actor),
  ),

  create: roleProcedure('integrator-admin')
    .input(
      z.object({
        name: TextSchema,
        kind: z.enum(ORG_KINDS),
        integratorOrgId: IdSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }) => createOrganisation(ctx.db, ctx.actor, input)),

  invite: roleProcedure('integrator-admin', 'owner-approver')
    .input(z.object({ orgId: IdSchema, email: z.email(), role: z.enum(ROLES) }))
    .mutation(({ ctx, input }) => inviteMember(ctx.db, ctx.actor, input)),

  /** What an invitation link offers; anyone holding the link may ask. */
  invitation: publicProcedure
    .input(z.object({ token: TokenSchema }))
    .query(({ ctx, input }) => describeInvitation(ctx.db, input.token)),

  acceptInvitation: publicProcedure
    .input(
      z.object({
        token: TokenSchema,
        name: TextSchema.optional(),
        password: UserPasswordSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }) => acceptInvitation(ctx.db, ctx.actor, input)),
};
