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
 * index (lower(serial), lower(model), lower(product_name) with gin_trgm_ops), so PostgreSQL
 * answers with a BitmapOr over the three indexes instead of scanning every camera. A serial is
 * searched without separators, so "ac:cc:8e" finds ACCC8E012345.
 */
export function fleetSearchCondition(q: string): SQL | undefined {
  const text = q.trim().toLowerCase();
  if (text === '') return undefined;
  const branches: SQL[] = [
    sql`lower(${cameras.model}) like ${likeContaining(text)}`,
    sql`lower(${cameras.productName}) like ${likeContaining(text)}`,
  ];
  const serial = text.replace(/[\s:.-]/g, '');
  if (/^[0-9a-f]+$/.test(serial))
    branches.push(sql`lower(${cameras.serial}) like ${likeContaining(serial)}`);
  return or(...branches);
}

function secondsAgo(seconds: number): SQL {
  return sql`now() - ${seconds} * interval '1 second'`;
}

/** The fleet filters as SQL conditions on `cameras` (no tenancy: callers add it). */
export function filterConditions(
  query: Pick<
    FleetQuery,
    'siteId' | 'accessState' | 'model' | 'firmware' | 'seenWithin' | 'notSeenFor' | 'presence' | 'q'
  >,
): (SQL | undefined)[] {
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

const FIRMWARE_RANKS = 'firmware_ranks';

/**
 * Each firmware version among the cameras `where` matches, with its place in version order:
 * numbers compare as numbers, so 9.80 comes before 11.11.73 before 12.0, and equal numbers fall
 * back to the text. Splitting a version into numbers costs far more than comparing them, and a
 * fleet has a few dozen versions across many thousands of cameras, so the split is done once per
 * version here rather than once per camera in the ORDER BY.
 */
function firmwareRanks(db: Database, where: SQL | undefined) {
  const versions = db
    .selectDistinct({ firmware: cameras.firmware })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(and(where, isNotNull(cameras.firmware)))
    .as('firmware_versions');
  const numbers = sql`array_remove(regexp_split_to_array(${versions.firmware}, '[^0-9]+'), '')::numeric[]`;
  return db
    .select({
      firmware: versions.firmware,
      position: sql<number>`row_number() over (order by ${numbers}, ${versions.firmware})`.as(
        'position',
      ),
    })
    .from(versions)
    .as(FIRMWARE_RANKS);
}

type FirmwareRanks = ReturnType<typeof firmwareRanks>;

/**
 * ORDER BY terms: the chosen key (empty values last either way), then the serial. NULLS LAST
 * rather than an `is null` term first, so that an index on (key, serial) can serve the order.
 */
function orderTerms(sort: FleetSort, dir: 'asc' | 'desc', ranks: FirmwareRanks | null): SQL[] {
  const by = dir === 'asc' ? asc : desc;
  const nullsLast = (column: AnyColumn | SQL) => sql`${column} ${sql.raw(dir)} nulls last`;
  const keys: Record<FleetSort, SQL[]> = {
    serial: [],
    model: [nullsLast(cameras.model)],
    // A camera without firmware has no rank. Qualified: drizzle names a subquery's field bare.
    firmware:
      ranks === null
        ? []
        : [nullsLast(sql`${sql.identifier(FIRMWARE_RANKS)}.${sql.identifier('position')}`)],
    lastSeen: [by(cameras.lastSeenAt)],
    site: [by(sites.name), by(sites.id)],
    accessState: [nullsLast(cameras.accessState)],
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
  const ranks = query.sort === 'firmware' ? firmwareRanks(db, where) : null;
  let page = db
    .select(fleetCameraColumns)
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .$dynamic();
  if (ranks !== null) page = page.leftJoin(ranks, eq(ranks.firmware, cameras.firmware));
  // Independent, so they run side by side on two pooled connections: over a large fleet each
  // reads every matching camera, and the page waits for the slower one instead of the sum.
  const [[counted], items] = await Promise.all([
    db
      .select({ total: count() })
      .from(cameras)
      .innerJoin(sites, eq(sites.id, cameras.siteId))
      .where(where),
    page
      .where(where)
      .orderBy(...orderTerms(query.sort, query.dir, ranks))
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
  ]);
  const total = counted?.total ?? 0;
  const pageCount = Math.max(1, Math.ceil(total / query.pageSize));
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
  // Side by side on pooled connections: each distinct reads every camera the actor may see.
  const [siteRows, models, firmware] = await Promise.all([
    db
      .select({ id: sites.id, name: sites.name })
      .from(sites)
      .where(accessible)
      .orderBy(asc(sites.name), asc(sites.id)),
    distinct(cameras.model),
    distinct(cameras.firmware),
  ]);
  return { sites: siteRows, models, firmware };
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

/** These cameras, for live updates (no tenancy: the caller filters). */
export async function fleetCamerasBySerials(
  db: Database,
  serials: readonly string[],
): Promise<FleetCamera[]> {
  if (serials.length === 0) return [];
  return db
    .select(fleetCameraColumns)
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(inArray(cameras.serial, [...serials]));
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
