import { z } from 'zod';
import { changeOwnPassword, UserPasswordSchema } from '../../services/accounts.ts';
import { sessionProcedure } from '../trpc.ts';

export const meRouter = {
  /** Who is signed in, with every organisation and role. */
  get: sessionProcedure.query(({ ctx }) => ({
    id: ctx.actor.userId,
    email: ctx.actor.email,
    name: ctx.actor.name,
    passwordChangeRequired: ctx.actor.passwordChangeRequired,
    memberships: ctx.actor.memberships,
  })),

  changePassword: sessionProcedure
    .input(
      z
        .object({
          currentPassword: z.string().min(1, 'Enter your current password.'),
          newPassword: UserPasswordSchema,
          confirmPassword: z.string(),
        })
        .refine((input) => input.newPassword === input.confirmPassword, {
          message: 'The two new passwords differ.',
          path: ['confirmPassword'],
        }),
    )
    .mutation(async ({ ctx, input }) => {
      await changeOwnPassword(ctx.db, {
        userId: ctx.actor.userId,
        email: ctx.actor.email,
        sessionId: ctx.actor.sessionId,
        currentPassword: input.currentPassword,
        newPassword: input.newPassword,
      });
      return { changed: true as const };
    }),
};
