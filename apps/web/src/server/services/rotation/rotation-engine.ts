import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, isNotNull, isNull, notInArray, or, sql } from 'drizzle-orm';
import {
  ROTATION_IN_FLIGHT_STATUSES,
  ROTATION_RECHECK,
  ROTATION_SKIP_LABELS,
  TERMINAL_CASE_STATES,
  decideRotationStep,
  generateDevicePassword,
  interpretChangeResult,
  interpretCheckResult,
  isDomainError,
  nextRotationItemStep,
  recheckDelayMs,
  type RotationItemEvent,
  type RotationItemStatus,
  type RotationProblem,
  type RotationSkipReason,
} from '@custody/core';
import type { Database, DatabaseHandle, Unlisten } from '@custody/db';
import * as schema from '@custody/db/schema';
import { safeErrorMessage } from '@custody/db/errors';
import { userReachesSite } from '../../gateway/command-access.ts';
import { FLEET_CHANNEL, FleetEventSchema, parseNotification } from '../../gateway/notifications.ts';
import {
  queueCommand,
  queueCommands,
  type QueueCommandInput,
} from '../../gateway/queue-command.ts';
import { appendAuditEvents, type AuditEntry } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import {
  activateCredentialVersions,
  discardPendingVersions,
  storeCredentialVersions,
} from '../vault/credential-store.ts';
import type { Vault } from '../vault/vault.ts';
import type { RotationJobRow } from './rotation-access.ts';
import { waveTallies } from './rotation-jobs.ts';
import { ROTATION_CHANNEL, RotationNotificationSchema, notifyRotation } from './rotation-notify.ts';

const { agents, cameras, cases, commands, credentials, rotationItems, rotationJobs } = schema;

/** Command states after which nothing more will happen to it. */
const FINISHED_COMMAND_STATUSES = ['succeeded', 'failed', 'expired', 'cancelled'];
/** Command states that hold an agent's attention: waiting to be sent, sent, or running. */
const OPEN_COMMAND_STATUSES = ['queued', 'dispatched', 'acknowledged'];

const ENGINE = { kind: 'system' as const, id: 'rotation-engine' };

/** The references a check gives the two versions it tests (new first: it is the likelier). */
const CHECK_REFS = { next: 'next', previous: 'previous' } as const;

/** Rows per statement when updating many items at once. */
const UPDATE_CHUNK = 500;

export interface RotationEngineLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const consoleLog: RotationEngineLog = {
  warn: (message, fields) => console.warn(`rotation engine: ${message}`, fields ?? {}),
};

export interface RotationTuning {
  /**
   * Commands an agent may have open (queued, sent or running, of any kind) before the engine
   * queues it another camera: enough to keep its job slots busy while the engine catches up,
   * few enough that a wave of 1,000 does not bury one agent (default 32).
   */
  perAgentLimit: number;
  /** Results applied and cameras queued per transaction, so locks are held briefly (default 100). */
  batchSize: number;
  /** Waits before an unknown outcome is tested again (core's ROTATION_RECHECK by default). */
  recheck: { baseMs: number; maxMs: number };
  /** How long a change or check command may wait to be sent and started (default 10 min). */
  commandTtlMs: number;
}

export const DEFAULT_ROTATION_TUNING: RotationTuning = {
  perAgentLimit: 32,
  batchSize: 100,
  recheck: { ...ROTATION_RECHECK },
  commandTtlMs: 10 * 60_000,
};

type ItemRow = typeof rotationItems.$inferSelect;

/** The error kept on an item: the problem shown to people, and how often it was checked. */
interface ItemError extends RotationProblem {
  checks?: number;
  retryAfterMs?: number;
}

function itemErrorOf(value: unknown): ItemError | null {
  if (typeof value !== 'object' || value === null) return null;
  const error = value as Partial<ItemError>;
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return null;
  return error as ItemError;
}

interface AdvanceContext {
  tx: Executor;
  vault: Vault;
  job: RotationJobRow;
  tuning: RotationTuning;
  now: Date;
  log: RotationEngineLog;
  /** A lockout signal seen in this pass: the camera and what it said. */
  lockout: { serial: string; problem: RotationProblem } | null;
  /** The engine's own audit events of this pass, appended together at its end. */
  audit: AuditEntry[];
}

/** One item's new state, written with the others of its pass in one statement. */
interface ItemUpdate {
  serial: string;
  status: RotationItemStatus;
  commandId: string | null;
  credentialId: string | null;
  error: ItemError | null;
  /** A change command went out (the attempts count). */
  attempted: boolean;
}

