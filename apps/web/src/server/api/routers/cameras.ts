import { SerialSchema } from '@custody/core';
import { z } from 'zod';
import { getCamera } from '../../services/cameras.ts';
import { protectedProcedure } from '../trpc.ts';

export const camerasRouter = {
  get: protectedProcedure
    .input(z.object({ serial: SerialSchema }))
    .query(({ ctx, input }) => getCamera(ctx.db, ctx.actor, input.serial)),
};
