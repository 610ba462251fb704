import { z } from 'zod';
import {
  ConfirmHandoverInputSchema,
  confirmHandover,
  getHandover,
} from '../../services/handover/handover-record.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

export const handoverRouter = {
  /** The handover record of a case: what the printable page and the exports show. */
  get: protectedProcedure
    .input(z.object({ caseId: z.uuid() }))
    .query(({ ctx, input }) => getHandover(ctx.db, ctx.actor, input.caseId)),

  /** The technician hands the verified camera over: the case becomes documented. */
  confirm: roleProcedure('technician', 'integrator-admin')
    .input(ConfirmHandoverInputSchema)
    .mutation(({ ctx, input }) => confirmHandover(ctx.db, ctx.actor, input)),
};
