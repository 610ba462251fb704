import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  ACCESS_STATES,
  CREDENTIAL_TEST_OUTCOMES,
  CaseStateSchema,
  DomainError,
  INITIAL_CASE_STATE,
  RESET_METHODS,
  ROTATION_IN_FLIGHT_STATUSES,
  TERMINAL_CASE_STATES,
  TRIAGE_PATHS,
  VERIFICATION_CHECK_KINDS,
  WontResetDiagnosisSchema,
  transitionCase,
  type ActorKind,
  type CaseEvent,
  type CaseState,
} from '@custody/core';
import * as schema from '@custody/db/schema';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';

const { cameras, cases, rotationItems } = schema;

/** Payload: CaseNotification as JSON. A case changed (any process); live case views reload it. */
export const CASES_CHANNEL = 'custody_cases';

export const CaseNotificationSchema = z.object({
  caseId: z.uuid(),
  siteId: z.uuid(),
  serial: z.string(),
  status: z.string(),
  revision: z.int(),
});
export type CaseNotification = z.infer<typeof CaseNotificationSchema>;

const IsoSchema = z.iso.datetime({ offset: true });
const UserRefSchema = z.object({ id: z.string(), name: z.string().optional() });

/** Where a tested credential came from: a vault entry or a candidate typed in during triage. */
export const CredentialOriginSchema = z.object({
  source: z.enum(['vault', 'candidate']),
  /** credentials.id or credential_candidates.id; never a password. */
  id: z.uuid(),
});
export type CredentialOrigin = z.infer<typeof CredentialOriginSchema>;

export const TriageCredentialTestSchema = CredentialOriginSchema.extend({
  label: z.string(),
  username: z.string(),
  outcome: z.enum(CREDENTIAL_TEST_OUTCOMES),
  isAdmin: z.boolean().optional(),
});
export type TriageCredentialTest = z.infer<typeof TriageCredentialTestSchema>;

/** The recorded outcome of triage: the decision, its reasons and the evidence behind it. */
export const CaseTriageDetailsSchema = z.object({
  path: z.enum(TRIAGE_PATHS),
  resetRequired: z.boolean(),
  reasons: z.array(z.string()),
  accessState: z.enum(ACCESS_STATES).nullable(),
  credentialTests: z.array(TriageCredentialTestSchema).default([]),
  /** The credential that justifies clean-up and drives software resets. */
  workingAdmin: CredentialOriginSchema.extend({ username: z.string() }).nullable().default(null),
  decidedAt: IsoSchema,
  decidedBy: UserRefSchema.nullable().default(null),
});
export type CaseTriageDetails = z.infer<typeof CaseTriageDetailsSchema>;

const TestedCredentialSchema = CredentialOriginSchema.extend({
  ref: z.string(),
  label: z.string(),
  username: z.string(),
});

/** One run of the access check: what was sent to the agent, and what came back. */
export const TriageRunSchema = z.object({
  startedAt: IsoSchema,
  startedBy: UserRefSchema,
  probeCommandId: z.uuid(),
  testCommandId: z.uuid().nullable(),
  tested: z.array(TestedCredentialSchema).default([]),
  /** Known credentials left out because the attempt budget was spent. */
  untested: z.array(CredentialOriginSchema.extend({ label: z.string(), username: z.string() })),
  probe: z
    .object({ accessState: z.enum(ACCESS_STATES), model: z.string().nullable() })
    .nullable()
    .default(null),
  tests: z
    .array(
      z.object({
        ref: z.string(),
        outcome: z.enum(CREDENTIAL_TEST_OUTCOMES),
        isAdmin: z.boolean().nullable(),
        lockedOut: z.boolean().default(false),
      }),
    )
    .nullable()
    .default(null),
  summary: z.string().nullable().default(null),
  finishedAt: IsoSchema.nullable().default(null),
});
export type TriageRun = z.infer<typeof TriageRunSchema>;

