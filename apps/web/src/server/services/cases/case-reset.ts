import { eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  DomainError,
  NEVER_CAME_BACK_CAUSES,
  ReasonSchema,
  WONT_RESET_CAUSES,
  type ResetMethod,
  type WontResetCause,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import type { Actor } from '../actor.ts';
import { consumeGrant } from '../approvals/consume-grant.ts';
import type { Executor } from '../executor.ts';
import { CASE_CANCEL_ROLES, requireCaseWork } from './case-access.ts';
import { entryOf, inFlight, markApplied, queueCaseCommand, withCommand } from './case-commands.ts';
import {
  applyCaseEvent,
  lockCase,
  updateCaseDetails,
  type CaseDetails,
  type CaseRecord,
  type ResetAttempt,
  type ResetObservation,
} from './case-store.ts';
import type { FinishedCommand } from './case-triage.ts';

const { approvalGrants } = schema;

/**
 * How long the agent watches for a camera during the control-button procedure: power off, hold
 * the button, power on, 15–30 s until the LED flashes amber, release, then a full boot (a minute
 * or two). Ten minutes leaves room for walking to the camera.
 */
export const DEFAULT_BUTTON_WATCH_TIMEOUT_MS = 10 * 60_000;

const GRANT_METHODS: Record<string, ResetMethod> = {
  'factory-default-soft': 'software-soft',
  'factory-default-hard': 'software-hard',
  'guided-button-reset': 'control-button',
};

export const StartResetInputSchema = z.object({
  caseId: z.uuid(),
  /** Control-button only: how long the agent watches for the camera. */
  watchTimeoutMs: z.int().min(1_000).max(3_600_000).optional(),
});

function updateAttempt(
  details: CaseDetails,
  commandId: string,
  change: (attempt: ResetAttempt) => ResetAttempt,
): CaseDetails {
  return {
    ...details,
    resetAttempts: details.resetAttempts.map((attempt) =>
      attempt.resetCommandId === commandId || attempt.watchCommandId === commandId
        ? change(attempt)
        : attempt,
    ),
  };
}

/**
 * Starts the approved reset, consuming the owner's grant in the same transaction that moves the
 * case to resetting and audits it: a software factory default (soft or hard, the verb the owner
 * approved) with the working admin credential, or the guided control-button procedure while the
 * agent watches for the camera to come back in factory-default state.
 */
export async function startReset(
  db: Database,
  actor: Actor,
  input: z.input<typeof StartResetInputSchema>,
  now: Date = new Date(),
): Promise<CaseRecord> {
  const parsed = StartResetInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'start the reset');
    const record = await lockCase(tx, parsed.caseId);
    if (record.state.status !== 'approved') {
      throw new DomainError(
        'invalid-transition',
        `A reset starts from an approved case, not one in state "${record.status}".`,
        { details: { from: record.status } },
      );
    }
    const [grant] = await tx
      .select()
      .from(approvalGrants)
      .where(eq(approvalGrants.requestId, record.state.requestId));
    if (grant === undefined) {
      throw new DomainError('approval-refused', 'No grant was issued for the approved request.');
    }
    if (grant.usedAt !== null) {
      throw new DomainError(
        'approval-refused',
        'The approval was already used; request a new one.',
      );
    }
    if (grant.expiresAt.getTime() <= now.getTime()) {
      throw new DomainError(
        'approval-refused',
        `The approval expired at ${grant.expiresAt.toISOString()}; request a new one.`,
      );
    }
    if (grant.serial !== record.serial || grant.siteId !== record.siteId) {
      throw new DomainError(
        'approval-refused',
        'The approval was given for another camera or site.',
      );
    }
    const method = GRANT_METHODS[grant.verb];
    if (method === undefined) {
      throw new DomainError(
        'approval-refused',
        `The approval is for "${grant.verb}", not a reset.`,
      );
    }
    const stateRevision = record.revision + 1;
    let ref;
    if (method === 'control-button') {
      const timeoutMs = parsed.watchTimeoutMs ?? DEFAULT_BUTTON_WATCH_TIMEOUT_MS;
      ref = await queueCaseCommand(tx, record, {
        purpose: 'watch-for-device',
        verb: 'watch-for-device',
        params: { timeoutMs, candidateUrls: [], requireFactoryDefault: true },
        agentId: grant.agentId,
        requestedBy: actor.userId,
        stateRevision,
      });
      // watch-for-device is not destructive, so queueCommand does not take the grant: the
      // procedure it watches is, and this is where the single-use grant is spent.
      await consumeGrant(tx, grant.id, {
        serial: record.serial,
        verb: grant.verb,
        siteId: record.siteId,
        agentId: grant.agentId,
        actor: { kind: 'user', id: actor.userId },
        orgId: work.orgId,
        commandId: ref.id,
        now,
      });
    } else {
      const working = record.details.triage?.workingAdmin;
      if (!working) {
        throw new DomainError(
          'approval-refused',
          'A software factory default needs a working admin credential, and this case has none; request approval for the guided control-button reset instead.',
        );
      }
      ref = await queueCaseCommand(tx, record, {
        purpose: 'factory-default',
        verb: method === 'software-soft' ? 'factory-default-soft' : 'factory-default-hard',
        params: { credential: 'admin' },
        secretsRef: { admin: entryOf(working) },
        approvalGrantId: grant.id,
        agentId: grant.agentId,
        requestedBy: actor.userId,
        stateRevision,
      });
    }
    const attempt: ResetAttempt = {
      method,
      startedAt: now.toISOString(),
      startedBy: { id: actor.userId, name: actor.name },
      approvalGrantId: grant.id,
      resetCommandId: method === 'control-button' ? null : ref.id,
      watchCommandId: method === 'control-button' ? ref.id : null,
      watchTimeoutMs:
        method === 'control-button'
          ? (parsed.watchTimeoutMs ?? DEFAULT_BUTTON_WATCH_TIMEOUT_MS)
          : null,
      observation: null,
      observationMessage: null,
      observedAt: null,
      observedUrl: null,
      diagnosis: null,
      note: null,
    };
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'reset-started', method },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      details: (current) => ({
        ...withCommand(current, ref),
        approvalGrantId: grant.id,
        resetAttempts: [...current.resetAttempts, attempt],
      }),
      auditData: { commandId: ref.id, grantId: grant.id, verb: ref.verb },
    });
  });
}

