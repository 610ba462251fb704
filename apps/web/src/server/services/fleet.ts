import type { AccessState } from '@custody/core';
import type { Database } from '@custody/db';
import { cameras, sites } from '@custody/db/schema';
import {
  and,
  asc,
  count,
  desc,
  eq,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  or,
  sql,
  type AnyColumn,
  type SQL,
} from 'drizzle-orm';
import { accessibleSitesCondition, requireAccessibleSite } from './access.ts';
import type { Actor } from './actor.ts';
import { durationSeconds, type FleetQuery, type FleetSort } from './fleet-query.ts';

/** One camera as the inventory lists it (and as live updates carry it). */
export interface FleetCamera {
  serial: string;
  siteId: string;
  siteName: string;
  model: string | null;
  productName: string | null;
  firmware: string | null;
  address: string | null;
  accessState: AccessState | null;
  lastSeenAt: Date;
  lostAt: Date | null;
  agentId: string | null;
}

export interface FleetPage {
  items: FleetCamera[];
  /** Cameras matching the filters, on every page. */
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

const fleetCameraColumns = {
  serial: cameras.serial,
  siteId: cameras.siteId,
  siteName: sites.name,
  model: cameras.model,
  productName: cameras.productName,
  firmware: cameras.firmware,
  address: cameras.address,
  accessState: cameras.accessState,
  lastSeenAt: cameras.lastSeenAt,
  lostAt: cameras.lostAt,
  agentId: cameras.agentId,
};

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
function likeContaining(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * Part of a serial, a model or a product name. Each branch has the exact shape of a trigram
 * index (serial, lower(model), lower(product_name) with gin_trgm_ops), so PostgreSQL answers
 * with a BitmapOr over the three indexes instead of scanning every camera. A serial is searched
 * without separators and upper-cased, so "ac:cc:8e" finds ACCC8E012345.
 */
export function fleetSearchCondition(q: string): SQL | undefined {
  const text = q.trim().toLowerCase();
  if (text === '') return undefined;
  const branches: SQL[] = [
    sql`lower(${cameras.model}) like ${likeContaining(text)}`,
    sql`lower(${cameras.productName}) like ${likeContaining(text)}`,
  ];
  const serial = text.replace(/[\s:.-]/g, '').toUpperCase();
  if (/^[0-9A-F]+$/.test(serial))
    branches.push(sql`${cameras.serial} like ${likeContaining(serial)}`);
  return or(...branches);
}

function secondsAgo(seconds: number): SQL {
  return sql`now() - ${seconds} * interval '1 second'`;
}

function filterConditions(query: FleetQuery): (SQL | undefined)[] {
  return [
    query.siteId === undefined ? undefined : eq(cameras.siteId, query.siteId),
    query.accessState === undefined
      ? undefined
      : query.accessState === 'unknown'
        ? isNull(cameras.accessState)
        : eq(cameras.accessState, query.accessState),
    query.model === undefined ? undefined : eq(cameras.model, query.model),
    query.firmware === undefined ? undefined : eq(cameras.firmware, query.firmware),
    query.seenWithin === undefined
      ? undefined
      : gte(cameras.lastSeenAt, secondsAgo(durationSeconds(query.seenWithin))),
    query.notSeenFor === undefined
      ? undefined
      : lt(cameras.lastSeenAt, secondsAgo(durationSeconds(query.notSeenFor))),
    query.presence === 'present'
      ? isNull(cameras.lostAt)
      : query.presence === 'lost'
        ? isNotNull(cameras.lostAt)
        : undefined,
    query.q === undefined ? undefined : fleetSearchCondition(query.q),
  ];
}

/** Version numbers compare as numbers: 9.80 before 11.11.73 before 12.0. */
const firmwareOrder = sql`array(select part::numeric from unnest(regexp_split_to_array(${cameras.firmware}, '[^0-9]+')) as part where part <> '')`;

/** ORDER BY terms: the chosen key (empty values last either way), then the serial. */
function orderTerms(sort: FleetSort, dir: 'asc' | 'desc'): SQL[] {
  const by = dir === 'asc' ? asc : desc;
  const nullsLast = (column: AnyColumn) => [sql`${column} is null`, by(column)];
  const keys: Record<FleetSort, SQL[]> = {
    serial: [],
    model: nullsLast(cameras.model),
    firmware: [sql`${cameras.firmware} is null`, by(firmwareOrder), by(cameras.firmware)],
    lastSeen: [by(cameras.lastSeenAt)],
    site: [by(sites.name), by(sites.id)],
    accessState: nullsLast(cameras.accessState),
  };
  return [...keys[sort], by(cameras.serial)];
}

/**
 * One page of the cameras the actor may see, filtered and sorted on the server, with the total
 * the filters match. Offset paging: pages are addressable (page=7 in a shared link) and the
 * ordering always ends in the serial, so rows never repeat or vanish between pages.
 */
export async function listFleet(db: Database, actor: Actor, query: FleetQuery): Promise<FleetPage> {
  if (query.siteId !== undefined) await requireAccessibleSite(db, actor, query.siteId);
  const where = and(accessibleSitesCondition(db, actor), ...filterConditions(query));
  const [counted] = await db
    .select({ total: count() })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(where);
  const total = counted?.total ?? 0;
  const pageCount = Math.max(1, Math.ceil(total / query.pageSize));
  const items =
    total === 0
      ? []
      : await db
          .select(fleetCameraColumns)
          .from(cameras)
          .innerJoin(sites, eq(sites.id, cameras.siteId))
          .where(where)
          .orderBy(...orderTerms(query.sort, query.dir))
          .limit(query.pageSize)
          .offset((query.page - 1) * query.pageSize);
  return { items, total, page: query.page, pageSize: query.pageSize, pageCount };
}

export interface FleetFacets {
  sites: { id: string; name: string }[];
  models: string[];
  firmware: string[];
}

const MAX_FACET_VALUES = 500;

/** The values the fleet's filters can take: accessible sites, and the models and firmware seen. */
export async function fleetFacets(
  db: Database,
  actor: Actor,
  input: { siteId?: string | undefined } = {},
): Promise<FleetFacets> {
  if (input.siteId !== undefined) await requireAccessibleSite(db, actor, input.siteId);
  const accessible = accessibleSitesCondition(db, actor);
  const ofSite = input.siteId === undefined ? undefined : eq(cameras.siteId, input.siteId);
  const distinct = async (column: typeof cameras.model | typeof cameras.firmware) => {
    const rows = await db
      .selectDistinct({ value: column })
      .from(cameras)
      .innerJoin(sites, eq(sites.id, cameras.siteId))
      .where(and(accessible, ofSite, isNotNull(column)))
      .orderBy(asc(column))
      .limit(MAX_FACET_VALUES);
    return rows.flatMap((row) => (row.value === null ? [] : [row.value]));
  };
  const siteRows = await db
    .select({ id: sites.id, name: sites.name })
    .from(sites)
    .where(accessible)
    .orderBy(asc(sites.name), asc(sites.id));
  return {
    sites: siteRows,
    models: await distinct(cameras.model),
    firmware: await distinct(cameras.firmware),
  };
}

/** Every camera of the given sites, for live updates (no tenancy: the caller filters). */
export async function fleetCamerasOfSites(
  db: Database,
  siteIds: readonly string[],
): Promise<FleetCamera[]> {
  if (siteIds.length === 0) return [];
  return db
    .select(fleetCameraColumns)
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(inArray(cameras.siteId, [...siteIds]));
}

/** Which of `siteIds` the actor may see now (a grant revoked a moment ago counts at once). */
export async function accessibleAmong(
  db: Database,
  actor: Actor,
  siteIds: readonly string[],
): Promise<Set<string>> {
  if (siteIds.length === 0) return new Set();
  const rows = await db
    .select({ id: sites.id })
    .from(sites)
    .where(and(inArray(sites.id, [...siteIds]), accessibleSitesCondition(db, actor)));
  return new Set(rows.map((row) => row.id));
}
