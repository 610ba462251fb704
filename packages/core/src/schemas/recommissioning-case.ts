import { z } from 'zod';
import { SerialSchema } from '../serial.ts';
import { CasePathSchema, CaseStateSchema } from './case-state.ts';
import { IdSchema, TimestampSchema } from './common.ts';

/** The recorded outcome of triage, kept with the case so the decision and its reasons survive. */
export const CaseTriageSchema = z.object({
  path: CasePathSchema,
  resetRequired: z.boolean(),
  reasons: z.array(z.string()).min(1),
  decidedAt: TimestampSchema,
});
export type CaseTriage = z.infer<typeof CaseTriageSchema>;

export const RecommissioningCaseSchema = z.object({
  id: IdSchema,
  serial: SerialSchema,
  siteId: IdSchema,
  openedBy: IdSchema,
  openedAt: TimestampSchema,
  state: CaseStateSchema,
  triage: CaseTriageSchema.nullable().default(null),
  ownershipRecordId: IdSchema.nullable().default(null),
  updatedAt: TimestampSchema,
});
export type RecommissioningCase = z.infer<typeof RecommissioningCaseSchema>;
