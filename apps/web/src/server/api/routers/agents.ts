import { IdSchema } from '@custody/core';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  ENROLLMENT_TTLS,
  enrollableSites,
  issueEnrollmentToken,
  listAgents,
  listPendingEnrollmentTokens,
  revokeAgentFor,
  type EnrollmentTtl,
} from '../../services/agents.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const TtlSchema = z.enum(Object.keys(ENROLLMENT_TTLS) as [EnrollmentTtl, ...EnrollmentTtl[]]);

export const agentsRouter = {
  list: protectedProcedure
    .input(z.object({ siteId: IdSchema.optional() }).default({}))
    .query(({ ctx, input }) => listAgents(ctx.db, ctx.actor, input)),

  enrollableSites: protectedProcedure.query(({ ctx }) => enrollableSites(ctx.db, ctx.actor)),

  pendingTokens: roleProcedure('integrator-admin')
    .input(z.object({ siteId: IdSchema.optional() }).default({}))
    .query(({ ctx, input }) => listPendingEnrollmentTokens(ctx.db, ctx.actor, input)),

  createEnrollmentToken: roleProcedure('integrator-admin')
    .input(z.object({ siteId: IdSchema, ttl: TtlSchema.default('24h') }))
    .mutation(({ ctx, input }) => {
      if (ctx.origin === null) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: 'The address agents reach this server at is not known.',
        });
      }
      return issueEnrollmentToken(ctx.db, ctx.actor, { ...input, serverUrl: ctx.origin });
    }),

  revoke: roleProcedure('integrator-admin')
    .input(z.object({ agentId: IdSchema }))
    .mutation(({ ctx, input }) => revokeAgentFor(ctx.db, ctx.actor, input.agentId)),
};