/**
 * A soft restart, for a fault that is not the credentials (a hung stream, a stuck service). It
 * wipes nothing, so it needs no approval, only the working admin credential.
 */
export async function requestSoftRestart(
  db: Database,
  actor: Actor,
  input: { caseId: string },
  now: Date = new Date(),
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 'restart the camera');
    const record = await lockCase(tx, input.caseId);
    if (record.status !== 'opened' && record.status !== 'triaged') {
      throw new DomainError(
        'invalid-transition',
        'A soft restart is offered during triage, before anything else is done to the camera.',
        { details: { from: record.status } },
      );
    }
    const working = record.details.triage?.workingAdmin;
    if (!working) {
      throw new DomainError(
        'invalid-input',
        'A restart needs a working admin credential; run the access check first.',
      );
    }
    if (inFlight(record.details, ['soft-restart']).length > 0) {
      throw new DomainError('conflict', 'A restart is already running for this case.');
    }
    const ref = await queueCaseCommand(tx, record, {
      purpose: 'soft-restart',
      verb: 'soft-restart',
      params: { credential: 'admin' },
      secretsRef: { admin: entryOf(working) },
      requestedBy: actor.userId,
      stateRevision: record.details.enteredRevision,
    });
    const attempt: ResetAttempt = {
      method: 'soft-restart',
      startedAt: now.toISOString(),
      startedBy: { id: actor.userId, name: actor.name },
      approvalGrantId: null,
      resetCommandId: ref.id,
      watchCommandId: null,
      watchTimeoutMs: null,
      observation: null,
      observationMessage: null,
      observedAt: null,
      observedUrl: null,
      diagnosis: null,
      note: null,
    };
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.soft-restart-requested',
      data: { commandId: ref.id },
      details: (current) => ({
        ...withCommand(current, ref),
        resetAttempts: [...current.resetAttempts, attempt],
      }),
    });
  });
}

const WATCH_DIAGNOSES = [
  'never-came-back',
  'never-ready',
  'came-back-configured',
  'still-configured',
  'factory-default-unconfirmed',
] as const;

const ResetResultSchema = z
  .object({
    url: z.string().optional(),
    needsSetup: z.boolean().nullable().optional(),
    alreadyFactoryDefault: z.boolean().optional(),
    diagnosis: z.enum(WATCH_DIAGNOSES).optional(),
    lastSeenUrl: z.string().nullable().optional(),
  })
  .loose();

function errorOf(error: unknown): { code: string; message: string } {
  const value = error as { code?: unknown; message?: unknown } | null;
  return {
    code: typeof value?.code === 'string' ? value.code : 'failed',
    message: typeof value?.message === 'string' ? value.message : 'The command did not complete.',
  };
}

const ENGINE = { kind: 'system' as const, id: 'case-engine' };

