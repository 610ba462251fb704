import { and, asc, desc, eq, inArray, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import {
  ACCESS_STATES,
  CASE_STATES,
  DomainError,
  SerialSchema,
  TERMINAL_CASE_STATES,
  isDomainError,
  listNextActions,
  type NextAction,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import { accessibleSitesCondition, requireAccessibleSite } from '../access.ts';
import type { Actor } from '../actor.ts';
import { fleetSearchCondition } from '../fleet.ts';
import { requireActingOrg, CASE_WORKER_ROLES } from './case-access.ts';
import { openCase, toCaseRecord, type CaseRecord } from './case-store.ts';

const { cameras, cases, sites, users } = schema;

/** Opens the case for one camera the actor works on. */
export async function openCaseForCamera(
  db: Database,
  actor: Actor,
  input: { serial: string },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const [camera] = await tx
      .select({ serial: cameras.serial, site: sites })
      .from(cameras)
      .innerJoin(sites, eq(sites.id, cameras.siteId))
      .where(and(eq(cameras.serial, input.serial), accessibleSitesCondition(tx, actor)));
    if (camera === undefined) {
      throw new DomainError('not-found', 'No such camera.', { details: { serial: input.serial } });
    }
    const orgId = await requireActingOrg(tx, actor, camera.site, CASE_WORKER_ROLES, 'open a case');
    return openCase(tx, {
      serial: camera.serial,
      actor: { kind: 'user', id: actor.userId },
      orgId,
    });
  });
}

export const MAX_BULK_CASES = 200;

export const BulkOpenInputSchema = z
  .object({
    siteId: z.uuid(),
    /** These cameras of the site… */
    serials: z.array(SerialSchema).min(1).max(MAX_BULK_CASES).optional(),
    /** …or every camera of the site matching this filter. */
    filter: z
      .object({
        accessStates: z.array(z.enum(ACCESS_STATES)).max(ACCESS_STATES.length).optional(),
        q: z.string().trim().max(100).optional(),
      })
      .optional(),
  })
  .refine((input) => (input.serials === undefined) !== (input.filter === undefined), {
    message: 'Give either the serials or a filter.',
    path: ['serials'],
  });
export type BulkOpenInput = z.input<typeof BulkOpenInputSchema>;

export interface BulkOpenResult {
  opened: { serial: string; caseId: string }[];
  skipped: { serial: string; reason: string; caseId: string | null }[];
  /** Cameras that matched beyond MAX_BULK_CASES and were left for another run. */
  remaining: number;
}

/**
 * Opens a case for each selected camera of a site (or each one matching a filter). Cameras that
 * already have an open case are skipped and named, not an error: a bulk run is safe to repeat.
 */
export async function openCasesForSite(
  db: Database,
  actor: Actor,
  input: BulkOpenInput,
): Promise<BulkOpenResult> {
  const parsed = BulkOpenInputSchema.parse(input);
  const site = await requireAccessibleSite(db, actor, parsed.siteId);
  const orgId = await requireActingOrg(db, actor, site, CASE_WORKER_ROLES, 'open cases');
  const conditions: (SQL | undefined)[] = [eq(cameras.siteId, site.id), isNull(cameras.lostAt)];
  if (parsed.serials !== undefined) {
    conditions.push(inArray(cameras.serial, parsed.serials));
  } else {
    const states = parsed.filter?.accessStates ?? [];
    if (states.length > 0) conditions.push(inArray(cameras.accessState, states));
    if (parsed.filter?.q) conditions.push(fleetSearchCondition(parsed.filter.q));
  }
  const matching = await db
    .select({ serial: cameras.serial })
    .from(cameras)
    .where(and(...conditions))
    .orderBy(asc(cameras.serial))
    .limit(MAX_BULK_CASES + 1000);
  const result: BulkOpenResult = { opened: [], skipped: [], remaining: 0 };
  if (parsed.serials !== undefined) {
    const found = new Set(matching.map((row) => row.serial));
    for (const serial of parsed.serials) {
      if (!found.has(serial)) {
        result.skipped.push({ serial, reason: 'Not a present camera of this site.', caseId: null });
      }
    }
  }
  const batch = matching.slice(0, MAX_BULK_CASES);
  result.remaining = matching.length - batch.length;
  for (const { serial } of batch) {
    try {
      const record = await db.transaction((tx) =>
        openCase(tx, { serial, actor: { kind: 'user', id: actor.userId }, orgId }),
      );
      result.opened.push({ serial, caseId: record.id });
    } catch (error) {
      if (!isDomainError(error, 'conflict')) throw error;
      const caseId = error.details.caseId;
      result.skipped.push({
        serial,
        reason:
          error.details.rotationJobId === undefined
            ? 'It already has an open case.'
            : 'Its password is being rotated.',
        caseId: typeof caseId === 'string' ? caseId : null,
      });
    }
  }
  return result;
}

