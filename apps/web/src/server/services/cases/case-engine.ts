import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { isDomainError, TERMINAL_CASE_STATES } from '@custody/core';
import type { Database, DatabaseHandle, Unlisten } from '@custody/db';
import * as schema from '@custody/db/schema';
import { safeErrorMessage } from '@custody/db/errors';
import { FLEET_CHANNEL, FleetEventSchema, parseNotification } from '../../gateway/notifications.ts';
import type { Executor } from '../executor.ts';
import type { Vault } from '../vault/vault.ts';
import {
  applyProvisionResult,
  applyRotateResult,
  applyVerifyResult,
  queueProvision,
  queueVerify,
} from './case-provisioning.ts';
import { applyResetResult } from './case-reset.ts';
import {
  CASES_CHANNEL,
  CaseNotificationSchema,
  lockCase,
  updateCaseDetails,
  type CaseCommandRef,
  type CaseRecord,
} from './case-store.ts';
import { applyTriageCommand, type FinishedCommand } from './case-triage.ts';

const { cases, commands } = schema;

/** Command states after which nothing more will happen to it. */
export const FINISHED_COMMAND_STATUSES = ['succeeded', 'failed', 'expired', 'cancelled'] as const;

const ENGINE = { kind: 'system' as const, id: 'case-engine' };

export interface EngineLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const consoleLog: EngineLog = {
  warn: (message, fields) => console.warn(`case engine: ${message}`, fields ?? {}),
};

function asFinished(row: {
  id: string;
  status: string;
  result: unknown;
  error: unknown;
}): FinishedCommand {
  if (row.error === null && row.status !== 'succeeded' && row.status !== 'failed') {
    return {
      ...row,
      error: {
        code: row.status,
        message:
          row.status === 'expired'
            ? 'The command expired before the agent ran it (is the agent online?).'
            : 'The command was cancelled before it was sent.',
      },
    };
  }
  return row;
}

async function applyCommand(
  tx: Executor,
  vault: Vault | null,
  record: CaseRecord,
  ref: CaseCommandRef,
  command: FinishedCommand,
  log: EngineLog,
): Promise<CaseRecord> {
  switch (ref.purpose) {
    case 'triage-probe':
    case 'triage-test':
      return applyTriageCommand(tx, record, command, ref.purpose);
    case 'soft-restart':
    case 'factory-default':
    case 'watch-for-device':
      return applyResetResult(tx, record, command, ref.purpose);
    case 'rotate-credential':
      if (vault === null) {
        log.warn('no vault in this process: the rotation result waits', { caseId: record.id });
        return record;
      }
      return applyRotateResult(tx, vault, record, command);
    case 'provision':
      return applyProvisionResult(tx, record, command);
    case 'verify':
      return applyVerifyResult(tx, record, command);
  }
}

function hasCommandFor(record: CaseRecord, purposes: readonly string[]): boolean {
  return record.details.commands.some(
    (ref) => purposes.includes(ref.purpose) && ref.stateRevision === record.details.enteredRevision,
  );
}

/**
 * The step the engine takes on its own when a case enters a state: provisioning once the camera
 * is in factory-default state and the plan is saved (not after a failed verification: a person
 * looks first), and verification once it is provisioned.
 */
async function autoStep(
  tx: Executor,
  vault: Vault | null,
  record: CaseRecord,
  log: EngineLog,
): Promise<CaseRecord> {
  const state = record.state;
  let queue:
    ((sp: Executor) => Promise<{ details: CaseRecord['details']; commandId: string }>) | null =
    null;
  if (
    state.status === 'provisioning' &&
    state.path === 'recommission' &&
    state.lastVerificationFailure === null &&
    record.details.plan !== null &&
    vault !== null &&
    !hasCommandFor(record, ['provision', 'rotate-credential'])
  ) {
    queue = (sp) => queueProvision(sp, vault, record, null);
  } else if (state.status === 'verifying' && !hasCommandFor(record, ['verify'])) {
    queue = (sp) => queueVerify(sp, record, null);
  }
  if (queue === null) return record;
  const blocked = record.details.engineBlocked as { revision?: unknown } | undefined;
  if (blocked?.revision === record.details.enteredRevision) return record;
  try {
    // A savepoint: a step that cannot start must not undo the result applied before it.
    return await tx.transaction(async (sp) => {
      const queued = await queue(sp);
      return updateCaseDetails(sp, {
        caseId: record.id,
        actor: ENGINE,
        orgId: null,
        action: 'case.step-queued',
        data: { commandId: queued.commandId, state: record.status },
        details: () => queued.details,
      });
    });
  } catch (error) {
    if (!isDomainError(error)) throw error;
    log.warn('an automatic step could not start', { caseId: record.id, reason: error.message });
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: ENGINE,
      orgId: null,
      action: 'case.step-blocked',
      data: { state: record.status, reason: error.message },
      details: (current) => ({
        ...current,
        engineBlocked: { revision: current.enteredRevision, reason: error.message },
      }),
    });
  }
}

/**
 * Brings a case up to date with its commands: applies each finished command's result once (the
 * case row lock and `appliedAt` make it once across processes), then takes the automatic step
 * of the state it is in. Idempotent: calling it again changes nothing.
 */
