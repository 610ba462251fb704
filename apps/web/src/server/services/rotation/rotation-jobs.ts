import {
  DomainError,
  ROTATION_IN_FLIGHT_STATUSES,
  ROTATION_ITEM_STATUSES,
  ROTATION_OPEN_STATUSES,
  ROTATION_SKIP_LABELS,
  ROTATION_SKIP_REASONS,
  decideRotationStep,
  planRotationWaves,
  type CredentialAccount,
  type RotationItemStatus,
  type RotationJobStatus,
  type RotationSkipReason,
  type RotationWaveTally,
} from '@custody/core';
import type { Database } from '@custody/db';
import { agents, cameras, rotationItems, rotationJobs, sites, users } from '@custody/db/schema';
import { and, asc, count, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import { requireJobAccess, type JobAccess, type RotationJobRow } from './rotation-access.ts';
import { notifyRotation } from './rotation-notify.ts';
import {
  CreateRotationInputSchema,
  resolveRotationSelection,
  type CreateRotationInput,
  skippedCamera,
  type SkippedCamera,
} from './rotation-selection.ts';

/** Cameras skipped at creation are kept on the job up to this many (the count is always kept). */
const MAX_KEPT_SKIPPED = 1_000;
const ITEM_INSERT_CHUNK = 1_000;

/** Serialises what puts cameras into an unfinished rotation (creation, retries) across processes. */
const ROTATION_ENROL_LOCK = 'custody-rotation-enrol';

export type StatusCounts = Record<RotationItemStatus, number>;

function emptyCounts(): StatusCounts {
  return Object.fromEntries(ROTATION_ITEM_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

function isSkipReason(value: string): value is RotationSkipReason {
  return (ROTATION_SKIP_REASONS as readonly string[]).includes(value);
}

function isItemStatus(value: string): value is RotationItemStatus {
  return (ROTATION_ITEM_STATUSES as readonly string[]).includes(value);
}

/** What the job keeps of its selection: as asked, plus the cameras skipped at creation. */
const StoredSelectionSchema = z.object({
  skipped: z
    .array(z.object({ serial: z.string(), reason: z.string() }))
    .default([])
    .catch([]),
  skippedCount: z.int().default(0).catch(0),
});

export interface RotationPreview {
  /** Cameras the job would rotate. */
  cameras: number;
  /** Waves after the canary. */
  waves: number;
  skipped: SkippedCamera[];
}

function wavesAfterCanary(plan: Map<string, number>): number {
  return Math.max(0, ...plan.values());
}

/** What a rotation over this selection would do, without doing anything. */
export async function previewRotationJob(
  db: Database,
  actor: Actor,
  input: CreateRotationInput,
): Promise<RotationPreview> {
  const parsed = CreateRotationInputSchema.parse(input);
  const resolved = await resolveRotationSelection(db, actor, parsed);
  const plan = planRotationWaves(resolved.cameras, parsed);
  return {
    cameras: resolved.cameras.length,
    waves: wavesAfterCanary(plan),
    skipped: resolved.skipped,
  };
}

export interface CreatedRotation extends RotationPreview {
  jobId: string;
}

function skippedSummary(skipped: readonly SkippedCamera[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of skipped) counts[entry.reason] = (counts[entry.reason] ?? 0) + 1;
  return counts;
}

async function lockEnrolment(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${ROTATION_ENROL_LOCK}))`);
}

/**
 * Starts a rotation: the cameras of the selection that can be rotated become its items, the
 * canary first (wave 0), and the engine takes it from there. A selection with nothing to rotate
 * is refused, naming why each camera was skipped. Audited.
 */
export async function createRotationJob(
  db: Database,
  actor: Actor,
  input: CreateRotationInput,
): Promise<CreatedRotation> {
  const parsed = CreateRotationInputSchema.parse(input);
  return db.transaction(async (tx) => {
    await lockEnrolment(tx);
    const resolved = await resolveRotationSelection(tx, actor, parsed);
    if (resolved.cameras.length === 0) {
      const reasons = Object.entries(skippedSummary(resolved.skipped)).map(
        ([reason, total]) =>
          `${total} ${ROTATION_SKIP_LABELS[reason as keyof typeof ROTATION_SKIP_LABELS]}`,
      );
      throw new DomainError(
        'invalid-input',
        resolved.skipped.length === 0
          ? 'The selection holds no camera.'
          : `None of the ${resolved.skipped.length} selected cameras can be rotated: ${reasons.join('; ')}.`,
        { details: { field: 'siteIds', skipped: skippedSummary(resolved.skipped) } },
      );
    }
    const plan = planRotationWaves(resolved.cameras, parsed);
    const [job] = await tx
      .insert(rotationJobs)
      .values({
        orgId: resolved.org.orgId,
        selection: {
          ...(parsed.siteIds === undefined ? {} : { siteIds: parsed.siteIds }),
          ...(parsed.filter === undefined ? {} : { filter: parsed.filter }),
          ...(parsed.serials === undefined ? {} : { serials: parsed.serials }),
          skipped: resolved.skipped
            .slice(0, MAX_KEPT_SKIPPED)
            .map(({ serial, reason }) => ({ serial, reason })),
          skippedCount: resolved.skipped.length,
        },
        account: parsed.account,
        canarySize: parsed.canarySize,
        waveSize: parsed.waveSize,
        maxFailures: parsed.maxFailures,
        createdBy: actor.userId,
      })
      .returning();
    if (job === undefined) throw new Error('The rotation insert returned no row.');
    const items = resolved.cameras.map((camera) => ({
      jobId: job.id,
      serial: camera.serial,
      siteId: camera.siteId,
      wave: plan.get(camera.serial) ?? 0,
    }));
    for (let start = 0; start < items.length; start += ITEM_INSERT_CHUNK) {
      await tx.insert(rotationItems).values(items.slice(start, start + ITEM_INSERT_CHUNK));
    }
    const waves = wavesAfterCanary(plan);
    await appendAuditEvent(tx, {
      orgId: job.orgId,
      actor: { kind: 'user', id: actor.userId },
      action: 'rotation.created',
      subject: { kind: 'rotation-job', id: job.id },
      data: {
        account: job.account,
        cameras: items.length,
        canarySize: job.canarySize,
        waveSize: job.waveSize,
        maxFailures: job.maxFailures,
        waves,
        sites: [...new Set(resolved.cameras.map((camera) => camera.siteId))].length,
        skipped: skippedSummary(resolved.skipped),
      },
    });
    await notifyRotation(tx, { jobId: job.id, source: 'user' });
    return { jobId: job.id, cameras: items.length, waves, skipped: resolved.skipped };
  });
}

/** Item counts per wave and status. */
export async function waveTallies(tx: Executor, jobId: string): Promise<RotationWaveTally[]> {
  const rows = await tx
    .select({ wave: rotationItems.wave, status: rotationItems.status, total: count() })
    .from(rotationItems)
    .where(eq(rotationItems.jobId, jobId))
    .groupBy(rotationItems.wave, rotationItems.status);
  const byWave = new Map<number, RotationWaveTally>();
  for (const row of rows) {
    const tally = byWave.get(row.wave) ?? { wave: row.wave, counts: {} };
    if (isItemStatus(row.status)) tally.counts[row.status] = row.total;
    byWave.set(row.wave, tally);
  }
  return [...byWave.values()].sort((a, b) => a.wave - b.wave);
}

function inFlightOf(tallies: readonly RotationWaveTally[]): number {
  return tallies.reduce(
    (sum, tally) =>
      sum + ROTATION_IN_FLIGHT_STATUSES.reduce((n, status) => n + (tally.counts[status] ?? 0), 0),
    0,
  );
}

interface JobChange {
  action: 'paused' | 'resumed' | 'cancelled' | 'retried';
  data?: Record<string, unknown>;
}

async function recordJobChange(
  tx: Executor,
  actor: Actor,
  job: RotationJobRow,
  change: JobChange,
): Promise<void> {
  await appendAuditEvent(tx, {
    orgId: job.orgId,
    actor: { kind: 'user', id: actor.userId },
    action: `rotation.${change.action}`,
    subject: { kind: 'rotation-job', id: job.id },
    data: change.data,
  });
  await notifyRotation(tx, { jobId: job.id, source: 'user' });
}

function refuseFrom(job: RotationJobRow, action: string, allowed: readonly string[]): void {
  if (!allowed.includes(job.status)) {
    throw new DomainError('invalid-transition', `A ${job.status} rotation cannot be ${action}.`, {
      details: { from: job.status },
    });
  }
}

/** Stops queueing cameras; those already changing finish and are reconciled. Audited. */
export async function pauseRotationJob(db: Database, actor: Actor, input: { jobId: string }) {
  return db.transaction(async (tx) => {
    const { job } = await requireJobAccess(tx, actor, input.jobId, {
      manage: 'pause a rotation',
      lock: true,
    });
    refuseFrom(job, 'paused', ['running']);
    await tx
      .update(rotationJobs)
      .set({ status: 'paused', updatedAt: new Date() })
      .where(eq(rotationJobs.id, job.id));
    await recordJobChange(tx, actor, job, { action: 'paused' });
    return { jobId: job.id, status: 'paused' as const };
  });
}

/**
 * Runs a paused or stopped rotation again. A job stopped after a wave with too many failures
 * goes on with the next wave: resuming is accepting those failures. Audited.
 */
export async function resumeRotationJob(db: Database, actor: Actor, input: { jobId: string }) {
  return db.transaction(async (tx) => {
    const { job } = await requireJobAccess(tx, actor, input.jobId, {
      manage: 'resume a rotation',
      lock: true,
    });
    refuseFrom(job, 'resumed', ['paused', 'stopped']);
    const step = decideRotationStep({
      currentWave: job.currentWave,
      maxFailures: Number.MAX_SAFE_INTEGER,
      waves: await waveTallies(tx, job.id),
    });
    const currentWave = step.kind === 'work' ? step.wave : job.currentWave;
    await tx
      .update(rotationJobs)
      .set({
        status: 'running',
        stopReason: null,
        finishedAt: null,
        currentWave,
        updatedAt: new Date(),
      })
      .where(eq(rotationJobs.id, job.id));
    await recordJobChange(tx, actor, job, {
      action: 'resumed',
      data: { from: job.status, stopReason: job.stopReason, wave: currentWave },
    });
    return { jobId: job.id, status: 'running' as const };
  });
}

/**
 * Cancels a rotation: the cameras still queued are skipped; those changing or being checked
 * finish and are reconciled (their passwords stay proven either way). Audited.
 */
export async function cancelRotationJob(db: Database, actor: Actor, input: { jobId: string }) {
  return db.transaction(async (tx) => {
    const { job } = await requireJobAccess(tx, actor, input.jobId, {
      manage: 'cancel a rotation',
      lock: true,
    });
    refuseFrom(job, 'cancelled', ['running', 'paused', 'stopped']);
    const now = new Date();
    const skipped = await tx
      .update(rotationItems)
      .set({
        status: 'skipped',
        error: { code: 'cancelled', message: ROTATION_SKIP_LABELS.cancelled },
        updatedAt: now,
      })
      .where(and(eq(rotationItems.jobId, job.id), eq(rotationItems.status, 'queued')))
      .returning({ serial: rotationItems.serial });
    const inFlight = inFlightOf(await waveTallies(tx, job.id));
    await tx
      .update(rotationJobs)
      .set({ status: 'cancelled', updatedAt: now, finishedAt: inFlight === 0 ? now : null })
      .where(eq(rotationJobs.id, job.id));
    await recordJobChange(tx, actor, job, {
      action: 'cancelled',
      data: { from: job.status, skipped: skipped.length, inFlight },
    });
    return { jobId: job.id, status: 'cancelled' as const, skipped: skipped.length, inFlight };
  });
}

/**
 * Tries the failed cameras again, as a new wave that runs next: nothing else is touched. A
 * camera meanwhile taken by another unfinished rotation stays failed. Audited.
 */
export async function retryRotationFailures(db: Database, actor: Actor, input: { jobId: string }) {
  return db.transaction(async (tx) => {
    const { job } = await requireJobAccess(tx, actor, input.jobId, {
      manage: 'retry a rotation',
      lock: true,
    });
    refuseFrom(job, 'retried', ['running', 'paused', 'stopped', 'completed']);
    await lockEnrolment(tx);
    const [top] = await tx
      .select({ wave: sql<number>`coalesce(max(${rotationItems.wave}), 0)::int` })
      .from(rotationItems)
      .where(eq(rotationItems.jobId, job.id));
    const wave = (top?.wave ?? 0) + 1;
    const now = new Date();
    const retried = await tx
      .update(rotationItems)
      .set({ status: 'queued', wave, error: null, commandId: null, updatedAt: now })
      .where(
        and(
          eq(rotationItems.jobId, job.id),
          eq(rotationItems.status, 'failed'),
          sql`not exists (select 1 from ${rotationItems} as other where other.serial = ${rotationItems.serial} and other.job_id <> ${job.id} and other.status in ('queued', 'changing', 'checking'))`,
        ),
      )
      .returning({ serial: rotationItems.serial });
    if (retried.length === 0) {
      throw new DomainError('invalid-input', 'No failed camera of this rotation can be retried.');
    }
    await tx
      .update(rotationJobs)
      .set({
        status: 'running',
        currentWave: wave,
        stopReason: null,
        finishedAt: null,
        updatedAt: now,
      })
      .where(eq(rotationJobs.id, job.id));
    await recordJobChange(tx, actor, job, {
      action: 'retried',
      data: { from: job.status, wave, cameras: retried.length },
    });
    return { jobId: job.id, status: 'running' as const, wave, cameras: retried.length };
  });
}

export interface RotationJobView {
  id: string;
  orgId: string;
  status: RotationJobStatus;
  account: CredentialAccount;
  canarySize: number;
  waveSize: number;
  maxFailures: number;
  currentWave: number;
  stopReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  createdBy: { id: string; name: string };
}

const jobColumns = { job: rotationJobs, createdByName: users.name };

function toJobView(row: { job: RotationJobRow; createdByName: string }): RotationJobView {
  const { job } = row;
  return {
    id: job.id,
    orgId: job.orgId,
    status: job.status as RotationJobStatus,
    account: job.account,
    canarySize: job.canarySize,
    waveSize: job.waveSize,
    maxFailures: job.maxFailures,
    currentWave: job.currentWave,
    stopReason: job.stopReason,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
    createdBy: { id: job.createdBy, name: row.createdByName },
  };
}

async function totalsByJob(tx: Executor, jobIds: readonly string[]) {
  const totals = new Map<string, StatusCounts>();
  if (jobIds.length === 0) return totals;
  const rows = await tx
    .select({ jobId: rotationItems.jobId, status: rotationItems.status, total: count() })
    .from(rotationItems)
    .where(inArray(rotationItems.jobId, [...jobIds]))
    .groupBy(rotationItems.jobId, rotationItems.status);
  for (const row of rows) {
    const counts = totals.get(row.jobId) ?? emptyCounts();
    if (isItemStatus(row.status)) counts[row.status] = row.total;
    totals.set(row.jobId, counts);
  }
  return totals;
}

export const ListRotationJobsInputSchema = z.object({
  limit: z.int().min(1).max(100).default(20),
  /** The id of the last job of the previous page. */
  cursor: z.uuid().optional(),
});

export interface RotationJobSummary extends RotationJobView {
  totals: StatusCounts;
  cameras: number;
}

/** The rotations of the actor's organisations, newest first. */
export async function listRotationJobs(
  db: Database,
  actor: Actor,
  input: z.input<typeof ListRotationJobsInputSchema> = {},
): Promise<{ jobs: RotationJobSummary[]; nextCursor: string | null }> {
  const { limit, cursor } = ListRotationJobsInputSchema.parse(input);
  const orgIds = [...new Set(actor.memberships.map((membership) => membership.orgId))];
  if (orgIds.length === 0) return { jobs: [], nextCursor: null };
  let after;
  if (cursor !== undefined) {
    const [anchor] = await db
      .select({ createdAt: rotationJobs.createdAt })
      .from(rotationJobs)
      .where(and(eq(rotationJobs.id, cursor), inArray(rotationJobs.orgId, orgIds)));
    if (anchor === undefined) throw new DomainError('invalid-input', 'That page no longer exists.');
    after = or(
      lt(rotationJobs.createdAt, anchor.createdAt),
      and(eq(rotationJobs.createdAt, anchor.createdAt), lt(rotationJobs.id, cursor)),
    );
  }
  const rows = await db
    .select(jobColumns)
    .from(rotationJobs)
    .innerJoin(users, eq(users.id, rotationJobs.createdBy))
    .where(and(inArray(rotationJobs.orgId, orgIds), after))
    .orderBy(desc(rotationJobs.createdAt), desc(rotationJobs.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const totals = await totalsByJob(
    db,
    page.map((row) => row.job.id),
  );
  return {
    jobs: page.map((row) => {
      const counts = totals.get(row.job.id) ?? emptyCounts();
      return {
        ...toJobView(row),
        totals: counts,
        cameras: Object.values(counts).reduce((sum, n) => sum + n, 0),
      };
    }),
    nextCursor: rows.length > limit ? (page.at(-1)?.job.id ?? null) : null,
  };
}

export interface RotationJobDetail {
  job: RotationJobView;
  waves: { wave: number; total: number; byStatus: StatusCounts }[];
  totals: StatusCounts;
  /**
   * Cameras of the selection left out at creation, with the reason (the first 1,000). A reason
   * this version does not know (kept by a newer one) is shown as it was stored.
   */
  skipped: { serial: string; reason: string; label: string }[];
  skippedCount: number;
  /** What the actor may do to it now. */
  can: { pause: boolean; resume: boolean; cancel: boolean; retryFailures: boolean };
}

function actionsFor(access: JobAccess, totals: StatusCounts): RotationJobDetail['can'] {
  const status = access.job.status;
  const manage = access.canManage;
  return {
    pause: manage && status === 'running',
    resume: manage && (status === 'paused' || status === 'stopped'),
    cancel: manage && ['running', 'paused', 'stopped'].includes(status),
    retryFailures: manage && status !== 'cancelled' && totals.failed > 0,
  };
}

/** One rotation with its progress per wave and status. */
export async function getRotationJob(
  db: Database,
  actor: Actor,
  input: { jobId: string },
): Promise<RotationJobDetail> {
  const access = await requireJobAccess(db, actor, input.jobId);
  const [row] = await db
    .select(jobColumns)
    .from(rotationJobs)
    .innerJoin(users, eq(users.id, rotationJobs.createdBy))
    .where(eq(rotationJobs.id, input.jobId));
  if (row === undefined) throw new DomainError('not-found', 'No such rotation.');
  const tallies = await waveTallies(db, input.jobId);
  const totals = emptyCounts();
  const waves = tallies.map((tally) => {
    const byStatus = emptyCounts();
    for (const status of ROTATION_ITEM_STATUSES) {
      byStatus[status] = tally.counts[status] ?? 0;
      totals[status] += byStatus[status];
    }
    return {
      wave: tally.wave,
      total: Object.values(byStatus).reduce((sum, n) => sum + n, 0),
      byStatus,
    };
  });
  const selection = StoredSelectionSchema.parse(access.job.selection);
  return {
    job: toJobView(row),
    waves,
    totals,
    skipped: selection.skipped.map((entry) =>
      isSkipReason(entry.reason)
        ? skippedCamera(entry.serial, entry.reason)
        : { serial: entry.serial, reason: entry.reason, label: entry.reason },
    ),
    skippedCount: selection.skippedCount,
    can: actionsFor(access, totals),
  };
}

const ItemCursorSchema = z.string().regex(/^\d{1,6}:[0-9A-F]{12}$/, 'Not a page cursor.');

export const ListRotationItemsInputSchema = z.object({
  jobId: z.uuid(),
  status: z.enum(ROTATION_ITEM_STATUSES).optional(),
  wave: z.int().min(0).max(1_000_000).optional(),
  limit: z.int().min(1).max(500).default(100),
  /** `<wave>:<serial>` of the last item of the previous page. */
  cursor: ItemCursorSchema.optional(),
});

export interface RotationItemView {
  serial: string;
  siteId: string;
  siteName: string;
  model: string | null;
  wave: number;
  status: RotationItemStatus;
  attempts: number;
  error: { code: string; message: string } | null;
  updatedAt: Date;
  /**
   * An item still to be changed or checked whose site agent is not connected: it waits for that
   * agent (a camera's outcome can only be learnt through it), or for a person to cancel the job.
   */
  waitingForAgent: { name: string | null; since: Date | null } | null;
}

const ItemErrorSchema = z.object({ code: z.string(), message: z.string() });

/** A rotation's cameras in wave and serial order, with their status and last error. */
export async function listRotationItems(
  db: Database,
  actor: Actor,
  input: z.input<typeof ListRotationItemsInputSchema>,
): Promise<{ items: RotationItemView[]; nextCursor: string | null }> {
  const parsed = ListRotationItemsInputSchema.parse(input);
  await requireJobAccess(db, actor, parsed.jobId);
  let after;
  if (parsed.cursor !== undefined) {
    const [wave, serial] = parsed.cursor.split(':') as [string, string];
    after = or(
      gt(rotationItems.wave, Number(wave)),
      and(eq(rotationItems.wave, Number(wave)), gt(rotationItems.serial, serial)),
    );
  }
  const rows = await db
    .select({
      serial: rotationItems.serial,
      siteId: rotationItems.siteId,
      siteName: sites.name,
      model: cameras.model,
      wave: rotationItems.wave,
      status: rotationItems.status,
      attempts: rotationItems.attempts,
      error: rotationItems.error,
      updatedAt: rotationItems.updatedAt,
      agentName: agents.name,
      agentStatus: agents.status,
      agentDisconnectedAt: agents.disconnectedAt,
    })
    .from(rotationItems)
    .innerJoin(cameras, eq(cameras.serial, rotationItems.serial))
    .innerJoin(sites, eq(sites.id, rotationItems.siteId))
    .leftJoin(agents, eq(agents.id, cameras.agentId))
    .where(
      and(
        eq(rotationItems.jobId, parsed.jobId),
        parsed.status === undefined ? undefined : eq(rotationItems.status, parsed.status),
        parsed.wave === undefined ? undefined : eq(rotationItems.wave, parsed.wave),
        after,
      ),
    )
    .orderBy(asc(rotationItems.wave), asc(rotationItems.serial))
    .limit(parsed.limit + 1);
  const page = rows.slice(0, parsed.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ agentName, agentStatus, agentDisconnectedAt, ...row }) => {
      const error = ItemErrorSchema.safeParse(row.error);
      const status = row.status as RotationItemStatus;
      const waiting =
        (ROTATION_OPEN_STATUSES as readonly RotationItemStatus[]).includes(status) &&
        agentStatus !== 'online';
      return {
        ...row,
        status,
        error: error.success ? { code: error.data.code, message: error.data.message } : null,
        waitingForAgent: waiting
          ? { name: agentName ?? null, since: agentDisconnectedAt ?? null }
          : null,
      };
    }),
    nextCursor:
      rows.length > parsed.limit && last !== undefined ? `${last.wave}:${last.serial}` : null,
  };
}