/** A command queued for the case and what its result means to it. Applied at most once. */
export const CaseCommandPurposes = [
  'triage-probe',
  'triage-test',
  'soft-restart',
  'factory-default',
  'watch-for-device',
  'rotate-credential',
  'provision',
  'verify',
] as const;
export type CaseCommandPurpose = (typeof CaseCommandPurposes)[number];

export const CaseCommandRefSchema = z.object({
  id: z.uuid(),
  verb: z.string(),
  purpose: z.enum(CaseCommandPurposes),
  queuedAt: IsoSchema,
  /** Set once the result has been applied to the case. */
  appliedAt: IsoSchema.nullable().default(null),
  /** What applying it concluded, in one line (for the timeline). */
  outcome: z.string().nullable().default(null),
  /** The case's `enteredRevision` when it was queued: one automatic step per state entry. */
  stateRevision: z.int().default(0),
});
export type CaseCommandRef = z.infer<typeof CaseCommandRefSchema>;

/** What the agent saw when a reset, restart or watch ended (its watch diagnoses, or success). */
export const RESET_OBSERVATIONS = [
  'returned-factory-default',
  'restarted',
  'came-back-configured',
  'still-configured',
  'never-came-back',
  'never-ready',
  'factory-default-unconfirmed',
  'failed',
] as const;
export type ResetObservation = (typeof RESET_OBSERVATIONS)[number];

export const ResetAttemptSchema = z.object({
  method: z.enum([...RESET_METHODS, 'soft-restart']),
  startedAt: IsoSchema,
  startedBy: UserRefSchema,
  approvalGrantId: z.uuid().nullable().default(null),
  resetCommandId: z.uuid().nullable().default(null),
  watchCommandId: z.uuid().nullable().default(null),
  watchTimeoutMs: z.int().nullable().default(null),
  /** What the agent observed when the watch ended. */
  observation: z.enum(RESET_OBSERVATIONS).nullable().default(null),
  /** The agent's own words about it. */
  observationMessage: z.string().nullable().default(null),
  observedAt: IsoSchema.nullable().default(null),
  observedUrl: z.string().nullable().default(null),
  diagnosis: WontResetDiagnosisSchema.nullable().default(null),
  note: z.string().nullable().default(null),
});
export type ResetAttempt = z.infer<typeof ResetAttemptSchema>;

export const NetworkPlanDetailsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('dhcp') }),
  z.object({
    mode: z.literal('static'),
    address: z.ipv4(),
    prefixLength: z.int().min(1).max(32),
    gateway: z.ipv4(),
    dns: z.array(z.ipv4()).max(3).default([]),
  }),
]);

export const TimePlanDetailsSchema = z.object({
  timezone: z.string().min(1).max(64),
  ntpServers: z.array(z.string().min(1).max(253)).max(4).default([]),
});

/** Null network or time: leave the camera's as they are (credential clean-up). */
export const RecommissionPlanSchema = z.object({
  network: NetworkPlanDetailsSchema.nullable().default(null),
  time: TimePlanDetailsSchema.nullable().default(null),
  /** The VMS the camera is to be re-added to ("AXIS Camera Station", "Milestone XProtect", …). */
  vms: z
    .object({ platform: z.string().min(1).max(200) })
    .nullable()
    .default(null),
  adminUsername: z.string().default('root'),
  serviceUsername: z.string(),
  vmsUsername: z.string().nullable().default(null),
  /** Credential-clean-up only: device accounts the user chose to remove. */
  removeAccounts: z.array(z.string()).default([]),
  plannedBy: UserRefSchema,
  plannedAt: IsoSchema,
});
export type RecommissionPlan = z.infer<typeof RecommissionPlanSchema>;

/** Vault entries (credentials.id) made for this case; pending until the agent proves them. */
export const CaseCredentialsSchema = z.object({
  admin: z.uuid().nullable().default(null),
  service: z.uuid().nullable().default(null),
  vms: z.uuid().nullable().default(null),
  /** The credential the new admin replaces (clean-up), which verification proves rejected. */
  previousAdmin: CredentialOriginSchema.nullable().default(null),
});