export async function advanceCase(
  db: Database,
  vault: Vault | null,
  caseId: string,
  log: EngineLog = consoleLog,
): Promise<CaseRecord | null> {
  return db.transaction(async (tx) => {
    let record: CaseRecord;
    try {
      record = await lockCase(tx, caseId);
    } catch (error) {
      if (isDomainError(error, 'not-found')) return null;
      throw error;
    }
    const pending = record.details.commands.filter((ref) => ref.appliedAt === null);
    if (pending.length > 0) {
      const rows = await tx
        .select({
          id: commands.id,
          status: commands.status,
          result: commands.result,
          error: commands.error,
        })
        .from(commands)
        .where(
          and(
            inArray(
              commands.id,
              pending.map((ref) => ref.id),
            ),
            inArray(commands.status, [...FINISHED_COMMAND_STATUSES]),
          ),
        );
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const ref of pending) {
        const row = byId.get(ref.id);
        if (row === undefined) continue;
        record = await applyCommand(tx, vault, record, ref, asFinished(row), log);
      }
    }
    if ((TERMINAL_CASE_STATES as readonly string[]).includes(record.status)) return record;
    return autoStep(tx, vault, record, log);
  });
}

/** Open cases with a finished command not yet applied, or a state whose step has not started. */
export async function casesNeedingWork(db: Database, limit = 500): Promise<string[]> {
  const terminal = [...TERMINAL_CASE_STATES];
  const finished = [...FINISHED_COMMAND_STATUSES];
  const withResults = await db
    .selectDistinct({ id: cases.id })
    .from(cases)
    .innerJoin(commands, eq(commands.caseId, cases.id))
    .where(
      and(
        notInArray(cases.status, terminal),
        inArray(commands.status, finished),
        sql`jsonb_path_exists(${cases.details}, '$.commands[*] ? (@.id == $id && @.appliedAt == null)', jsonb_build_object('id', ${commands.id}::text))`,
      ),
    )
    .limit(limit);
  const stalled = await db
    .select({ id: cases.id })
    .from(cases)
    .where(
      and(
        inArray(cases.status, ['provisioning', 'verifying']),
        sql`not jsonb_path_exists(${cases.details}, '$.commands[*] ? (@.stateRevision == $rev)', jsonb_build_object('rev', ${cases.details}->'enteredRevision'))`,
      ),
    )
    .limit(limit);
  return [...new Set([...withResults.map((row) => row.id), ...stalled.map((row) => row.id)])];
}

export interface CaseEngine {
  /** Advances one case now (serialised with any advance of it already under way here). */
  advance(caseId: string): Promise<void>;
  /** Advances every case that needs it; returns how many were looked at. */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

export interface CaseEngineOptions {
  database: DatabaseHandle;
  vault: Vault | null;
  /** How often every case is reconciled, in case a notification was lost (default 15 s). */
  sweepIntervalMs?: number;
  log?: EngineLog;
}

/**
 * Drives cases from command results in every server process: it hears command changes
 * (FLEET_CHANNEL) and case changes (CASES_CHANNEL) from any process, advances the case they
 * concern, and reconciles everything at start, after a lost LISTEN connection and periodically.
 * Several processes may do it at once: the case row lock makes each result apply once.
 */
export async function startCaseEngine(options: CaseEngineOptions): Promise<CaseEngine> {
  const { database, vault } = options;
  const { db } = database;
  const log = options.log ?? consoleLog;
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let closed = false;

  const advance = (caseId: string): Promise<void> => {
    const current = running.get(caseId);
    if (current !== undefined) {
      again.add(caseId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(caseId);
          await advanceCase(db, vault, caseId, log);
        } while (again.has(caseId) && !closed);
      } catch (error) {
        log.warn('could not advance a case', {
          caseId,
          reason: safeErrorMessage(error),
        });
      } finally {
        running.delete(caseId);
      }
    })();
    running.set(caseId, run);
    return run;
  };

  const reconcile = async (): Promise<number> => {
    if (closed) return 0;
    const ids = await casesNeedingWork(db);
    for (const id of ids) await advance(id);
    return ids.length;
  };

  const onCommand = async (commandId: string): Promise<void> => {
    const [row] = await db
      .select({ caseId: commands.caseId, status: commands.status })
      .from(commands)
      .where(eq(commands.id, commandId));
    if (row?.caseId == null) return;
    if (!(FINISHED_COMMAND_STATUSES as readonly string[]).includes(row.status)) return;
    await advance(row.caseId);
  };

  const safely = (work: Promise<unknown>) => {
    work.catch((error: unknown) =>
      log.warn('a notification could not be handled', {
        reason: safeErrorMessage(error),
      }),
    );
  };

  const unlisteners: Unlisten[] = [];
  unlisteners.push(
    await database.listen(
      FLEET_CHANNEL,
      (payload) => {
        const event = parseNotification(FleetEventSchema, payload);
        // Only a finished command moves a case on.
        if (event?.event === 'command' && event.finished !== false && !closed) {
          safely(onCommand(event.commandId));
        }
      },
      () => safely(reconcile()),
    ),
  );
  unlisteners.push(
    await database.listen(CASES_CHANNEL, (payload) => {
      const event = parseNotification(CaseNotificationSchema, payload);
      if (event === null || closed) return;
      if (event.status === 'provisioning' || event.status === 'verifying') {
        safely(advance(event.caseId));
      }
    }),
  );
  const timer = setInterval(() => safely(reconcile()), options.sweepIntervalMs ?? 15_000);
  timer.unref();
  safely(reconcile());

  return {
    advance,
    reconcile,
    async close() {
      closed = true;
      clearInterval(timer);
      await Promise.all(unlisteners.map((unlisten) => unlisten()));
      await Promise.allSettled([...running.values()]);
    },
  };
}