/** The result of a soft restart, factory default or watch, applied to the case. */
export async function applyResetResult(
  tx: Executor,
  record: CaseRecord,
  command: FinishedCommand,
  purpose: 'soft-restart' | 'factory-default' | 'watch-for-device',
  now: Date = new Date(),
): Promise<CaseRecord> {
  const parsed = ResetResultSchema.safeParse(command.result ?? {});
  const result = parsed.success ? parsed.data : {};
  const error = command.status === 'succeeded' ? null : errorOf(command.error);
  const diagnosis = error === null ? undefined : (result.diagnosis ?? undefined);
  let observation: ResetObservation;
  if (error === null) {
    observation = purpose === 'soft-restart' ? 'restarted' : 'returned-factory-default';
  } else {
    observation = diagnosis ?? 'failed';
  }
  const observedUrl = result.url ?? result.lastSeenUrl ?? null;
  const message =
    error?.message ??
    (purpose === 'soft-restart'
      ? 'The camera restarted and is ready.'
      : `Camera ${record.serial} is back in factory-default state${observedUrl ? ` at ${observedUrl}` : ''}.`);
  const observe = (details: CaseDetails) =>
    updateAttempt(
      markApplied(details, command.id, message.slice(0, 500), now),
      command.id,
      (a) => ({
        ...a,
        observation,
        observationMessage: message.slice(0, 2000),
        observedAt: now.toISOString(),
        observedUrl,
      }),
    );
  const resetting = record.status === 'resetting' || record.status === 'awaiting-device';

  if (purpose === 'soft-restart' || !resetting) {
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: ENGINE,
      orgId: null,
      action: purpose === 'soft-restart' ? 'case.soft-restart-finished' : 'case.reset-observed',
      data: { commandId: command.id, observation },
      details: observe,
    });
  }
  if (error === null) {
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'device-returned' },
      actor: ENGINE,
      orgId: null,
      details: observe,
      auditData: { commandId: command.id, url: observedUrl },
    });
  }
  if (diagnosis === undefined) {
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: {
        type: 'failed',
        reason: `The reset did not run: ${error.message}`.slice(0, 1900),
      },
      actor: ENGINE,
      orgId: null,
      details: observe,
      auditData: { commandId: command.id, code: error.code },
    });
  }
  if (
    (diagnosis === 'never-came-back' || diagnosis === 'never-ready') &&
    record.status === 'resetting'
  ) {
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'device-went-away' },
      actor: ENGINE,
      orgId: null,
      details: observe,
      auditData: { commandId: command.id, observation },
    });
  }
  return updateCaseDetails(tx, {
    caseId: record.id,
    actor: ENGINE,
    orgId: null,
    action: 'case.reset-observed',
    data: { commandId: command.id, observation },
    details: observe,
  });
}

export const DiagnoseInputSchema = z.object({
  caseId: z.uuid(),
  cause: z.enum(WONT_RESET_CAUSES),
  note: z.string().trim().max(1000).default(''),
});

/** The technician settles why the camera would not reset; a retry then needs a fresh approval. */
export async function diagnoseReset(
  db: Database,
  actor: Actor,
  input: z.input<typeof DiagnoseInputSchema>,
): Promise<CaseRecord> {
  const parsed = DiagnoseInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'diagnose the reset');
    const cause: WontResetCause = parsed.cause;
    const kind = (NEVER_CAME_BACK_CAUSES as readonly string[]).includes(cause)
      ? 'never-came-back'
      : 'came-back-configured';
    return applyCaseEvent(tx, {
      caseId: work.record.id,
      event: {
        type: 'reset-diagnosed',
        diagnosis:
          kind === 'never-came-back'
            ? { kind, cause: cause as (typeof NEVER_CAME_BACK_CAUSES)[number] }
            : { kind, cause: cause as 'button-timing' | 'faulty-button' },
      },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      details: (current) => {
        const last = current.resetAttempts.at(-1);
        if (last === undefined) return current;
        return {
          ...current,
          resetAttempts: [
            ...current.resetAttempts.slice(0, -1),
            {
              ...last,
              diagnosis:
                kind === 'never-came-back'
                  ? { kind, cause: cause as (typeof NEVER_CAME_BACK_CAUSES)[number] }
                  : { kind, cause: cause as 'button-timing' | 'faulty-button' },
              note: parsed.note === '' ? last.note : parsed.note,
            },
          ],
        };
      },
      auditData: { note: parsed.note },
    });
  });
}

/** After "won't reset" (back to approval) or a failure (back to triage). */
export async function retryCase(
  db: Database,
  actor: Actor,
  input: { caseId: string },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 'retry the case');
    return applyCaseEvent(tx, {
      caseId: work.record.id,
      event: { type: 'retry' },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      details: (current) =>
        work.record.status === 'failed' ? { ...current, triageRun: null } : current,
    });
  });
}

export const CancelInputSchema = z.object({ caseId: z.uuid(), reason: ReasonSchema });

export async function cancelCase(
  db: Database,
  actor: Actor,
  input: z.input<typeof CancelInputSchema>,
): Promise<CaseRecord> {
  const parsed = CancelInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(
      tx,
      actor,
      parsed.caseId,
      'cancel the case',
      CASE_CANCEL_ROLES,
    );
    return applyCaseEvent(tx, {
      caseId: work.record.id,
      event: { type: 'cancelled', reason: parsed.reason },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
    });
  });
}