export const CaseVerificationDetailsSchema = z.object({
  verificationId: z.uuid(),
  passed: z.boolean(),
  failed: z.array(z.enum(VERIFICATION_CHECK_KINDS)).default([]),
  missing: z.array(z.enum(VERIFICATION_CHECK_KINDS)).default([]),
  at: IsoSchema,
});

export const VmsConfirmationSchema = z.object({
  platform: z.string().min(1).max(200),
  note: z.string().max(1000).default(''),
  confirmedBy: UserRefSchema,
  confirmedAt: IsoSchema,
});

export const RecordingAttestationSchema = z.object({
  statement: z.string().min(1).max(1000),
  attestedBy: UserRefSchema,
  attestedAt: IsoSchema,
});

/**
 * What lives in `cases.details`. Loose at the top level so fields written by other services
 * (ownership, approvals, handover) survive a read-modify-write here.
 */
export const CaseDetailsSchema = z.looseObject({
  triage: CaseTriageDetailsSchema.nullable().default(null),
  triageRun: TriageRunSchema.nullable().default(null),
  commands: z.array(CaseCommandRefSchema).default([]),
  plan: RecommissionPlanSchema.nullable().default(null),
  credentials: CaseCredentialsSchema.default({
    admin: null,
    service: null,
    vms: null,
    previousAdmin: null,
  }),
  resetAttempts: z.array(ResetAttemptSchema).default([]),
  verification: CaseVerificationDetailsSchema.nullable().default(null),
  vmsConfirmation: VmsConfirmationSchema.nullable().default(null),
  recordingAttestation: RecordingAttestationSchema.nullable().default(null),
  ownershipRecordId: z.uuid().nullable().default(null),
  approvalRequestId: z.uuid().nullable().default(null),
  approvalGrantId: z.uuid().nullable().default(null),
  /** The revision at which the case entered its current state (set by applyCaseEvent). */
  enteredRevision: z.int().default(0),
});
export type CaseDetails = z.infer<typeof CaseDetailsSchema>;

export interface CaseRecord {
  id: string;
  serial: string;
  siteId: string;
  status: CaseState['status'];
  state: CaseState;
  details: CaseDetails;
  revision: number;
  openedBy: string;
  openedAt: Date;
  updatedAt: Date;
}

export interface CaseActor {
  kind: ActorKind;
  id: string;
}

type CaseRow = typeof cases.$inferSelect;

export function parseCaseDetails(value: unknown): CaseDetails {
  const parsed = CaseDetailsSchema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new DomainError('conflict', 'The case details are malformed.', { cause: parsed.error });
  }
  return parsed.data;
}

export function toCaseRecord(row: CaseRow): CaseRecord {
  const state = CaseStateSchema.safeParse(row.state);
  if (!state.success) {
    throw new DomainError('conflict', `Case ${row.id} has a malformed state.`, {
      cause: state.error,
      details: { caseId: row.id },
    });
  }
  return {
    id: row.id,
    serial: row.serial,
    siteId: row.siteId,
    status: state.data.status,
    state: state.data,
    details: parseCaseDetails(row.details),
    revision: row.revision,
    openedBy: row.openedBy,
    openedAt: row.openedAt,
    updatedAt: row.updatedAt,
  };
}

function notFound(caseId: string): DomainError {
  return new DomainError('not-found', 'No such case.', { details: { caseId } });
}

/** The case as stored, or null. No tenancy check: callers scope first (services/cases). */
export async function getCase(db: Executor, caseId: string): Promise<CaseRecord | null> {
  const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
  return row === undefined ? null : toCaseRecord(row);
}

/** Locks the case row for the rest of the transaction. */
export async function lockCase(tx: Executor, caseId: string): Promise<CaseRecord> {
  const [row] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update');
  if (row === undefined) throw notFound(caseId);
  return toCaseRecord(row);
}

