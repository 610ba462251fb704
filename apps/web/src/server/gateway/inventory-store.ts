import { and, eq, inArray, isNull, lt, lte, ne, sql } from 'drizzle-orm';
import type { CameraSighting } from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';

const { cameraAddresses, cameraSiteConflicts, cameras, inventorySnapshotParts } = schema;

/** The agent whose messages are applied: it may only write cameras of its own site. */
export interface AgentScope {
  agentId: string;
  siteId: string;
}

export interface SightingsApplied {
  /** Cameras inserted or updated. */
  applied: number;
  /** Their serials. */
  serials: string[];
  /** Serials registered to another site: recorded as conflicts, the camera left alone. */
  conflicts: number;
}

/** The host of an http(s) URL as an address: IPv6 without its brackets. */
export function addressOfUrl(url: string): string {
  const { hostname } = new URL(url);
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/** One sighting per serial (the most recent), with a time no later than `now`. */
function latestPerSerial(sightings: readonly CameraSighting[], now: Date) {
  const bySerial = new Map<string, CameraSighting & { seen: Date }>();
  for (const sighting of sightings) {
    // An agent clock ahead of ours must not make a sighting win over every later one.
    const seen = new Date(Math.min(Date.parse(sighting.seenAt), now.getTime()));
    const known = bySerial.get(sighting.serial);
    if (known === undefined || known.seen <= seen)
      bySerial.set(sighting.serial, { ...sighting, seen });
  }
  return [...bySerial.values()];
}

/**
 * Upserts sightings into cameras and camera_addresses, a few multi-row statements whatever their
 * number. A sighting replaces what is known of the camera, except that identity and access
 * fields the agent has not read yet (null) keep their known value, and a sighting older than the
 * stored one (a late replay) changes nothing. A camera of another site is never taken over.
 */
export async function applySightings(
  db: Database,
  scope: AgentScope,
  sightings: readonly CameraSighting[],
  now: Date,
): Promise<SightingsApplied> {
  if (sightings.length === 0) return { applied: 0, serials: [], conflicts: 0 };
  const latest = latestPerSerial(sightings, now);
  const updated = await db
    .insert(cameras)
    .values(
      latest.map((sighting) => ({
        serial: sighting.serial,
        siteId: scope.siteId,
        model: sighting.model,
        productName: sighting.productName,
        firmware: sighting.firmware,
        hardwareId: sighting.hardwareId,
        mac: sighting.mac,
        address: sighting.address,
        url: sighting.url,
        source: sighting.source,
        accessState: sighting.accessState,
        agentId: scope.agentId,
        firstSeenAt: sighting.seen,
        lastSeenAt: sighting.seen,
        lostAt: null,
      })),
    )
    .onConflictDoUpdate({
      target: cameras.serial,
      set: {
        model: sql`coalesce(excluded.model, ${cameras.model})`,
        productName: sql`coalesce(excluded.product_name, ${cameras.productName})`,
        firmware: sql`coalesce(excluded.firmware, ${cameras.firmware})`,
        hardwareId: sql`coalesce(excluded.hardware_id, ${cameras.hardwareId})`,
        mac: sql`coalesce(excluded.mac, ${cameras.mac})`,
        accessState: sql`coalesce(excluded.access_state, ${cameras.accessState})`,
        address: sql`excluded.address`,
        url: sql`excluded.url`,
        source: sql`excluded.source`,
        agentId: sql`excluded.agent_id`,
        lastSeenAt: sql`excluded.last_seen_at`,
        lostAt: sql`null`,
      },
      setWhere: sql`${cameras.siteId} = excluded.site_id and ${cameras.lastSeenAt} <= excluded.last_seen_at`,
    })
    .returning({ serial: cameras.serial });

  const appliedSerials = new Set(updated.map((row) => row.serial));
  const applied = latest.filter((sighting) => appliedSerials.has(sighting.serial));
  if (applied.length > 0) {
    await db
      .insert(cameraAddresses)
      .values(
        applied.map((sighting) => ({
          serial: sighting.serial,
          address: sighting.address,
          source: sighting.source,
          firstSeenAt: sighting.seen,
          lastSeenAt: sighting.seen,
        })),
      )
      .onConflictDoUpdate({
        target: [cameraAddresses.serial, cameraAddresses.address],
        set: {
          source: sql`excluded.source`,
          lastSeenAt: sql`greatest(${cameraAddresses.lastSeenAt}, excluded.last_seen_at)`,
        },
      });
  }

  const serials = applied.map((sighting) => sighting.serial);
  const skipped = latest.filter((sighting) => !appliedSerials.has(sighting.serial));
  if (skipped.length === 0) return { applied: applied.length, serials, conflicts: 0 };
  const foreign = await db
    .select({ serial: cameras.serial })
    .from(cameras)
    .where(
      and(
        inArray(
          cameras.serial,
          skipped.map((sighting) => sighting.serial),
        ),
        ne(cameras.siteId, scope.siteId),
      ),
    );
  const foreignSerials = new Set(foreign.map((row) => row.serial));
  const conflicts = skipped.filter((sighting) => foreignSerials.has(sighting.serial));
  if (conflicts.length > 0) {
    await db
      .insert(cameraSiteConflicts)
      .values(
        conflicts.map((sighting) => ({
          serial: sighting.serial,
          agentId: scope.agentId,
          siteId: scope.siteId,
          url: sighting.url,
          address: sighting.address,
          firstSeenAt: sighting.seen,
          lastSeenAt: sighting.seen,
        })),
      )
      .onConflictDoUpdate({
        target: [cameraSiteConflicts.serial, cameraSiteConflicts.agentId],
        set: {
          siteId: sql`excluded.site_id`,
          url: sql`excluded.url`,
          address: sql`excluded.address`,
          lastSeenAt: sql`greatest(${cameraSiteConflicts.lastSeenAt}, excluded.last_seen_at)`,
        },
      });
  }
  return { applied: applied.length, serials, conflicts: conflicts.length };
}

/** Marks cameras of the agent's site as no longer seen (never deleted). Returns their serials. */
export async function markCamerasLost(
  db: Database,
  scope: AgentScope,
  serials: readonly string[],
  at: Date,
): Promise<string[]> {
  if (serials.length === 0) return [];
  const lost = await db
    .update(cameras)
    .set({ lostAt: at })
    .where(
      and(
        eq(cameras.siteId, scope.siteId),
        inArray(cameras.serial, [...new Set(serials)]),
        isNull(cameras.lostAt),
        lte(cameras.lastSeenAt, at),
      ),
    )
    .returning({ serial: cameras.serial });
  return lost.map((row) => row.serial);
}

export interface SnapshotPart {
  snapshotId: string;
  part: number;
  parts: number;
  serials: string[];
  sentAt: Date;
}

/**
 * Records one part of a snapshot. When it completes the snapshot, the cameras this agent
 * reported that the snapshot no longer contains (and that were not seen since it began) are
 * marked lost, and the parts are forgotten. Returns whether the snapshot is complete, and the
 * serials it marked lost.
 */
export async function recordSnapshotPart(
  db: Database,
  scope: AgentScope,
  part: SnapshotPart,
): Promise<{ complete: boolean; lost: string[] }> {
  const ofSnapshot = and(
    eq(inventorySnapshotParts.agentId, scope.agentId),
    eq(inventorySnapshotParts.snapshotId, part.snapshotId),
  );
  await db
    .insert(inventorySnapshotParts)
    .values({ agentId: scope.agentId, ...part })
    .onConflictDoNothing();
  const [progress] = await db
    .select({ received: sql<number>`count(*)::int` })
    .from(inventorySnapshotParts)
    .where(ofSnapshot);
  if (progress === undefined || progress.received < part.parts)
    return { complete: false, lost: [] };
  const lost = await db
    .update(cameras)
    .set({ lostAt: part.sentAt })
    .where(
      and(
        eq(cameras.siteId, scope.siteId),
        eq(cameras.agentId, scope.agentId),
        isNull(cameras.lostAt),
        lt(
          cameras.lastSeenAt,
          sql`(select min(${inventorySnapshotParts.sentAt}) from ${inventorySnapshotParts} where ${ofSnapshot})`,
        ),
        sql`${cameras.serial} not in (select unnest(${inventorySnapshotParts.serials}) from ${inventorySnapshotParts} where ${ofSnapshot})`,
      ),
    )
    .returning({ serial: cameras.serial });
  await db.delete(inventorySnapshotParts).where(ofSnapshot);
  return { complete: true, lost: lost.map((row) => row.serial) };
}
