import { ReasonSchema, SerialSchema } from '@custody/core';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { CASE_CANCEL_ROLES, CASE_WORKER_ROLES } from '../../services/cases/case-access.ts';
import { PlanInputSchema, saveCasePlan } from '../../services/cases/case-plan.ts';
import {
  RecordingAttestationInputSchema,
  VmsConfirmationInputSchema,
  attestRecording,
  confirmVms,
  rerunProvisioning,
  rerunVerification,
  startCleanup,
} from '../../services/cases/case-provisioning.ts';
import {
  CancelInputSchema,
  DiagnoseInputSchema,
  StartResetInputSchema,
  cancelCase,
  diagnoseReset,
  requestSoftRestart,
  retryCase,
  startReset,
} from '../../services/cases/case-reset.ts';
import {
  BulkOpenInputSchema,
  ListCasesInputSchema,
  listCases,
  openCaseForCamera,
  openCasesForSite,
} from '../../services/cases/case-service.ts';
import {
  CandidateInputSchema,
  addCandidate,
  chooseRecommission,
  runAccessCheck,
} from '../../services/cases/case-triage.ts';
import { getCaseView } from '../../services/cases/case-view.ts';
import type { Vault } from '../../services/vault/vault.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const CaseIdSchema = z.object({ caseId: z.uuid() });
const worker = roleProcedure(...CASE_WORKER_ROLES);
const canceller = roleProcedure(...CASE_CANCEL_ROLES);

function requireVault(vault: Vault | null): Vault {
  if (vault === null) {
    throw new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'The credential vault is not loaded in this process.',
    });
  }
  return vault;
}

export const casesRouter = {
  list: protectedProcedure
    .input(ListCasesInputSchema)
    .query(({ ctx, input }) => listCases(ctx.db, ctx.actor, input)),

  get: protectedProcedure
    .input(CaseIdSchema)
    .query(({ ctx, input }) => getCaseView(ctx.db, ctx.actor, input.caseId)),

  open: worker.input(z.object({ serial: SerialSchema })).mutation(async ({ ctx, input }) => {
    const record = await openCaseForCamera(ctx.db, ctx.actor, input);
    return { caseId: record.id };
  }),

  openForSite: worker
    .input(BulkOpenInputSchema)
    .mutation(({ ctx, input }) => openCasesForSite(ctx.db, ctx.actor, input)),

  /** A candidate password for this camera; sealed at once and never returned. */
  addCandidate: worker.input(CandidateInputSchema).mutation(async ({ ctx, input }) => {
    const candidate = await addCandidate(ctx.db, requireVault(ctx.vault), ctx.actor, input);
    return { id: candidate.id, username: candidate.username, source: candidate.source };
  }),

  runAccessCheck: worker
    .input(CaseIdSchema)
    .mutation(({ ctx, input }) => runAccessCheck(ctx.db, ctx.actor, input)),

  chooseRecommission: worker
    .input(CaseIdSchema.extend({ reason: ReasonSchema, expectedRevision: z.int().optional() }))
    .mutation(async ({ ctx, input }) => {
      const record = await chooseRecommission(ctx.db, ctx.actor, input);
      return { revision: record.revision };
    }),

  softRestart: worker.input(CaseIdSchema).mutation(async ({ ctx, input }) => {
    const record = await requestSoftRestart(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  savePlan: worker.input(PlanInputSchema).mutation(async ({ ctx, input }) => {
    const record = await saveCasePlan(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  startCleanup: worker
    .input(CaseIdSchema.extend({ expectedRevision: z.int().optional() }))
    .mutation(async ({ ctx, input }) => {
      const record = await startCleanup(ctx.db, requireVault(ctx.vault), ctx.actor, input);
      return { revision: record.revision };
    }),

  startReset: worker.input(StartResetInputSchema).mutation(async ({ ctx, input }) => {
    const record = await startReset(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  diagnoseReset: worker.input(DiagnoseInputSchema).mutation(async ({ ctx, input }) => {
    const record = await diagnoseReset(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  retry: worker.input(CaseIdSchema).mutation(async ({ ctx, input }) => {
    const record = await retryCase(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  rerunProvisioning: worker.input(CaseIdSchema).mutation(async ({ ctx, input }) => {
    const record = await rerunProvisioning(ctx.db, requireVault(ctx.vault), ctx.actor, input);
    return { revision: record.revision };
  }),

  rerunVerification: worker.input(CaseIdSchema).mutation(async ({ ctx, input }) => {
    const record = await rerunVerification(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),

  confirmVms: worker.input(VmsConfirmationInputSchema).mutation(async ({ ctx, input }) => {
    const record = await confirmVms(ctx.db, ctx.actor, input);
    return { revision: record.revision, status: record.status };
  }),

  attestRecording: worker
    .input(RecordingAttestationInputSchema)
    .mutation(async ({ ctx, input }) => {
      const record = await attestRecording(ctx.db, ctx.actor, input);
      return { revision: record.revision, status: record.status };
    }),

  cancel: canceller.input(CancelInputSchema).mutation(async ({ ctx, input }) => {
    const record = await cancelCase(ctx.db, ctx.actor, input);
    return { revision: record.revision };
  }),
};
