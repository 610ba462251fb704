import { z } from 'zod';
import { SerialSchema } from '../serial.ts';
import { IdSchema, TimestampSchema } from './common.ts';

/** The proofs a recommissioned camera owes before its case can be documented. */
export const VERIFICATION_CHECK_KINDS = [
  'serial-at-planned-address',
  'new-credentials-work',
  'old-credentials-rejected',
  'snapshot-is-jpeg',
  'rtsp-describe',
  'recording-present',
  'vms-updated',
] as const;
export type VerificationCheckKind = (typeof VERIFICATION_CHECK_KINDS)[number];

export const CHECK_OUTCOMES = ['passed', 'failed', 'skipped'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

export const VerificationCheckSchema = z.object({
  kind: z.enum(VERIFICATION_CHECK_KINDS),
  outcome: z.enum(CHECK_OUTCOMES),
  /** Human-readable one-liner, e.g. "JPEG 1920x1080, 214 kB". Never a credential. */
  summary: z.string().trim().max(1000).default(''),
  /** Machine-readable facts backing the outcome (status codes, sizes, hashes, addresses). */
  evidence: z.record(z.string(), z.unknown()).default({}),
  checkedAt: TimestampSchema,
});
export type VerificationCheck = z.infer<typeof VerificationCheckSchema>;

export const VerificationSchema = z.object({
  id: IdSchema,
  caseId: IdSchema,
  serial: SerialSchema,
  checks: z.array(VerificationCheckSchema).default([]),
  completedAt: TimestampSchema.nullable().default(null),
});
export type Verification = z.infer<typeof VerificationSchema>;