async function updateItems(context: AdvanceContext, updates: readonly ItemUpdate[]) {
  const { tx, job, now } = context;
  for (let start = 0; start < updates.length; start += UPDATE_CHUNK) {
    const rows = sql.join(
      updates
        .slice(start, start + UPDATE_CHUNK)
        .map(
          (update) =>
            sql`(${update.serial}, ${update.status}, ${update.commandId}, ${update.credentialId}, ${update.error === null ? null : JSON.stringify(update.error)}, ${update.attempted ? '1' : '0'})`,
        ),
      sql`, `,
    );
    await tx.execute(sql`
      update ${rotationItems} as ri set
        status = v.status,
        command_id = v.command_id::uuid,
        credential_id = v.credential_id::uuid,
        error = v.error::jsonb,
        attempts = ri.attempts + v.attempted::int,
        updated_at = ${now.toISOString()}::timestamptz
      from (values ${rows}) as v(serial, status, command_id, credential_id, error, attempted)
      where ri.job_id = ${job.id}::uuid and ri.serial = v.serial`);
  }
}

/** Each camera's active version of `account`, with its username. */
async function activeVersions(
  tx: Executor,
  serials: readonly string[],
  account: string,
): Promise<Map<string, { id: string; username: string }>> {
  if (serials.length === 0) return new Map();
  const rows = await tx
    .select({ id: credentials.id, serial: credentials.serial, username: credentials.username })
    .from(credentials)
    .where(
      and(
        inArray(credentials.serial, [...serials]),
        sql`${credentials.account} = ${account}`,
        eq(credentials.status, 'active'),
      ),
    );
  return new Map(rows.map((row) => [row.serial, { id: row.id, username: row.username }]));
}

/** The agent that reports each camera now, if it may be given commands. */
async function agentsOf(tx: Executor, serials: readonly string[]): Promise<Map<string, string>> {
  if (serials.length === 0) return new Map();
  const rows = await tx
    .select({ serial: cameras.serial, agentId: agents.id })
    .from(cameras)
    .innerJoin(agents, eq(agents.id, cameras.agentId))
    .where(
      and(
        inArray(cameras.serial, [...serials]),
        eq(agents.siteId, cameras.siteId),
        isNull(agents.revokedAt),
      ),
    );
  return new Map(rows.map((row) => [row.serial, row.agentId]));
}

/**
 * Queues commands together; if the batch is refused (an agent revoked a moment ago, say), each
 * is tried on its own so one bad camera does not hold up the rest. Null for one refused.
 */
async function queueEach(
  tx: Executor,
  inputs: readonly QueueCommandInput[],
): Promise<({ commandId: string } | { problem: string })[]> {
  if (inputs.length === 0) return [];
  try {
    const queued = await tx.transaction((sp) => queueCommands(sp, inputs));
    return queued.map((command) => ({ commandId: command.commandId }));
  } catch (error) {
    if (!isDomainError(error)) throw error;
  }
  const outcomes: ({ commandId: string } | { problem: string })[] = [];
  for (const input of inputs) {
    try {
      const queued = await queueCommand(tx, input);
      outcomes.push({ commandId: queued.commandId });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      outcomes.push({ problem: error.message });
    }
  }
  return outcomes;
}

/**
 * Queues the test of both versions (the pending one and the active one) for each item. It needs
 * no person's authority: it changes nothing on the camera and only tells the vault which of its
 * two versions is the camera's. Per item: the check's command, or why it could not be queued.
 */
