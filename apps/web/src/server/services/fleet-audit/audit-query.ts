import {
  AUDIT_FINDINGS,
  DomainError,
  emptyFindingCounts,
  evaluateCameraAudit,
  firmwareBelowFloor,
  isFirmwareBelow,
  staleCutoff,
  type AccessState,
  type AuditFinding,
  type FleetAuditSettings,
} from '@custody/core';
import {
  cameraSiteConflicts,
  cameras,
  commands,
  credentials,
  ownershipRecords,
  sites,
  verifications,
  vmsRegistrations,
} from '@custody/db/schema';
import { and, asc, eq, gt, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';
import { loadAuditSettings } from './audit-settings.ts';
import { orgSitesCondition, resolveAuditOrg, type AuditOrg } from './audit-scope.ts';

export type FindingCounts = Record<AuditFinding, number>;

export interface AuditCounts {
  cameras: number;
  /** Cameras with at least one finding. */
  withFindings: number;
  findings: FindingCounts;
}

export interface AuditSiteSummary extends AuditCounts {
  siteId: string;
  siteName: string;
}

export interface FleetAuditSummary {
  organisation: AuditOrg;
  generatedAt: Date;
  settings: FleetAuditSettings;
  /** The firmware versions of the audited cameras that are below the floor. */
  firmwareBelowFloor: string[];
  /** The one site asked for, or null for the whole fleet. */
  siteId: string | null;
  fleet: AuditCounts & { sites: number };
  /** Sites with at least one camera, by name. */
  sites: AuditSiteSummary[];
}

/** What one audit run compares against: fixed once, so the counts and the list agree. */
export interface AuditContext {
  organisation: AuditOrg;
  settings: FleetAuditSettings;
  now: Date;
  /** Sites the organisation may see, as a condition on `sites`. */
  scope: SQL;
  siteId: string | null;
}

/** The resets the fleet audit counts; the predicate of the commands_reset_serial_idx index. */
const RESET_PREDICATE = sql.raw(
  `status = 'succeeded' and verb in ('factory-default-soft', 'factory-default-hard', 'watch-for-device')`,
);

/** The findings decided in SQL; the firmware floor is compared in core (see countFindings). */
const SQL_FINDINGS = AUDIT_FINDINGS.filter((finding) => finding !== 'firmware-below-floor');
type SqlFinding = Exclude<AuditFinding, 'firmware-below-floor'>;

/**
 * Each finding as a condition on the `cameras` row: the same rules as core's evaluateCameraAudit
 * (the tests hold them together), each answered by a table keyed by serial. Over a whole fleet,
 * PostgreSQL turns each EXISTS into one hash of its table, which is what a count wants. A page of
 * the drill-down reads a few dozen cameras, for which building those hashes costs far more than
 * probing the indexes per camera; but the planner costs the subqueries before it knows the LIMIT
 * will stop the scan early, so `perCamera` adds OFFSET 0 to them, which keeps PostgreSQL from
 * hashing them. Constants are inlined (they are code, not input) so that the partial indexes'
 * predicates match in any plan.
 */
function findingConditions(
  context: AuditContext,
  options: { perCamera: boolean } = { perCamera: false },
): Record<SqlFinding, SQL> {
  const cutoff = staleCutoff({ staleAfterDays: context.settings.staleAfterDays, now: context.now });
  const probe = options.perCamera ? sql` offset 0` : sql``;
  return {
    'no-owner-record': sql`not exists (select 1 from ${ownershipRecords} o where o.serial = ${cameras.serial} and o.superseded_at is null${probe})`,
    'no-documented-credential': sql`not exists (select 1 from ${credentials} k where k.serial = ${cameras.serial} and k.account = 'admin' and k.status = 'active'${probe})`,
    // A finished reset with no passed verification at or after it: then the latest has none
    // either (a reset without a completion time cannot be dated, as in core's rule).
    'unverified-after-reset': sql`exists (select 1 from ${commands} r where r.serial = ${cameras.serial} and r.${RESET_PREDICATE} and r.completed_at is not null and not exists (select 1 from ${verifications} v where v.serial = r.serial and v.passed and v.created_at >= r.completed_at)${probe})`,
    'not-seen': sql`${cameras.lastSeenAt} < ${cutoff.toISOString()}::timestamptz`,
    'not-in-vms': sql`not exists (select 1 from ${vmsRegistrations} m where m.serial = ${cameras.serial}${probe})`,
    'duplicate-serial': sql`exists (select 1 from ${cameraSiteConflicts} d where d.serial = ${cameras.serial}${probe})`,
    'factory-default': sql`${cameras.accessState} = 'needs-setup'`,
  };
}

/** Column names of the per-camera facts: one boolean per finding. */
const FACT_COLUMNS = Object.fromEntries(
  AUDIT_FINDINGS.map((finding) => [finding, finding.replace(/-/g, '_')]),
) as Record<AuditFinding, string>;

function camerasInScope(context: AuditContext): SQL | undefined {
  return and(
    context.scope,
    context.siteId === null ? undefined : eq(cameras.siteId, context.siteId),
  );
}

/** The organisation, its settings and the moment: what an audit compares against. */
export async function prepareAudit(
  db: Executor,
  organisation: AuditOrg,
  options: { siteId?: string | undefined; now?: Date | undefined } = {},
): Promise<AuditContext> {
  return {
    organisation,
    settings: await loadAuditSettings(db, organisation.id),
    now: options.now ?? new Date(),
    scope: orgSitesCondition(db, organisation),
    siteId: options.siteId ?? null,
  };
}

/**
 * Runs `work` in a transaction tuned for the audit's one large query: its plan cost, inflated by
 * the per-camera EXISTS, would otherwise trigger JIT compilation that takes longer than the query
 * itself, and its sort of every camera by site fits in memory.
 */
export async function inAuditTransaction<T>(
  db: Executor,
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '32MB'`);
    return work(tx);
  });
}

const int = (expression: SQL) => sql<number>`(${expression})::int`.mapWith(Number);

/** The firmware versions of the cameras in scope that are below the floor, compared in core. */
async function firmwareVersionsBelowFloor(db: Executor, context: AuditContext) {
  const floor = context.settings.firmwareFloor;
  if (floor === null) return [];
  const versions = await db
    .selectDistinct({ firmware: cameras.firmware })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(and(camerasInScope(context), isNotNull(cameras.firmware)));
  return firmwareBelowFloor(
    versions.flatMap((row) => (row.firmware === null ? [] : [row.firmware])),
    floor,
  ).sort();
}

/**
 * The counts per site in one pass over the cameras in scope, grouped by site and firmware so
 * that core compares each distinct firmware version with the floor once. The per-camera facts
 * are computed in a subquery that OFFSET 0 keeps from being merged into the aggregate, so "with
 * at least one finding" reuses them instead of evaluating every condition again.
 */
export async function countFindings(
  db: Executor,
  context: AuditContext,
): Promise<{ sites: AuditSiteSummary[]; firmwareBelowFloor: string[] }> {
  const conditions = findingConditions(context);
  const facts = db
    .select({
      siteId: cameras.siteId,
      firmware: cameras.firmware,
      ...Object.fromEntries(
        SQL_FINDINGS.map((finding) => [
          finding,
          sql<boolean>`${conditions[finding]}`.as(FACT_COLUMNS[finding]),
        ]),
      ),
    })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(camerasInScope(context));
  const fact = (finding: SqlFinding) => sql`facts.${sql.identifier(FACT_COLUMNS[finding])}`;
  const anyFinding = sql.join(
    SQL_FINDINGS.map((finding) => fact(finding)),
    sql` or `,
  );
  // Grouped by site and firmware first, a hash of a few groups per site; the site names are
  // joined and sorted on those groups rather than on every camera.
  const grouped = db
    .select({
      siteId: sql<string>`facts.site_id`.as('site_id'),
      firmware: sql<string | null>`facts.firmware`.as('firmware'),
      cameras: sql<number>`count(*)::int`.as('cameras'),
      withFindings: sql<number>`(count(*) filter (where ${anyFinding}))::int`.as('with_findings'),
      ...Object.fromEntries(
        SQL_FINDINGS.map((finding) => [
          finding,
          sql<number>`(count(*) filter (where ${fact(finding)}))::int`.as(
            `n_${FACT_COLUMNS[finding]}`,
          ),
        ]),
      ),
    })
    .from(sql`(${facts} offset 0) as facts`)
    .groupBy(sql`facts.site_id`, sql`facts.firmware`)
    .as('grouped');
  const column = (name: string) => sql`grouped.${sql.identifier(name)}`;
  const rows = await db
    .select({
      siteId: sql<string>`${column('site_id')}`,
      siteName: sites.name,
      firmware: sql<string | null>`${column('firmware')}`,
      cameras: sql<number>`${column('cameras')}`.mapWith(Number),
      withFindings: sql<number>`${column('with_findings')}`.mapWith(Number),
      counts: Object.fromEntries(
        SQL_FINDINGS.map((finding) => [
          finding,
          sql<number>`${column(`n_${FACT_COLUMNS[finding]}`)}`.mapWith(Number),
        ]),
      ) as Record<SqlFinding, SQL<number>>,
    })
    .from(grouped)
    .innerJoin(sites, sql`${sites.id} = ${column('site_id')}`)
    .orderBy(asc(sites.name), asc(sites.id));
  const floor = context.settings.firmwareFloor;
  const below = new Set<string>();
  const bySite = new Map<string, AuditSiteSummary>();
  for (const row of rows) {
    let site = bySite.get(row.siteId);
    if (site === undefined) {
      site = {
        siteId: row.siteId,
        siteName: row.siteName,
        cameras: 0,
        withFindings: 0,
        findings: emptyFindingCounts(),
      };
      bySite.set(row.siteId, site);
    }
    const outdated = isFirmwareBelow(row.firmware, floor);
    if (outdated && row.firmware !== null) below.add(row.firmware);
    site.cameras += row.cameras;
    // Every camera of an outdated group has a finding; otherwise those with one in SQL.
    site.withFindings += outdated ? row.cameras : row.withFindings;
    if (outdated) site.findings['firmware-below-floor'] += row.cameras;
    for (const finding of SQL_FINDINGS) site.findings[finding] += row.counts[finding];
  }
  return { sites: [...bySite.values()], firmwareBelowFloor: [...below].sort() };
}

/** Fleet-wide counts: each camera is at one site, so the sites' counts add up. */
export function sumCounts(sitesSummary: readonly AuditCounts[]): AuditCounts {
  const total: AuditCounts = { cameras: 0, withFindings: 0, findings: emptyFindingCounts() };
  for (const site of sitesSummary) {
    total.cameras += site.cameras;
    total.withFindings += site.withFindings;
    for (const finding of AUDIT_FINDINGS) total.findings[finding] += site.findings[finding];
  }
  return total;
}

/** The audit of a prepared context: per-site counts and their fleet-wide sums. */
export async function summarize(db: Executor, context: AuditContext): Promise<FleetAuditSummary> {
  const counted = await inAuditTransaction(db, (tx) => countFindings(tx, context));
  return {
    organisation: context.organisation,
    generatedAt: context.now,
    settings: context.settings,
    firmwareBelowFloor: counted.firmwareBelowFloor,
    siteId: context.siteId,
    fleet: { ...sumCounts(counted.sites), sites: counted.sites.length },
    sites: counted.sites,
  };
}

export interface FleetAuditInput {
  orgId?: string | undefined;
  siteId?: string | undefined;
}

/** The actor's organisation and the site it asks for, checked; the context of the audit. */
export async function openAudit(
  db: Executor,
  actor: Actor,
  input: FleetAuditInput,
  now?: Date,
): Promise<AuditContext> {
  const organisation = resolveAuditOrg(actor, input.orgId);
  const context = await prepareAudit(db, organisation, { siteId: input.siteId, now });
  if (input.siteId !== undefined) {
    const [site] = await db
      .select({ id: sites.id })
      .from(sites)
      .where(and(eq(sites.id, input.siteId), context.scope));
    // Like access.ts: a site outside the organisation's reach reads as a missing one.
    if (site === undefined) {
      throw new DomainError('not-found', 'No such site.', { details: { siteId: input.siteId } });
    }
  }
  return context;
}

/**
 * The fleet documentation audit of the actor's organisation: per site and fleet-wide, how many
 * cameras have each finding, and how many have any.
 */
export async function runFleetAudit(
  db: Executor,
  actor: Actor,
  input: FleetAuditInput = {},
): Promise<FleetAuditSummary> {
  return summarize(db, await openAudit(db, actor, input));
}

/** One camera of the drill-down with its findings. */
export interface AuditedCamera {
  serial: string;
  siteId: string;
  siteName: string;
  model: string | null;
  firmware: string | null;
  accessState: AccessState | null;
  lastSeenAt: Date;
  findings: AuditFinding[];
}

export interface FindingsPage {
  items: AuditedCamera[];
  /** The serial to pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface FindingsQuery {
  finding?: AuditFinding | undefined;
  /** The last serial of the previous page. */
  cursor?: string | undefined;
  /** Null: every camera (exports). */
  limit: number | null;
}

/**
 * Cameras with a finding (the one asked for, or any), by serial. The facts of each camera on
 * the page are read here and judged by core's evaluateCameraAudit, so the list shows why.
 */
export async function queryFindings(
  db: Executor,
  context: AuditContext,
  query: FindingsQuery,
): Promise<FindingsPage> {
  // The versions below the floor are only needed when the firmware finding is asked for.
  const below =
    query.finding === undefined || query.finding === 'firmware-below-floor'
      ? await firmwareVersionsBelowFloor(db, context)
      : [];
  const conditions: Record<AuditFinding, SQL> = {
    ...findingConditions(context, { perCamera: query.limit !== null }),
    'firmware-below-floor': below.length === 0 ? sql`false` : inArray(cameras.firmware, below),
  };
  const wanted =
    query.finding === undefined
      ? or(...AUDIT_FINDINGS.map((finding) => conditions[finding]))
      : conditions[query.finding];
  let rows = db
    .select({
      serial: cameras.serial,
      siteId: cameras.siteId,
      siteName: sites.name,
      model: cameras.model,
      firmware: cameras.firmware,
      accessState: cameras.accessState,
      lastSeenAt: cameras.lastSeenAt,
      hasOwnerRecord: sql<boolean>`not (${conditions['no-owner-record']})`,
      hasDocumentedCredential: sql<boolean>`not (${conditions['no-documented-credential']})`,
      lastResetAt:
        sql<Date | null>`(select max(r.completed_at) from ${commands} r where r.serial = ${cameras.serial} and r.${RESET_PREDICATE})`.mapWith(
          commands.completedAt,
        ),
      lastVerifiedAt:
        sql<Date | null>`(select max(v.created_at) from ${verifications} v where v.serial = ${cameras.serial} and v.passed)`.mapWith(
          verifications.createdAt,
        ),
      inVms: sql<boolean>`not (${conditions['not-in-vms']})`,
      duplicateSightings: int(
        sql`(select count(*) from ${cameraSiteConflicts} d where d.serial = ${cameras.serial})`,
      ),
    })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(
      and(
        camerasInScope(context),
        query.cursor === undefined ? undefined : gt(cameras.serial, query.cursor),
        wanted,
      ),
    )
    .orderBy(asc(cameras.serial))
    .$dynamic();
  if (query.limit !== null) rows = rows.limit(query.limit + 1);
  const found = await rows;
  const page = query.limit === null ? found : found.slice(0, query.limit);
  const rules = {
    firmwareFloor: context.settings.firmwareFloor,
    staleAfterDays: context.settings.staleAfterDays,
    now: context.now,
  };
  const items = page.map((row): AuditedCamera => ({
    serial: row.serial,
    siteId: row.siteId,
    siteName: row.siteName,
    model: row.model,
    firmware: row.firmware,
    accessState: row.accessState,
    lastSeenAt: row.lastSeenAt,
    findings: evaluateCameraAudit(
      {
        hasOwnerRecord: Boolean(row.hasOwnerRecord),
        hasDocumentedCredential: Boolean(row.hasDocumentedCredential),
        lastResetAt: row.lastResetAt,
        lastVerifiedAt: row.lastVerifiedAt,
        lastSeenAt: row.lastSeenAt,
        inVms: Boolean(row.inVms),
        firmware: row.firmware,
        duplicateSightings: row.duplicateSightings,
        accessState: row.accessState,
      },
      rules,
    ),
  }));
  const last = page.at(-1);
  return {
    items,
    nextCursor: query.limit !== null && found.length > query.limit && last ? last.serial : null,
  };
}

export interface ListFindingsInput extends FleetAuditInput {
  finding?: AuditFinding | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The drill-down: a page of the cameras behind a count of the audit. */
export async function listFindings(
  db: Executor,
  actor: Actor,
  input: ListFindingsInput,
): Promise<FindingsPage> {
  const context = await openAudit(db, actor, input);
  return inAuditTransaction(db, (tx) => queryFindings(tx, context, input));
}
