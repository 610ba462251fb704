import { IdSchema, SerialSchema } from '@custody/core';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { requireAccessibleSite } from '../../services/access.ts';
import { FLEET_TOPICS, type FleetLiveEvent } from '../../services/fleet-feed.ts';
import { FleetQuerySchema } from '../../services/fleet-query.ts';
import { fleetFacets, listFleet } from '../../services/fleet.ts';
import { protectedProcedure } from '../trpc.ts';

const LiveInputSchema = z.object({
  siteId: IdSchema.optional(),
  serial: SerialSchema.optional(),
  topics: z.array(z.enum(FLEET_TOPICS)).min(1).default(['cameras', 'agents']),
});

export const fleetRouter = {
  list: protectedProcedure
    .input(FleetQuerySchema)
    .query(({ ctx, input }) => listFleet(ctx.db, ctx.actor, input)),

  facets: protectedProcedure
    .input(z.object({ siteId: IdSchema.optional() }).default({}))
    .query(({ ctx, input }) => fleetFacets(ctx.db, ctx.actor, input)),

  /** Changes to cameras, agents and commands of the caller's sites, over SSE. */
  live: protectedProcedure
    .input(LiveInputSchema)
    .subscription(async ({ ctx, input, signal }): Promise<AsyncIterable<FleetLiveEvent>> => {
      const feed = ctx.fleetFeed;
      if (feed === null) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: 'Live updates are not available from this server process.',
        });
      }
      // Checked before the stream opens, so a refusal is an ordinary error response.
      if (input.siteId !== undefined) await requireAccessibleSite(ctx.db, ctx.actor, input.siteId);
      return feed.subscribe(ctx.actor, input, signal);
    }),
};