async function queueChecks(
  context: AdvanceContext,
  items: readonly { serial: string; pendingId: string }[],
): Promise<Map<string, { commandId: string | null; problem: RotationProblem | null }>> {
  const { tx, job } = context;
  const outcomes = new Map<string, { commandId: string | null; problem: RotationProblem | null }>();
  if (items.length === 0) return outcomes;
  const serials = items.map((item) => item.serial);
  const agentBySerial = await agentsOf(tx, serials);
  const active = await activeVersions(tx, serials, job.account);
  const ready: { serial: string; input: QueueCommandInput }[] = [];
  for (const item of items) {
    const agentId = agentBySerial.get(item.serial);
    if (agentId === undefined) {
      outcomes.set(item.serial, {
        commandId: null,
        problem: {
          code: 'no-agent',
          message: 'No agent reports the camera now, so its passwords cannot be tested yet.',
        },
      });
      continue;
    }
    const secretsRef: Record<string, string> = {
      [CHECK_REFS.next]: `credential:${item.pendingId}`,
    };
    const previous = active.get(item.serial);
    if (previous !== undefined) secretsRef[CHECK_REFS.previous] = `credential:${previous.id}`;
    ready.push({
      serial: item.serial,
      input: {
        agentId,
        serial: item.serial,
        verb: 'test-credential',
        params: { credentials: Object.keys(secretsRef) },
        secretsRef,
        requestedBy: null,
        ttlMs: context.tuning.commandTtlMs,
      },
    });
  }
  const queued = await queueEach(
    tx,
    ready.map((entry) => entry.input),
  );
  ready.forEach((entry, index) => {
    const outcome = queued[index]!;
    outcomes.set(
      entry.serial,
      'commandId' in outcome
        ? { commandId: outcome.commandId, problem: null }
        : { commandId: null, problem: { code: 'not-queued', message: outcome.problem } },
    );
  });
  return outcomes;
}

interface FinishedRow {
  item: ItemRow;
  command: { status: string; dispatchCount: number; result: unknown; error: unknown };
}

/**
 * Applies finished commands to their items, once: each item moves on to another command (or
 * none) in the same transaction, and the job's row lock keeps another process from applying it
 * at the same time. Proven versions are activated, disproven ones discarded, unknown outcomes
 * get their check; all of it a few statements for the whole batch.
 */
async function applyFinished(context: AdvanceContext, finished: readonly FinishedRow[]) {
  const { tx, job } = context;
  const plans = finished.map(({ item, command }) => {
    const previous = itemErrorOf(item.error);
    let event: RotationItemEvent;
    let retryAfterMs: number | undefined;
    if (item.status === 'changing') {
      const verdict = interpretChangeResult(command);
      event = { type: 'change-finished', verdict };
      if (verdict.lockedOut) context.lockout ??= { serial: item.serial, problem: verdict.problem };
      if (verdict.verdict === 'unknown') retryAfterMs = verdict.retryAfterMs;
    } else {
      const verdict = interpretCheckResult(command, CHECK_REFS);
      event = { type: 'check-finished', verdict };
      if (verdict.lockedOut) {
        context.lockout ??= {
          serial: item.serial,
          problem:
            verdict.verdict === 'unknown'
              ? verdict.problem
              : { code: 'locked-out', message: 'The camera blocked a login test.' },
        };
      }
      if (verdict.verdict === 'unknown') retryAfterMs = verdict.retryAfterMs;
    }
    const step = nextRotationItemStep(item.status as RotationItemStatus, event);
    const checks = (previous?.checks ?? 0) + (item.status === 'checking' ? 1 : 0);
    let error: ItemError | null = step.error;
    if (step.status === 'checking') {
      error = { ...(error ?? { code: 'unknown', message: 'The outcome is unknown.' }), checks };
      if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
    }
    return { item, step, status: step.status, error, commandId: null as string | null };
  });

  const activating = plans.filter(
    (plan) => plan.step.pending === 'activate' && plan.item.credentialId !== null,
  );
  const activation = await activateCredentialVersions(
    tx,
    activating.map((plan) => plan.item.credentialId!),
    { orgId: job.orgId },
  );
  const refused = new Map(activation.refused.map((entry) => [entry.id, entry.status]));
  for (const plan of activating) {
    const status = refused.get(plan.item.credentialId!);
    if (status === undefined) continue;
    // Retired or gone meanwhile (a case rotated the camera too): the camera may hold it, so
    // nothing is thrown away and a person looks.
    plan.status = 'failed';
    plan.error = {
      code: 'vault-conflict',
      message: `The camera took the new password, but the vault could not make it active (it is ${status}). Check the camera's credentials.`,
    };
  }

  const checking = plans.filter(
    (plan) =>
      plan.status === 'checking' && plan.step.check === 'now' && plan.item.credentialId !== null,
  );
  const checks = await queueChecks(
    context,
    checking.map((plan) => ({ serial: plan.item.serial, pendingId: plan.item.credentialId! })),
  );
  for (const plan of checking) {
    const queued = checks.get(plan.item.serial);
    plan.commandId = queued?.commandId ?? null;
    if (queued?.problem != null) plan.error = { ...plan.error!, ...queued.problem };
  }

  await updateItems(
    context,
    plans.map((plan) => ({
      serial: plan.item.serial,
      status: plan.status,
      commandId: plan.commandId,
      // A finished item lets go of its version, so the vault may prune it like any other.
      credentialId:
        plan.status === 'rotated' || plan.status === 'failed' ? null : plan.item.credentialId,
      error: plan.error,
      attempted: false,
    })),
  );
  await discardPendingVersions(
    tx,
    plans
      .filter((plan) => plan.step.pending === 'discard' && plan.item.credentialId !== null)
      .map((plan) => plan.item.credentialId!),
    { orgId: job.orgId },
  );
  for (const plan of plans) {
    const { item } = plan;
    if (plan.status === 'rotated') {
      context.audit.push({
        orgId: job.orgId,
        siteId: item.siteId,
        actor: ENGINE,
        action: 'credential.rotated',
        subject: { kind: 'credential', id: item.credentialId ?? item.serial },
        data: {
          jobId: job.id,
          serial: item.serial,
          account: job.account,
          wave: item.wave,
          provenBy: item.status === 'changing' ? 'change' : 'check',
        },
      });
    } else if (plan.status === 'failed') {
      context.audit.push({
        orgId: job.orgId,
        siteId: item.siteId,
        actor: ENGINE,
        action: 'rotation.failed',
        subject: { kind: 'rotation-job', id: job.id },
        data: {
          serial: item.serial,
          account: job.account,
          wave: item.wave,
          code: plan.error?.code ?? 'failed',
          reason: plan.error?.message ?? '',
          pendingKept: plan.step.pending !== 'discard',
        },
      });
    }
  }
}

