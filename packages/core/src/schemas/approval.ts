import { z } from 'zod';
import { ApprovableActionSchema } from '../command-verb.ts';
import { SerialSchema } from '../serial.ts';
import { IdSchema, TimestampSchema } from './common.ts';

export const ApprovalRequestSchema = z.object({
  id: IdSchema,
  serial: SerialSchema,
  verb: ApprovableActionSchema,
  siteId: IdSchema,
  agentId: IdSchema,
  requestedBy: IdSchema,
  requestedAt: TimestampSchema,
  reason: z.string().trim().min(1, 'A reason is required.').max(2000),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

export const APPROVAL_DECISIONS = ['approve', 'deny'] as const;
export type ApprovalDecisionKind = (typeof APPROVAL_DECISIONS)[number];

export const ApprovalDecisionSchema = z.object({
  requestId: IdSchema,
  approverId: IdSchema,
  decision: z.enum(APPROVAL_DECISIONS),
  decidedAt: TimestampSchema,
  comment: z.string().trim().max(2000).default(''),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/**
 * What a met quorum yields: permission to run exactly one command with exactly this scope before
 * `expiresAt`. `usedAt` is set when it is consumed; a used grant is never executable again.
 */
export const ExecutableGrantSchema = z.object({
  requestId: IdSchema,
  serial: SerialSchema,
  verb: ApprovableActionSchema,
  siteId: IdSchema,
  agentId: IdSchema,
  approvedBy: z.array(IdSchema).min(1),
  issuedAt: TimestampSchema,
  expiresAt: TimestampSchema,
  usedAt: TimestampSchema.nullable(),
});
export type ExecutableGrant = z.infer<typeof ExecutableGrantSchema>;