export const CASE_LIST_STATUSES = ['open', 'closed', ...CASE_STATES] as const;

export const ListCasesInputSchema = z.object({
  siteId: z.uuid().optional(),
  status: z.enum(CASE_LIST_STATUSES).optional(),
  q: z.string().trim().max(100).optional(),
  limit: z.int().min(1).max(200).default(50),
  /** Page back from the last case seen (updated_at, id). */
  cursor: z.object({ updatedAt: z.date(), id: z.uuid() }).optional(),
});
export type ListCasesInput = z.input<typeof ListCasesInputSchema>;

export interface CaseListItem {
  id: string;
  serial: string;
  siteId: string;
  siteName: string;
  model: string | null;
  status: CaseRecord['status'];
  path: 'credential-cleanup' | 'recommission' | null;
  openedAt: Date;
  openedByName: string | null;
  updatedAt: Date;
  next: NextAction | null;
}

export interface CaseListPage {
  items: CaseListItem[];
  nextCursor: { updatedAt: Date; id: string } | null;
}

/** The cases on the actor's sites, most recently changed first. */
export async function listCases(
  db: Database,
  actor: Actor,
  input: ListCasesInput,
): Promise<CaseListPage> {
  const parsed = ListCasesInputSchema.parse(input);
  if (parsed.siteId !== undefined) await requireAccessibleSite(db, actor, parsed.siteId);
  const terminal = [...TERMINAL_CASE_STATES];
  const statusCondition =
    parsed.status === undefined
      ? undefined
      : parsed.status === 'open'
        ? notInArray(cases.status, terminal)
        : parsed.status === 'closed'
          ? inArray(cases.status, terminal)
          : eq(cases.status, parsed.status);
  const cursor = parsed.cursor;
  const rows = await db
    .select({
      caseRow: cases,
      siteName: sites.name,
      model: cameras.model,
      openedByName: users.name,
    })
    .from(cases)
    .innerJoin(sites, eq(sites.id, cases.siteId))
    .innerJoin(cameras, eq(cameras.serial, cases.serial))
    .leftJoin(users, eq(users.id, cases.openedBy))
    .where(
      and(
        accessibleSitesCondition(db, actor),
        parsed.siteId === undefined ? undefined : eq(cases.siteId, parsed.siteId),
        statusCondition,
        parsed.q ? fleetSearchCondition(parsed.q) : undefined,
        cursor === undefined
          ? undefined
          : or(
              sql`${cases.updatedAt} < ${cursor.updatedAt.toISOString()}::timestamptz`,
              and(
                sql`${cases.updatedAt} = ${cursor.updatedAt.toISOString()}::timestamptz`,
                sql`${cases.id} < ${cursor.id}`,
              ),
            ),
      ),
    )
    .orderBy(desc(cases.updatedAt), desc(cases.id))
    .limit(parsed.limit + 1);
  const items = rows.slice(0, parsed.limit).map((row): CaseListItem => {
    const record = toCaseRecord(row.caseRow);
    return {
      id: record.id,
      serial: record.serial,
      siteId: record.siteId,
      siteName: row.siteName,
      model: row.model,
      status: record.status,
      path:
        'path' in record.state
          ? record.state.path
          : record.details.triage?.path === 'blocked'
            ? null
            : (record.details.triage?.path ?? null),
      openedAt: record.openedAt,
      openedByName: row.openedByName,
      updatedAt: record.updatedAt,
      next: listNextActions(record.state)[0] ?? null,
    };
  });
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > parsed.limit && last !== undefined
        ? { updatedAt: last.updatedAt, id: last.id }
        : null,
  };
}