/**
 * Checks due again: items whose outcome is still unknown and whose wait is over. Returns how many
 * were queued, and how long until the next of the others is due (null if none waits).
 */
async function queueDueChecks(
  context: AdvanceContext,
  items: readonly ItemRow[],
): Promise<{ queued: number; nextDueInMs: number | null }> {
  const { now, tuning } = context;
  let nextDueInMs: number | null = null;
  const due = items.filter((item) => {
    if (item.credentialId === null) return false;
    const error = itemErrorOf(item.error);
    const wait = recheckDelayMs(error?.checks ?? 1, {
      ...tuning.recheck,
      retryAfterMs: error?.retryAfterMs,
    });
    const left = wait - (now.getTime() - item.updatedAt.getTime());
    if (left <= 0) return true;
    nextDueInMs = Math.min(nextDueInMs ?? left, left);
    return false;
  });
  const queued = await queueChecks(
    context,
    due.map((item) => ({ serial: item.serial, pendingId: item.credentialId! })),
  );
  await updateItems(
    context,
    due.map((item) => {
      const check = queued.get(item.serial);
      const error = itemErrorOf(item.error);
      return {
        serial: item.serial,
        status: 'checking' as const,
        commandId: check?.commandId ?? null,
        credentialId: item.credentialId,
        error: check?.problem == null ? error : { ...error, ...check.problem },
        attempted: false,
      };
    }),
  );
  return { queued: due.length, nextDueInMs };
}

interface QueueCandidate {
  serial: string;
  siteId: string;
  agentId: string | null;
  currentId: string | null;
  username: string | null;
  adminId: string | null;
  openCase: boolean;
  reachable: boolean;
}

function skipReasonOf(candidate: QueueCandidate): RotationSkipReason | null {
  if (candidate.currentId === null) return 'no-vaulted-credential';
  if (candidate.adminId === null) return 'no-vaulted-admin';
  if (candidate.openCase) return 'open-case';
  if (candidate.agentId === null) return 'no-agent';
  if (!candidate.reachable) return 'not-in-scope';
  return null;
}

function skipUpdate(serial: string, reason: RotationSkipReason, detail?: string): ItemUpdate {
  const step = nextRotationItemStep('queued', { type: 'skipped', reason });
  return {
    serial,
    status: step.status,
    commandId: null,
    credentialId: null,
    error: {
      code: reason,
      message:
        detail === undefined
          ? ROTATION_SKIP_LABELS[reason]
          : `${ROTATION_SKIP_LABELS[reason]}: ${detail}`,
    },
    attempted: false,
  };
}

/**
 * Starts the changes of these cameras: a generated password for each is sealed as a pending
 * version, then the commands that carry them (by reference) are queued, then the items point at
 * both, all in one savepoint, so no command exists without its vaulted password. Returns the
 * item updates (changing, or skipped when the camera could not be queued).
 */
