import { SerialSchema } from '@custody/core';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  REVEAL_REASON_MAX_LENGTH,
  REVEAL_REASON_MIN_LENGTH,
  REVEAL_ROLES,
  listCameraCredentialVersions,
  revealCredential,
} from '../../services/vault/credential-access.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const [revealRole, ...otherRevealRoles] = REVEAL_ROLES;
if (revealRole === undefined) throw new Error('REVEAL_ROLES is empty');

export const vaultRouter = {
  /** The kept credential versions of a camera: usernames, versions, states; never a password. */
  versions: protectedProcedure
    .input(z.object({ serial: SerialSchema }))
    .query(({ ctx, input }) => listCameraCredentialVersions(ctx.db, ctx.actor, input.serial)),

  /** One password in clear, with a reason; audited and rate limited. */
  reveal: roleProcedure(revealRole, ...otherRevealRoles)
    .input(
      z.object({
        credentialId: z.uuid(),
        reason: z.string().trim().min(REVEAL_REASON_MIN_LENGTH).max(REVEAL_REASON_MAX_LENGTH),
      }),
    )
    .mutation(({ ctx, input }) => {
      if (ctx.vault === null) {
        throw new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: 'The credential vault is not loaded in this process.',
        });
      }
      return revealCredential(ctx.db, ctx.vault, ctx.actor, input);
    }),
};
