import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ROTATION_ROLES, requireJobAccess } from '../../services/rotation/rotation-access.ts';
import type { RotationLiveEvent } from '../../services/rotation/rotation-feed.ts';
import {
  ListRotationItemsInputSchema,
  ListRotationJobsInputSchema,
  cancelRotationJob,
  createRotationJob,
  getRotationJob,
  listRotationItems,
  listRotationJobs,
  pauseRotationJob,
  previewRotationJob,
  resumeRotationJob,
  retryRotationFailures,
} from '../../services/rotation/rotation-jobs.ts';
import { CreateRotationInputSchema } from '../../services/rotation/rotation-selection.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const JobIdSchema = z.object({ jobId: z.uuid() });
const ROLES = ROTATION_ROLES as [
  (typeof ROTATION_ROLES)[number],
  ...(typeof ROTATION_ROLES)[number][],
];
/** Integrator admins, and owner approvers on their own sites; each service checks where. */
const rotator = roleProcedure(...ROLES);

export const rotationRouter = {
  /** What a rotation over this selection would do: cameras, waves, and what is skipped and why. */
  preview: rotator
    .input(CreateRotationInputSchema)
    .query(({ ctx, input }) => previewRotationJob(ctx.db, ctx.actor, input)),

  create: rotator
    .input(CreateRotationInputSchema)
    .mutation(({ ctx, input }) => createRotationJob(ctx.db, ctx.actor, input)),

  list: protectedProcedure
    .input(ListRotationJobsInputSchema.default({ limit: 20 }))
    .query(({ ctx, input }) => listRotationJobs(ctx.db, ctx.actor, input)),

  get: protectedProcedure
    .input(JobIdSchema)
    .query(({ ctx, input }) => getRotationJob(ctx.db, ctx.actor, input)),

  items: protectedProcedure
    .input(ListRotationItemsInputSchema)
    .query(({ ctx, input }) => listRotationItems(ctx.db, ctx.actor, input)),

  pause: rotator
    .input(JobIdSchema)
    .mutation(({ ctx, input }) => pauseRotationJob(ctx.db, ctx.actor, input)),

  resume: rotator
    .input(JobIdSchema)
    .mutation(({ ctx, input }) => resumeRotationJob(ctx.db, ctx.actor, input)),

  cancel: rotator
    .input(JobIdSchema)
    .mutation(({ ctx, input }) => cancelRotationJob(ctx.db, ctx.actor, input)),

  retryFailures: rotator
    .input(JobIdSchema)
    .mutation(({ ctx, input }) => retryRotationFailures(ctx.db, ctx.actor, input)),

  /** `{ jobId, at }` at once and whenever the job changes (then re-read `get` and `items`), over SSE. */
  live: protectedProcedure
    .input(JobIdSchema)
    .subscription(async ({ ctx, input, signal }): Promise<AsyncIterable<RotationLiveEvent>> => {
      const feed = ctx.rotationFeed;
      if (feed === null) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: 'Live rotation progress is not available from this server process.',
        });
      }
      // Checked before the stream opens, so a refusal is an ordinary error response.
      await requireJobAccess(ctx.db, ctx.actor, input.jobId);
      return feed.subscribe(input.jobId, signal);
    }),
};
