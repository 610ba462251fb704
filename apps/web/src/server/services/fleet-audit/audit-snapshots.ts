import { AUDIT_FINDINGS, emptyFindingCounts, type AuditFinding } from '@custody/core';
import type { Database } from '@custody/db';
import { fleetAuditSnapshots, organisations } from '@custody/db/schema';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { safeErrorMessage } from '@custody/db/errors';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import { openAudit, prepareAudit, summarize, type FindingCounts } from './audit-query.ts';
import { loadAuditSettings } from './audit-settings.ts';
import { resolveAuditAdminOrg, type AuditOrg } from './audit-scope.ts';

/**
 * Snapshots of one organisation are taken under this transaction-scoped advisory lock (its
 * second key is the organisation), so two server processes never take the same one twice.
 */
const SNAPSHOT_LOCK = 0x61756474; // "audt"

export type SnapshotTrigger = 'scheduled' | 'manual';

/** A site's entry in a snapshot; counts of zero are left out to keep snapshots small. */
const SiteEntrySchema = z.object({
  cameras: z.number(),
  withFindings: z.number().default(0),
  findings: z.partialRecord(z.enum(AUDIT_FINDINGS), z.number()).default({}),
});

export interface SnapshotView {
  id: string;
  takenAt: Date;
  trigger: string;
  cameraCount: number;
}

const HOUR_MS = 3_600_000;

function compactCounts(counts: FindingCounts): Partial<FindingCounts> {
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}

function fullCounts(counts: Partial<Record<AuditFinding, number>> | null | undefined) {
  return { ...emptyFindingCounts(), ...counts };
}

/**
 * Takes a snapshot of the organisation's audit, fleet-wide and per site. A scheduled one is
 * skipped (null) when another process holds the organisation's lock, when the latest snapshot is
 * younger than the interval, or when the organisation sees no camera at all.
 */
export async function takeAuditSnapshot(
  db: Database,
  org: AuditOrg,
  options: { trigger: SnapshotTrigger; actor: Actor | null; now?: Date | undefined },
): Promise<SnapshotView | null> {
  return db.transaction(async (tx) => {
    if (options.trigger === 'scheduled') {
      const [row] = await tx
        .select({
          locked: sql<boolean>`pg_try_advisory_xact_lock(${SNAPSHOT_LOCK}, hashtext(${org.id}))`,
        })
        .from(organisations)
        .where(eq(organisations.id, org.id));
      if (row?.locked !== true) return null;
      const settings = await loadAuditSettings(tx, org.id);
      const now = options.now ?? new Date();
      if (await hasSnapshotSince(tx, org.id, snapshotDueBefore(now, settings))) return null;
    } else {
      await tx.execute(sql`select pg_advisory_xact_lock(${SNAPSHOT_LOCK}, hashtext(${org.id}))`);
    }
    const summary = await summarize(tx, await prepareAudit(tx, org, { now: options.now }));
    if (options.trigger === 'scheduled' && summary.fleet.cameras === 0) return null;
    const [snapshot] = await tx
      .insert(fleetAuditSnapshots)
      .values({
        orgId: org.id,
        takenAt: summary.generatedAt,
        trigger: options.trigger,
        cameraCount: summary.fleet.cameras,
        totals: summary.fleet.findings,
        sites: Object.fromEntries(
          summary.sites.map((site) => [
            site.siteId,
            {
              cameras: site.cameras,
              withFindings: site.withFindings,
              findings: compactCounts(site.findings),
            },
          ]),
        ),
        settings: {
          firmwareFloor: summary.settings.firmwareFloor,
          staleAfterDays: summary.settings.staleAfterDays,
        },
      })
      .returning({
        id: fleetAuditSnapshots.id,
        takenAt: fleetAuditSnapshots.takenAt,
        trigger: fleetAuditSnapshots.trigger,
        cameraCount: fleetAuditSnapshots.cameraCount,
      });
    if (snapshot === undefined) throw new Error('the insert returned no row');
    if (options.actor !== null) {
      await appendAuditEvent(tx, {
        orgId: org.id,
        actor: { kind: 'user', id: options.actor.userId },
        action: 'fleet-audit.snapshot-taken',
        subject: { kind: 'fleet-audit-snapshot', id: snapshot.id },
        data: { cameras: summary.fleet.cameras, withFindings: summary.fleet.withFindings },
      });
    }
    return snapshot;
  });
}

function snapshotDueBefore(now: Date, settings: { snapshotIntervalHours: number }): Date {
  return new Date(now.getTime() - settings.snapshotIntervalHours * HOUR_MS);
}

async function hasSnapshotSince(db: Executor, orgId: string, since: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: fleetAuditSnapshots.id })
    .from(fleetAuditSnapshots)
    .where(and(eq(fleetAuditSnapshots.orgId, orgId), gt(fleetAuditSnapshots.takenAt, since)))
    .limit(1);
  return row !== undefined;
}