async function startChanges(
  context: AdvanceContext,
  candidates: readonly QueueCandidate[],
): Promise<ItemUpdate[]> {
  if (candidates.length === 0) return [];
  try {
    return await startChangesTogether(context, candidates);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    if (candidates.length === 1) {
      return [skipUpdate(candidates[0]!.serial, 'not-queued', error.message)];
    }
  }
  // One camera spoiled the batch (its vault entry or its command was refused): one at a time.
  const updates: ItemUpdate[] = [];
  for (const candidate of candidates) updates.push(...(await startChanges(context, [candidate])));
  return updates;
}

async function startChangesTogether(
  context: AdvanceContext,
  candidates: readonly QueueCandidate[],
): Promise<ItemUpdate[]> {
  const { tx, vault, job } = context;
  const account = job.account;
  const changing = nextRotationItemStep('queued', { type: 'change-queued' }).status;
  return tx.transaction(async (sp) => {
    const stored = await storeCredentialVersions(
      sp,
      vault,
      candidates.map((candidate) => ({
        serial: candidate.serial,
        account,
        username: candidate.username!,
        password: generateDevicePassword({ policy: 'complex', random: randomBytes }),
        createdBy: job.createdBy,
        orgId: job.orgId,
      })),
    );
    const queued = await queueEach(
      sp,
      candidates.map((candidate, index) => {
        const secretsRef: Record<string, string> = {
          current: `credential:${candidate.currentId!}`,
          next: `credential:${stored[index]!.id}`,
        };
        if (account !== 'admin') secretsRef.admin = `credential:${candidate.adminId!}`;
        return {
          agentId: candidate.agentId!,
          serial: candidate.serial,
          verb: 'rotate-credential' as const,
          params:
            account === 'admin'
              ? { credential: 'current', next: 'next' }
              : { credential: 'admin', next: 'next', previous: 'current' },
          secretsRef,
          // The person who started the rotation: if they lose access to the site, the changes
          // not yet sent are cancelled rather than made.
          requestedBy: job.createdBy,
          ttlMs: context.tuning.commandTtlMs,
        };
      }),
    );
    const updates: ItemUpdate[] = [];
    const unused: string[] = [];
    candidates.forEach((candidate, index) => {
      const outcome = queued[index]!;
      if ('commandId' in outcome) {
        updates.push({
          serial: candidate.serial,
          status: changing,
          commandId: outcome.commandId,
          credentialId: stored[index]!.id,
          error: null,
          attempted: true,
        });
      } else {
        unused.push(stored[index]!.id);
        updates.push(skipUpdate(candidate.serial, 'not-queued', outcome.problem));
      }
    });
    // A version no command names was never sent anywhere.
    await discardPendingVersions(sp, unused, { orgId: job.orgId });
    return updates;
  });
}

/**
 * Queues the wave's next cameras, as many per agent as it has room for under the limit, in
 * serial order; cameras that can no longer be rotated are skipped with the reason. Only the
 * cameras picked are looked at closely, so a wave of 1,000 costs little per pass.
 */