async function notifyCase(tx: Executor, record: CaseRecord): Promise<void> {
  const payload: CaseNotification = {
    caseId: record.id,
    siteId: record.siteId,
    serial: record.serial,
    status: record.status,
    revision: record.revision,
  };
  // Sent on commit only, so a listener never hears of a change it cannot read yet.
  await tx.execute(sql`select pg_notify(${CASES_CHANNEL}, ${JSON.stringify(payload)})`);
}

/** The event without its type: what the audit log keeps of it (never a secret). */
function eventData(event: CaseEvent): Record<string, unknown> {
  const { type: _type, ...rest } = event;
  return rest;
}

export interface ApplyCaseEventInput {
  caseId: string;
  event: CaseEvent;
  actor: CaseActor;
  /** The organisation the actor acted for (audit); null for system and agent-driven events. */
  orgId: string | null;
  /** Refuse with 'conflict' if the case moved on since the caller read it. */
  expectedRevision?: number | undefined;
  /** Changes to `cases.details` made together with the transition. */
  details?: ((current: CaseDetails) => CaseDetails) | undefined;
  /** More secret-free facts for the audit event (the command it queued, …). */
  auditData?: Record<string, unknown> | undefined;
}

/**
 * Applies one state-machine event to a case inside `tx`: locks the row, runs core's
 * transitionCase, writes state, details and revision, appends `case.<event>` to the audit log and
 * queues a NOTIFY for live views. Everything commits or rolls back together (the audit append is
 * fail-closed).
 */
export async function applyCaseEvent(
  tx: Executor,
  input: ApplyCaseEventInput,
): Promise<CaseRecord> {
  const current = await lockCase(tx, input.caseId);
  if (input.expectedRevision !== undefined && input.expectedRevision !== current.revision) {
    throw new DomainError(
      'conflict',
      'The case changed since you loaded it; reload it and try again.',
      {
        details: {
          caseId: current.id,
          expectedRevision: input.expectedRevision,
          revision: current.revision,
        },
      },
    );
  }
  const result = transitionCase(current.state, input.event);
  if (!result.ok) throw result.error;
  const next = result.value;
  const changed = input.details ? input.details(current.details) : current.details;
  const details = parseCaseDetails({ ...changed, enteredRevision: current.revision + 1 });
  const [row] = await tx
    .update(cases)
    .set({
      status: next.status,
      state: next,
      details,
      revision: current.revision + 1,
      updatedAt: new Date(),
    })
    .where(eq(cases.id, current.id))
    .returning();
  if (row === undefined) throw notFound(current.id);
  const record = toCaseRecord(row);
  await appendAuditEvent(tx, {
    orgId: input.orgId,
    siteId: record.siteId,
    actor: input.actor,
    action: `case.${input.event.type}`,
    subject: { kind: 'case', id: record.id },
    data: {
      serial: record.serial,
      from: current.status,
      to: record.status,
      revision: record.revision,
      ...eventData(input.event),
      ...input.auditData,
    },
  });
  await notifyCase(tx, record);
  return record;
}

export interface UpdateCaseDetailsInput {
  caseId: string;
  actor: CaseActor;
  orgId: string | null;
  /** Audit action, e.g. "case.plan-saved"; omit for bookkeeping no one needs to see. */
  action?: string | undefined;
  data?: Record<string, unknown> | undefined;
  expectedRevision?: number | undefined;
  details: (current: CaseDetails, record: CaseRecord) => CaseDetails;
}

