import { z } from 'zod';
import {
  DecideApprovalInputSchema,
  InboxInputSchema,
  RequestApprovalInputSchema,
  WithdrawApprovalInputSchema,
  countPendingApprovals,
  decideApproval,
  getApprovalRequest,
  listApprovalInbox,
  listCaseApprovals,
  requestApproval,
  withdrawApproval,
} from '../../services/approvals/approvals.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

export const approvalsRouter = {
  /** The owner side's inbox: requests to the owner organisations the caller belongs to. */
  inbox: protectedProcedure
    .input(InboxInputSchema.optional())
    .query(({ ctx, input }) =>
      listApprovalInbox(ctx.db, ctx.actor, InboxInputSchema.parse(input ?? {})),
    ),

  /** The nav badge: pending requests waiting for this caller's decision. */
  pendingCount: protectedProcedure.query(({ ctx }) => countPendingApprovals(ctx.db, ctx.actor)),

  get: protectedProcedure
    .input(z.object({ requestId: z.uuid() }))
    .query(({ ctx, input }) => getApprovalRequest(ctx.db, ctx.actor, input.requestId)),

  forCase: protectedProcedure
    .input(z.object({ caseId: z.uuid() }))
    .query(({ ctx, input }) => listCaseApprovals(ctx.db, ctx.actor, input.caseId)),

  request: roleProcedure('technician', 'integrator-admin')
    .input(RequestApprovalInputSchema)
    .mutation(({ ctx, input }) => requestApproval(ctx.db, ctx.actor, input)),

  // Not role-gated here: the service asks core's policy, so an attempt by someone who may not
  // decide is refused with its reason and written to the audit log.
  decide: protectedProcedure
    .input(DecideApprovalInputSchema)
    .mutation(({ ctx, input }) => decideApproval(ctx.db, ctx.actor, input)),

  withdraw: roleProcedure('technician', 'integrator-admin')
    .input(WithdrawApprovalInputSchema)
    .mutation(({ ctx, input }) => withdrawApproval(ctx.db, ctx.actor, input)),
};