async function queueWave(
  context: AdvanceContext,
  wave: number,
): Promise<{ started: number; skipped: number; more: boolean }> {
  const { tx, job, tuning } = context;
  const queued = await tx
    .select({ serial: rotationItems.serial, agentId: agents.id })
    .from(rotationItems)
    .innerJoin(cameras, eq(cameras.serial, rotationItems.serial))
    .leftJoin(
      agents,
      and(
        eq(agents.id, cameras.agentId),
        eq(agents.siteId, cameras.siteId),
        isNull(agents.revokedAt),
      ),
    )
    .where(
      and(
        eq(rotationItems.jobId, job.id),
        eq(rotationItems.wave, wave),
        eq(rotationItems.status, 'queued'),
      ),
    )
    .orderBy(asc(rotationItems.serial));
  if (queued.length === 0) return { started: 0, skipped: 0, more: false };
  const agentIds = [
    ...new Set(queued.flatMap((item) => (item.agentId === null ? [] : [item.agentId]))),
  ];
  const room = new Map<string, number>(agentIds.map((id) => [id, tuning.perAgentLimit]));
  if (agentIds.length > 0) {
    const open = await tx
      .select({ agentId: commands.agentId, open: sql<number>`count(*)::int` })
      .from(commands)
      .where(
        and(inArray(commands.agentId, agentIds), inArray(commands.status, OPEN_COMMAND_STATUSES)),
      )
      .groupBy(commands.agentId);
    for (const row of open) room.set(row.agentId, tuning.perAgentLimit - row.open);
  }
  const picked: string[] = [];
  let more = false;
  for (const item of queued) {
    if (picked.length >= tuning.batchSize) {
      more = true;
      break;
    }
    if (item.agentId !== null) {
      const left = room.get(item.agentId) ?? 0;
      if (left <= 0) continue;
      room.set(item.agentId, left - 1);
    }
    picked.push(item.serial);
  }
  if (picked.length === 0) return { started: 0, skipped: 0, more };

  const current = sql<
    string | null
  >`(select ${credentials.id} from ${credentials} where ${credentials.serial} = ${cameras.serial} and ${credentials.account} = ${job.account} and ${credentials.status} = 'active' limit 1)`;
  const username = sql<
    string | null
  >`(select ${credentials.username} from ${credentials} where ${credentials.serial} = ${cameras.serial} and ${credentials.account} = ${job.account} and ${credentials.status} = 'active' limit 1)`;
  const admin = sql<
    string | null
  >`(select ${credentials.id} from ${credentials} where ${credentials.serial} = ${cameras.serial} and ${credentials.account} = 'admin' and ${credentials.status} = 'active' limit 1)`;
  const openCase = sql<boolean>`exists (select 1 from ${cases} where ${cases.serial} = ${cameras.serial} and ${notInArray(cases.status, [...TERMINAL_CASE_STATES])})`;
  const candidates: QueueCandidate[] = await tx
    .select({
      serial: cameras.serial,
      siteId: cameras.siteId,
      agentId: agents.id,
      currentId: current,
      username,
      adminId: admin,
      openCase,
      reachable: sql<boolean>`${userReachesSite(job.createdBy, cameras.siteId)}`,
    })
    .from(cameras)
    .leftJoin(
      agents,
      and(
        eq(agents.id, cameras.agentId),
        eq(agents.siteId, cameras.siteId),
        isNull(agents.revokedAt),
      ),
    )
    .where(inArray(cameras.serial, picked))
    .orderBy(asc(cameras.serial));
  const skips: ItemUpdate[] = [];
  const chosen: QueueCandidate[] = [];
  for (const candidate of candidates) {
    const reason = skipReasonOf(candidate);
    if (reason === null) chosen.push(candidate);
    else skips.push(skipUpdate(candidate.serial, reason));
  }
  const updates = [...skips, ...(await startChanges(context, chosen))];
  await updateItems(context, updates);
  const started = updates.filter((update) => update.attempted).length;
  return { started, skipped: updates.length - started, more };
}

export interface AdvanceOutcome {
  /** Something was committed (and announced on the rotation channel). */
  changed: boolean;
  /** The batch limit left work undone: advance again. */
  more: boolean;
  /** An unknown outcome waits to be tested again: advance again in this long. */
  nextCheckInMs: number | null;
}

/**
 * Brings one rotation up to date, in one transaction under the job's row lock: applies the
 * finished commands of its items (each once), queues due checks, stops the job on a lockout or
 * a failed wave, completes it, or queues the current wave's next cameras. Idempotent.
 */
