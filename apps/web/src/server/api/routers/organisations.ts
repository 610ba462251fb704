import { IdSchema, ORG_KINDS, ROLES, TextSchema } from '@custody/core';
import { z } from 'zod';
import { UserPasswordSchema } from '../../services/accounts.ts';
import {
  acceptInvitation,
  createOrganisation,
  describeInvitation,
  invitableOrganisations,
  INVITE_PATH,
  inviteMember,
  listInvitations,
  listOrganisations,
  revokeInvitation,
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

  /**
   * The link carries the token in its fragment (/invite#token): browsers never send a fragment
   * to the server, so it stays out of request lines and logs.
   */
  invite: roleProcedure('integrator-admin', 'owner-approver')
    .input(z.object({ orgId: IdSchema, email: z.email(), role: z.enum(ROLES) }))
    .mutation(async ({ ctx, input }) => {
      const created = await inviteMember(ctx.db, ctx.actor, input);
      return {
        ...created,
        link: ctx.origin === null ? null : `${ctx.origin}${INVITE_PATH}#${created.token}`,
      };
    }),

  /** Organisations the caller may invite members into. */
  invitable: roleProcedure('integrator-admin', 'owner-approver').query(({ ctx }) =>
    invitableOrganisations(ctx.db, ctx.actor),
  ),

  invitations: roleProcedure('integrator-admin', 'owner-approver')
    .input(z.object({ orgId: IdSchema }))
    .query(({ ctx, input }) => listInvitations(ctx.db, ctx.actor, input)),

  revokeInvitation: roleProcedure('integrator-admin', 'owner-approver')
    .input(z.object({ invitationId: IdSchema }))
    .mutation(({ ctx, input }) => revokeInvitation(ctx.db, ctx.actor, input)),

  /**
   * What an invitation link offers; anyone holding the link may ask. A mutation, so the token
   * travels in a POST body: queries are GETs, with their input in the URL.
   */
  invitation: publicProcedure
    .input(z.object({ token: TokenSchema }))
    .mutation(({ ctx, input }) => describeInvitation(ctx.db, input.token)),

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
