import { z } from 'zod';
import { AUDIT_PAGE_SIZE, listAuditPage, verifyAuditChainFor } from '../../services/audit-view.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const ActionSchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'An action looks like "grant.revoked".');

export const auditRouter = {
  /** Newest first, scoped to the caller (see auditScopeFor). */
  list: protectedProcedure
    .input(
      z
        .object({
          action: ActionSchema.optional(),
          subject: z
            .object({
              kind: z.string().trim().min(1).max(100),
              id: z.string().trim().min(1).max(200),
            })
            .optional(),
          beforeSeq: z.int().min(1).optional(),
          limit: z.int().min(1).max(200).default(AUDIT_PAGE_SIZE),
        })
        .default({ limit: AUDIT_PAGE_SIZE }),
    )
    .query(({ ctx, input }) => listAuditPage(ctx.db, ctx.actor, input)),

  /**
   * Walks the whole hash chain and names the first broken link, if any. A mutation so that it
   * runs when asked for, not again on every refocus: on a long log it takes a while.
   */
  verify: roleProcedure('integrator-admin', 'owner-approver', 'auditor').mutation(({ ctx }) =>
    verifyAuditChainFor(ctx.db),
  ),
};