export async function advanceRotationJob(
  db: Database,
  vault: Vault,
  jobId: string,
  options: { tuning?: Partial<RotationTuning>; log?: RotationEngineLog; now?: Date } = {},
): Promise<AdvanceOutcome> {
  const tuning = { ...DEFAULT_ROTATION_TUNING, ...options.tuning };
  return db.transaction(async (tx) => {
    const [job] = await tx
      .select()
      .from(rotationJobs)
      .where(eq(rotationJobs.id, jobId))
      .for('update');
    if (job === undefined) return { changed: false, more: false, nextCheckInMs: null };
    const context: AdvanceContext = {
      tx,
      vault,
      job,
      tuning,
      now: options.now ?? new Date(),
      log: options.log ?? consoleLog,
      lockout: null,
      audit: [],
    };
    let changed = false;
    let more = false;

    const finished = await tx
      .select({
        item: rotationItems,
        command: {
          status: commands.status,
          dispatchCount: commands.dispatchCount,
          result: commands.result,
          error: commands.error,
        },
      })
      .from(rotationItems)
      .innerJoin(commands, eq(commands.id, rotationItems.commandId))
      .where(
        and(
          eq(rotationItems.jobId, job.id),
          inArray(rotationItems.status, [...ROTATION_IN_FLIGHT_STATUSES]),
          inArray(commands.status, FINISHED_COMMAND_STATUSES),
        ),
      )
      .orderBy(asc(commands.completedAt))
      .limit(tuning.batchSize + 1);
    if (finished.length > tuning.batchSize) more = true;
    if (finished.length > 0) {
      await applyFinished(context, finished.slice(0, tuning.batchSize));
      changed = true;
    }

    const waiting = await tx
      .select()
      .from(rotationItems)
      .where(
        and(
          eq(rotationItems.jobId, job.id),
          eq(rotationItems.status, 'checking'),
          isNull(rotationItems.commandId),
        ),
      );
    const checks = await queueDueChecks(context, waiting);
    if (checks.queued > 0) changed = true;

    const update: Partial<typeof rotationJobs.$inferInsert> = {};
    let status = job.status;
    const stop = (data: Record<string, unknown>) =>
      context.audit.push({
        orgId: job.orgId,
        actor: ENGINE,
        action: 'rotation.stopped',
        subject: { kind: 'rotation-job', id: job.id },
        data,
      });
    if (context.lockout !== null && (status === 'running' || status === 'paused')) {
      const { serial, problem } = context.lockout;
      status = 'stopped';
      update.status = status;
      update.stopReason = `Camera ${serial} reported a lockout (${problem.code}): no more cameras are touched. Resume once it accepts logins again.`;
      stop({ reason: 'lockout', serial, code: problem.code, stopReason: update.stopReason });
    }
    if (status === 'running') {
      const step = decideRotationStep({
        currentWave: job.currentWave,
        maxFailures: job.maxFailures,
        waves: await waveTallies(tx, job.id),
      });
      switch (step.kind) {
        case 'complete':
          status = 'completed';
          update.status = status;
          update.finishedAt = context.now;
          context.audit.push({
            orgId: job.orgId,
            actor: ENGINE,
            action: 'rotation.completed',
            subject: { kind: 'rotation-job', id: job.id },
            data: { wave: job.currentWave },
          });
          break;
        case 'stop':
          status = 'stopped';
          update.status = status;
          update.stopReason = step.reason;
          stop({ reason: 'failures', wave: step.wave, stopReason: step.reason });
          break;
        case 'wait':
          break;
        case 'work': {
          if (step.wave !== job.currentWave) update.currentWave = step.wave;
          const queued = await queueWave(context, step.wave);
          if (queued.started + queued.skipped > 0) changed = true;
          // A skipped camera may have finished the wave: decide again.
          if (queued.more || queued.skipped > 0) more = true;
          break;
        }
      }
    }
    if ((status === 'stopped' || status === 'cancelled') && job.finishedAt === null) {
      const inFlight = await tx
        .select({ serial: rotationItems.serial })
        .from(rotationItems)
        .where(
          and(
            eq(rotationItems.jobId, job.id),
            inArray(rotationItems.status, [...ROTATION_IN_FLIGHT_STATUSES]),
          ),
        )
        .limit(1);
      if (inFlight.length === 0) update.finishedAt = context.now;
    }
    if (Object.keys(update).length > 0) {
      await tx
        .update(rotationJobs)
        .set({ ...update, updatedAt: context.now })
        .where(eq(rotationJobs.id, job.id));
      changed = true;
    }
    await appendAuditEvents(tx, context.audit);
    if (changed) await notifyRotation(tx, { jobId: job.id, source: 'engine' });
    return { changed, more, nextCheckInMs: checks.nextDueInMs };
  });
}

/**
 * Jobs with something to do: running ones, and any job with cameras in flight (their results
 * are applied, and their checks run, whatever the job's status).
 */
