import { SerialSchema } from '@custody/core';
import { z } from 'zod';
import {
  RecordOwnershipInputSchema,
  getOwnershipHistory,
  recordOwnership,
} from '../../services/ownership/ownership-records.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

export const ownershipRouter = {
  /** Every ownership record of a camera, newest first, with evidence and who attested it. */
  history: protectedProcedure
    .input(z.object({ serial: SerialSchema }))
    .query(({ ctx, input }) => getOwnershipHistory(ctx.db, ctx.actor, input.serial)),

  /** An owner approver attests the camera's owner; the previous record is superseded. */
  record: roleProcedure('owner-approver')
    .input(RecordOwnershipInputSchema.extend({ serial: SerialSchema }))
    .mutation(({ ctx, input }) => recordOwnership(ctx.db, ctx.actor, input)),
};
