import { z } from 'zod';
import { IdSchema } from './common.ts';

export const CASE_STATES = [
  'opened',
  'triaged',
  'awaiting-ownership',
  'awaiting-approval',
  'approved',
  'resetting',
  'awaiting-device',
  'provisioning',
  'verifying',
  'verified',
  'documented',
  'denied',
  'cancelled',
  'failed',
  'wont-reset',
] as const;
export type CaseStatus = (typeof CASE_STATES)[number];

export const TERMINAL_CASE_STATES = [
  'documented',
  'denied',
  'cancelled',
] as const satisfies readonly CaseStatus[];

export const CASE_PATHS = ['credential-cleanup', 'recommission'] as const;
export type CasePath = (typeof CASE_PATHS)[number];
export const CasePathSchema = z.enum(CASE_PATHS);

export const RESET_METHODS = ['software-soft', 'software-hard', 'control-button'] as const;
export type ResetMethod = (typeof RESET_METHODS)[number];
export const ResetMethodSchema = z.enum(RESET_METHODS);

export const NEVER_CAME_BACK_CAUSES = ['power-budget', 'cable', 'bricked'] as const;
export const CAME_BACK_CONFIGURED_CAUSES = ['button-timing', 'faulty-button'] as const;
export const WONT_RESET_CAUSES = [
  ...NEVER_CAME_BACK_CAUSES,
  ...CAME_BACK_CONFIGURED_CAUSES,
] as const;
export type WontResetCause = (typeof WONT_RESET_CAUSES)[number];

/** "Won't reset" is diagnosed: what was observed, and the cause the technician settled on. */
export const WontResetDiagnosisSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('never-came-back'), cause: z.enum(NEVER_CAME_BACK_CAUSES) }),
  z.object({ kind: z.literal('came-back-configured'), cause: z.enum(CAME_BACK_CONFIGURED_CAUSES) }),
]);
export type WontResetDiagnosis = z.infer<typeof WontResetDiagnosisSchema>;

export const ReasonSchema = z.string().trim().min(1, 'A reason is required.').max(2000);

export const CaseStateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('opened') }),
  z.object({ status: z.literal('triaged'), path: CasePathSchema, resetRequired: z.boolean() }),
  z.object({ status: z.literal('awaiting-ownership'), resetRequired: z.boolean() }),
  /** `requestId` is null until an approval has been requested for this attempt. */
  z.object({ status: z.literal('awaiting-approval'), requestId: IdSchema.nullable() }),
  z.object({ status: z.literal('approved'), requestId: IdSchema }),
  z.object({ status: z.literal('resetting'), method: ResetMethodSchema }),
  z.object({ status: z.literal('awaiting-device'), method: ResetMethodSchema }),
  z.object({
    status: z.literal('provisioning'),
    path: CasePathSchema,
    lastVerificationFailure: ReasonSchema.nullable(),
  }),
  z.object({ status: z.literal('verifying'), path: CasePathSchema }),
  z.object({ status: z.literal('verified'), path: CasePathSchema }),
  z.object({ status: z.literal('documented'), path: CasePathSchema }),
  z.object({ status: z.literal('denied'), reason: ReasonSchema }),
  z.object({ status: z.literal('cancelled'), reason: ReasonSchema }),
  z.object({
    status: z.literal('failed'),
    reason: ReasonSchema,
    failedFrom: z.enum(CASE_STATES),
  }),
  z.object({
    status: z.literal('wont-reset'),
    method: ResetMethodSchema,
    diagnosis: WontResetDiagnosisSchema,
  }),
]);
export type CaseState = z.infer<typeof CaseStateSchema>;
export type CaseStateOf<S extends CaseStatus> = Extract<CaseState, { status: S }>;

export const CASE_EVENT_TYPES = [
  'triage-completed',
  'ownership-requested',
  'ownership-recorded',
  'provisioning-started',
  'approval-requested',
  'approved',
  'denied',
  'reset-started',
  'device-went-away',
  'device-returned',
  'reset-diagnosed',
  'provisioned',
  'verification-passed',
  'verification-failed',
  'documented',
  'cancelled',
  'failed',
  'retry',
] as const;
export type CaseEventType = (typeof CASE_EVENT_TYPES)[number];

export const CaseEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('triage-completed'),
    path: CasePathSchema,
    /** Only meaningful for recommission: a camera already in factory default needs no reset. */
    resetRequired: z.boolean(),
    reasons: z.array(z.string().trim().min(1)).min(1),
  }),
  z.object({ type: z.literal('ownership-requested') }),
  z.object({ type: z.literal('ownership-recorded'), ownershipRecordId: IdSchema }),
  z.object({ type: z.literal('provisioning-started') }),
  z.object({ type: z.literal('approval-requested'), requestId: IdSchema }),
  z.object({ type: z.literal('approved'), requestId: IdSchema }),
  z.object({ type: z.literal('denied'), requestId: IdSchema, reason: ReasonSchema }),
  z.object({ type: z.literal('reset-started'), method: ResetMethodSchema }),
  z.object({ type: z.literal('device-went-away') }),
  /** The same serial is back and in factory-default state; "came back configured" is a diagnosis. */
  z.object({ type: z.literal('device-returned') }),
  z.object({ type: z.literal('reset-diagnosed'), diagnosis: WontResetDiagnosisSchema }),
  z.object({ type: z.literal('provisioned') }),
  z.object({ type: z.literal('verification-passed') }),
  z.object({ type: z.literal('verification-failed'), reason: ReasonSchema }),
  z.object({ type: z.literal('documented') }),
  z.object({ type: z.literal('cancelled'), reason: ReasonSchema }),
  z.object({ type: z.literal('failed'), reason: ReasonSchema }),
  z.object({ type: z.literal('retry') }),
]);
export type CaseEvent = z.infer<typeof CaseEventSchema>;
export type CaseEventOf<T extends CaseEventType> = Extract<CaseEvent, { type: T }>;