/** "Take a snapshot now": the organisation's admins, audited. */
export async function takeSnapshotNow(
  db: Database,
  actor: Actor,
  input: { orgId?: string | undefined } = {},
): Promise<SnapshotView> {
  const org = resolveAuditAdminOrg(actor, input.orgId, 'take an audit snapshot');
  const snapshot = await takeAuditSnapshot(db, org, { trigger: 'manual', actor });
  if (snapshot === null) throw new Error('a manual snapshot is never skipped');
  return snapshot;
}

/**
 * One pass of the scheduler: a snapshot for every organisation whose latest is older than its
 * interval. Returns how many were taken.
 */
export async function takeDueSnapshots(db: Database, now = new Date()): Promise<number> {
  const orgs = await db
    .select({ id: organisations.id, name: organisations.name, kind: organisations.kind })
    .from(organisations);
  let taken = 0;
  for (const org of orgs) {
    const settings = await loadAuditSettings(db, org.id);
    // Checked again under the lock; this read only spares the lock and the audit when not due.
    if (await hasSnapshotSince(db, org.id, snapshotDueBefore(now, settings))) continue;
    const snapshot = await takeAuditSnapshot(db, org, { trigger: 'scheduled', actor: null, now });
    if (snapshot !== null) taken += 1;
  }
  return taken;
}

export interface AuditScheduler {
  /** One pass now (tests, and the first pass after start). */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

export interface AuditSchedulerOptions {
  db: Database;
  /** How often organisations are checked for a due snapshot. */
  checkIntervalMs?: number | undefined;
  /** The first check, after start: not during it. */
  firstCheckMs?: number | undefined;
  log?: { warn(message: string, fields?: Record<string, unknown>): void } | undefined;
}

/**
 * Takes scheduled audit snapshots. Every server process runs one; the per-organisation lock and
 * the interval check under it make the extra processes harmless.
 */
export function startAuditScheduler(options: AuditSchedulerOptions): AuditScheduler {
  const log = options.log ?? {
    warn: (message: string, fields?: Record<string, unknown>) =>
      console.warn(`fleet audit: ${message}`, fields ?? {}),
  };
  const every = options.checkIntervalMs ?? 10 * 60_000;
  let closed = false;
  let running: Promise<number> | null = null;
  let timer: NodeJS.Timeout | undefined;

  const runOnce = (): Promise<number> => {
    running ??= takeDueSnapshots(options.db).finally(() => {
      running = null;
    });
    return running;
  };
  const schedule = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) =>
          log.warn('scheduled snapshots failed; retrying at the next check', {
            reason: safeErrorMessage(error),
          }),
        )
        .finally(() => schedule(every));
    }, delay);
    timer.unref();
  };
  schedule(options.firstCheckMs ?? 60_000);

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running?.catch(() => 0);
    },
  };
}

export interface TrendPoint {
  takenAt: Date;
  trigger: string;
  cameras: number;
  findings: FindingCounts;
}

export interface AuditTrend {
  siteId: string | null;
  /** Oldest first. */
  points: TrendPoint[];
}

/** The organisation's snapshots over time, fleet-wide or for one site, the latest `limit`. */
export async function listAuditTrend(
  db: Database,
  actor: Actor,
  input: { orgId?: string | undefined; siteId?: string | undefined; limit?: number | undefined },
): Promise<AuditTrend> {
  const context = await openAudit(db, actor, input);
  const siteId = context.siteId;
  const rows = await db
    .select({
      takenAt: fleetAuditSnapshots.takenAt,
      trigger: fleetAuditSnapshots.trigger,
      cameraCount: fleetAuditSnapshots.cameraCount,
      totals: fleetAuditSnapshots.totals,
      // Only the one site's entry leaves the database, not every site of every snapshot.
      site:
        siteId === null
          ? sql<unknown>`null`
          : sql<unknown>`${fleetAuditSnapshots.sites} -> ${siteId}::text`,
    })
    .from(fleetAuditSnapshots)
    .where(eq(fleetAuditSnapshots.orgId, context.organisation.id))
    .orderBy(desc(fleetAuditSnapshots.takenAt))
    .limit(input.limit ?? 60);
  const points = rows.reverse().map((row): TrendPoint => {
    if (siteId === null) {
      return {
        takenAt: row.takenAt,
        trigger: row.trigger,
        cameras: row.cameraCount,
        findings: fullCounts(row.totals as Partial<FindingCounts>),
      };
    }
    const entry = SiteEntrySchema.safeParse(row.site);
    return {
      takenAt: row.takenAt,
      trigger: row.trigger,
      cameras: entry.success ? entry.data.cameras : 0,
      findings: fullCounts(entry.success ? entry.data.findings : null),
    };
  });
  return { siteId, points };
}