export async function rotationJobsNeedingWork(db: Database, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: rotationJobs.id })
    .from(rotationJobs)
    .where(
      or(
        eq(rotationJobs.status, 'running'),
        sql`exists (select 1 from ${rotationItems} where ${rotationItems.jobId} = ${rotationJobs.id} and ${rotationItems.status} in ('changing', 'checking'))`,
      ),
    )
    .orderBy(asc(rotationJobs.createdAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** The jobs whose items wait on these commands, once the commands have finished. */
async function jobsOfFinishedCommands(db: Database, commandIds: readonly string[]) {
  if (commandIds.length === 0) return [];
  const rows = await db
    .selectDistinct({ jobId: rotationItems.jobId })
    .from(rotationItems)
    .innerJoin(commands, eq(commands.id, rotationItems.commandId))
    .where(
      and(
        inArray(rotationItems.commandId, [...commandIds]),
        isNotNull(rotationItems.commandId),
        inArray(commands.status, FINISHED_COMMAND_STATUSES),
      ),
    );
  return rows.map((row) => row.jobId);
}

export interface RotationEngine {
  /** Advances one job now (serialised with any advance of it already under way here). */
  advance(jobId: string): Promise<void>;
  /** Advances every job that needs it; returns how many were looked at. */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

export interface RotationEngineOptions {
  database: DatabaseHandle;
  vault: Vault;
  log?: RotationEngineLog;
  /** How often every job is reconciled, in case a notification was lost (default 15 s). */
  sweepIntervalMs?: number;
  tuning?: Partial<RotationTuning>;
}

/**
 * Drives rotations from command results in every server process: it hears command changes
 * (FLEET_CHANNEL) and people's changes to jobs (ROTATION_CHANNEL) from any process, advances the
 * job they concern, and reconciles everything at start, after a lost LISTEN connection and
 * periodically (which is also when checks that wait are queued again). Several processes may do
 * it at once: the job's row lock makes each result apply once.
 */
export async function startRotationEngine(options: RotationEngineOptions): Promise<RotationEngine> {
  const { database, vault } = options;
  const { db } = database;
  const log = options.log ?? consoleLog;
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  /** Per job, the timer of its next due check and when it fires. */
  const checkTimers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  let closed = false;

  // A check is queued when its wait is over, not at the next sweep: an unknown camera holds its
  // wave until it is known.
  const wakeFor = (jobId: string, inMs: number) => {
    const at = Date.now() + inMs;
    const current = checkTimers.get(jobId);
    if (current !== undefined && current.at <= at) return;
    if (current !== undefined) clearTimeout(current.timer);
    const timer = setTimeout(() => {
      checkTimers.delete(jobId);
      if (!closed) safely(advance(jobId));
    }, inMs + 10);
    timer.unref();
    checkTimers.set(jobId, { timer, at });
  };

  const advance = (jobId: string): Promise<void> => {
    const current = running.get(jobId);
    if (current !== undefined) {
      again.add(jobId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(jobId);
          const outcome = await advanceRotationJob(db, vault, jobId, {
            log,
            ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
          });
          if (outcome.more) again.add(jobId);
          if (outcome.nextCheckInMs !== null) wakeFor(jobId, outcome.nextCheckInMs);
        } while (again.has(jobId) && !closed);
      } catch (error) {
        log.warn('could not advance a rotation', {
          jobId,
          reason: safeErrorMessage(error),
        });
      } finally {
        running.delete(jobId);
      }
    })();
    running.set(jobId, run);
    return run;
  };

  const reconcile = async (): Promise<number> => {
    if (closed) return 0;
    const ids = await rotationJobsNeedingWork(db);
    await Promise.all(ids.map((id) => advance(id)));
    return ids.length;
  };

  const safely = (work: Promise<unknown>) => {
    work.catch((error: unknown) =>
      log.warn('a notification could not be handled', {
        reason: safeErrorMessage(error),
      }),
    );
  };

  // Command events come in bursts (ack, progress, result for many cameras): they are looked up
  // together, once per turn of the event loop.
  let pendingCommands = new Set<string>();
  let flushScheduled = false;
  const flushCommands = async () => {
    flushScheduled = false;
    const ids = [...pendingCommands];
    pendingCommands = new Set();
    const jobIds = await jobsOfFinishedCommands(db, ids);
    for (const jobId of jobIds) safely(advance(jobId));
  };

  const unlisteners: Unlisten[] = [];
  unlisteners.push(
    await database.listen(
      FLEET_CHANNEL,
      (payload) => {
        const event = parseNotification(FleetEventSchema, payload);
        // Only a finished command moves an item on.
        if (event?.event !== 'command' || event.finished === false || closed) return;
        pendingCommands.add(event.commandId);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(() => safely(flushCommands()));
        }
      },
      () => safely(reconcile()),
    ),
  );
  unlisteners.push(
    await database.listen(ROTATION_CHANNEL, (payload) => {
      const event = parseNotification(RotationNotificationSchema, payload);
      if (event?.source === 'user' && !closed) safely(advance(event.jobId));
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
      for (const { timer: check } of checkTimers.values()) clearTimeout(check);
      await Promise.all(unlisteners.map((unlisten) => unlisten()));
      await Promise.allSettled([...running.values()]);
    },
  };
}