/** Changes `cases.details` without a transition (a saved plan, a queued command, a confirmation). */
export async function updateCaseDetails(
  tx: Executor,
  input: UpdateCaseDetailsInput,
): Promise<CaseRecord> {
  const current = await lockCase(tx, input.caseId);
  if (input.expectedRevision !== undefined && input.expectedRevision !== current.revision) {
    throw new DomainError(
      'conflict',
      'The case changed since you loaded it; reload it and try again.',
      { details: { caseId: current.id, revision: current.revision } },
    );
  }
  const details = parseCaseDetails(input.details(current.details, current));
  const [row] = await tx
    .update(cases)
    .set({ details, revision: current.revision + 1, updatedAt: new Date() })
    .where(eq(cases.id, current.id))
    .returning();
  if (row === undefined) throw notFound(current.id);
  const record = toCaseRecord(row);
  if (input.action !== undefined) {
    await appendAuditEvent(tx, {
      orgId: input.orgId,
      siteId: record.siteId,
      actor: input.actor,
      action: input.action,
      subject: { kind: 'case', id: record.id },
      data: { serial: record.serial, revision: record.revision, ...input.data },
    });
  }
  await notifyCase(tx, record);
  return record;
}

export interface OpenCaseInput {
  serial: string;
  /** A user opens a case (cases.opened_by references users). */
  actor: CaseActor;
  orgId: string | null;
}

/** The open (not documented, denied or cancelled) case of a serial, if any. */
export async function findOpenCase(db: Executor, serial: string): Promise<CaseRecord | null> {
  const [row] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.serial, serial), notInArray(cases.status, [...TERMINAL_CASE_STATES])));
  return row === undefined ? null : toCaseRecord(row);
}

/**
 * Opens a case for a camera. One open case per serial, enforced by the `cases_open_serial_key`
 * index so two processes racing cannot both succeed: the loser gets 'conflict' naming the case.
 */
export async function openCase(tx: Executor, input: OpenCaseInput): Promise<CaseRecord> {
  if (input.actor.kind !== 'user') {
    throw new DomainError('invalid-input', 'A case is opened by a user.');
  }
  const [camera] = await tx
    .select({ serial: cameras.serial, siteId: cameras.siteId })
    .from(cameras)
    .where(eq(cameras.serial, input.serial));
  if (camera === undefined) {
    throw new DomainError('not-found', 'No such camera.', { details: { serial: input.serial } });
  }
  // A rotation command out for the camera may leave it on either vaulted password: a case
  // would test and change credentials under the rotation's feet. A queued item is skipped by
  // the rotation engine when its turn comes, so only one in flight refuses the case.
  const [rotating] = await tx
    .select({ jobId: rotationItems.jobId })
    .from(rotationItems)
    .where(
      and(
        eq(rotationItems.serial, camera.serial),
        inArray(rotationItems.status, [...ROTATION_IN_FLIGHT_STATUSES]),
      ),
    )
    .limit(1);
  if (rotating !== undefined) {
    throw new DomainError(
      'conflict',
      `Camera ${camera.serial} is having its password rotated; open the case when the rotation has finished with it.`,
      { details: { serial: camera.serial, caseId: null, rotationJobId: rotating.jobId } },
    );
  }
  const [row] = await tx
    .insert(cases)
    .values({
      serial: camera.serial,
      siteId: camera.siteId,
      status: INITIAL_CASE_STATE.status,
      state: INITIAL_CASE_STATE,
      details: CaseDetailsSchema.parse({}),
      openedBy: input.actor.id,
    })
    .onConflictDoNothing()
    .returning();
  if (row === undefined) {
    const existing = await findOpenCase(tx, camera.serial);
    throw new DomainError(
      'conflict',
      existing === null
        ? `Camera ${camera.serial} already has an open case.`
        : `Camera ${camera.serial} already has an open case (${existing.id}, ${existing.status}).`,
      { details: { serial: camera.serial, caseId: existing?.id ?? null } },
    );
  }
  const record = toCaseRecord(row);
  await appendAuditEvent(tx, {
    orgId: input.orgId,
    siteId: record.siteId,
    actor: input.actor,
    action: 'case.opened',
    subject: { kind: 'case', id: record.id },
    data: { serial: record.serial },
  });
  await notifyCase(tx, record);
  return record;
}
