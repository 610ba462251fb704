import { DomainError, type AccessState, type AgentStatus } from '@custody/core';
import type { Database } from '@custody/db';
import {
  agents,
  cameraAddresses,
  cameraSiteConflicts,
  cameras,
  commands,
  organisations,
  ownershipRecords,
  sites,
  users,
} from '@custody/db/schema';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { accessibleSitesCondition } from './access.ts';
import type { Actor } from './actor.ts';

/** A command about one camera, without its parameters or payload. */
export interface CameraCommandView {
  id: string;
  agentId: string;
  siteId: string;
  serial: string | null;
  verb: string;
  status: string;
  requestedByName: string | null;
  queuedAt: Date;
  dispatchedAt: Date | null;
  ackedAt: Date | null;
  completedAt: Date | null;
  /** The latest progress the agent reported. */
  progress: { step: string; message: string; fraction?: number } | null;
  error: { code: string; message: string } | null;
}

export interface CameraAddressView {
  address: string;
  source: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  current: boolean;
}

export type TimelineEntry =
  | { kind: 'discovered'; at: Date; address: string; source: string }
  | { kind: 'address'; at: Date; address: string; source: string }
  | { kind: 'lost'; at: Date }
  | { kind: 'seen-elsewhere'; at: Date; siteName: string; address: string }
  | { kind: 'ownership'; at: Date; ownerName: string; attestedByName: string | null }
  | { kind: 'command-queued'; at: Date; command: CameraCommandView }
  | { kind: 'command-finished'; at: Date; command: CameraCommandView };

export interface CameraDetail {
  serial: string;
  mac: string | null;
  model: string | null;
  productName: string | null;
  firmware: string | null;
  hardwareId: string | null;
  accessState: AccessState | null;
  address: string | null;
  url: string | null;
  source: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  lostAt: Date | null;
  site: { id: string; name: string; ownerOrgId: string; ownerName: string };
  /** The current ownership record, when one was attested. */
  ownership: {
    ownerName: string;
    circumstances: string;
    attestedByName: string | null;
    attestedAt: Date;
  } | null;
  agent: {
    id: string;
    name: string;
    status: AgentStatus;
    lastSeenAt: Date | null;
    revokedAt: Date | null;
  } | null;
  addresses: CameraAddressView[];
  commands: CameraCommandView[];
  /** Newest first. */
  timeline: TimelineEntry[];
}

const MAX_COMMANDS = 200;

const requester = alias(users, 'requester');

const commandColumns = {
  id: commands.id,
  agentId: commands.agentId,
  siteId: agents.siteId,
  serial: commands.serial,
  verb: commands.verb,
  status: commands.status,
  requestedByName: requester.name,
  queuedAt: commands.queuedAt,
  dispatchedAt: commands.dispatchedAt,
  ackedAt: commands.ackedAt,
  completedAt: commands.completedAt,
  progress: commands.progress,
  error: commands.error,
};

interface CommandRow extends Omit<CameraCommandView, 'progress' | 'error'> {
  progress: unknown;
  error: unknown;
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Only the fields a person needs: a stored error may carry more (the agent's outcome). */
function toCommandView(row: CommandRow): CameraCommandView {
  const progress = row.progress as Record<string, unknown> | null;
  const error = row.error as Record<string, unknown> | null;
  const step = textOf(progress?.step);
  const fraction = progress?.fraction;
  return {
    ...row,
    progress:
      step === null
        ? null
        : {
            step,
            message: textOf(progress?.message) ?? '',
            ...(typeof fraction === 'number' ? { fraction } : {}),
          },
    error:
      error === null
        ? null
        : { code: textOf(error.code) ?? 'unknown', message: textOf(error.message) ?? '' },
  };
}

/** Commands by id, for live updates (no tenancy: the caller filters by site). */
export async function commandViewsByIds(
  db: Database,
  commandIds: readonly string[],
): Promise<CameraCommandView[]> {
  if (commandIds.length === 0) return [];
  const rows = await db
    .select(commandColumns)
    .from(commands)
    .innerJoin(agents, eq(agents.id, commands.agentId))
    .leftJoin(requester, eq(requester.id, commands.requestedBy))
    .where(inArray(commands.id, [...commandIds]));
  return rows.map(toCommandView);
}

function buildTimeline(
  camera: { firstSeenAt: Date; lostAt: Date | null },
  addresses: CameraAddressView[],
  elsewhere: { siteName: string; address: string; firstSeenAt: Date }[],
  ownership: { ownerName: string; attestedByName: string | null; attestedAt: Date }[],
  commandViews: CameraCommandView[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const byFirstSeen = [...addresses].sort(
    (a, b) => a.firstSeenAt.getTime() - b.firstSeenAt.getTime(),
  );
  byFirstSeen.forEach((address, index) => {
    entries.push({
      kind: index === 0 ? 'discovered' : 'address',
      at: index === 0 ? camera.firstSeenAt : address.firstSeenAt,
      address: address.address,
      source: address.source,
    });
  });
  if (camera.lostAt !== null) entries.push({ kind: 'lost', at: camera.lostAt });
  for (const sighting of elsewhere) {
    entries.push({
      kind: 'seen-elsewhere',
      at: sighting.firstSeenAt,
      siteName: sighting.siteName,
      address: sighting.address,
    });
  }
  for (const record of ownership) {
    entries.push({
      kind: 'ownership',
      at: record.attestedAt,
      ownerName: record.ownerName,
      attestedByName: record.attestedByName,
    });
  }
  for (const command of commandViews) {
    entries.push({ kind: 'command-queued', at: command.queuedAt, command });
    if (command.completedAt !== null) {
      entries.push({ kind: 'command-finished', at: command.completedAt, command });
    }
  }
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime());
}

const ownerOrg = alias(organisations, 'owner_org');
const recordOwner = alias(organisations, 'record_owner');
const attester = alias(users, 'attester');

/**
 * Everything known of one camera the actor may see. A camera at a site outside the actor's
 * tenancy is reported exactly like a serial nobody has seen.
 */
export async function getCamera(db: Database, actor: Actor, serial: string): Promise<CameraDetail> {
  const [row] = await db
    .select({
      camera: cameras,
      site: { id: sites.id, name: sites.name, ownerOrgId: sites.ownerOrgId },
      ownerName: ownerOrg.name,
      agent: {
        id: agents.id,
        name: agents.name,
        status: agents.status,
        lastSeenAt: agents.lastSeenAt,
        revokedAt: agents.revokedAt,
      },
    })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .innerJoin(ownerOrg, eq(ownerOrg.id, sites.ownerOrgId))
    .leftJoin(agents, eq(agents.id, cameras.agentId))
    .where(and(eq(cameras.serial, serial), accessibleSitesCondition(db, actor)));
  if (!row) throw new DomainError('not-found', 'No such camera.', { details: { serial } });
  const { camera } = row;

  const addressRows = await db
    .select()
    .from(cameraAddresses)
    .where(eq(cameraAddresses.serial, serial))
    .orderBy(desc(cameraAddresses.lastSeenAt));
  const addresses = addressRows.map((address) => ({
    address: address.address,
    source: address.source,
    firstSeenAt: address.firstSeenAt,
    lastSeenAt: address.lastSeenAt,
    current: address.address === camera.address,
  }));

  const ownershipRows = await db
    .select({
      ownerName: recordOwner.name,
      circumstances: ownershipRecords.circumstances,
      attestedByName: attester.name,
      attestedAt: ownershipRecords.attestedAt,
      supersededAt: ownershipRecords.supersededAt,
    })
    .from(ownershipRecords)
    .innerJoin(recordOwner, eq(recordOwner.id, ownershipRecords.ownerOrgId))
    .leftJoin(attester, eq(attester.id, ownershipRecords.attestedBy))
    .where(eq(ownershipRecords.serial, serial))
    .orderBy(desc(ownershipRecords.attestedAt));
  const currentRecord = ownershipRows.find((record) => record.supersededAt === null);
  const current =
    currentRecord === undefined
      ? null
      : {
          ownerName: currentRecord.ownerName,
          circumstances: currentRecord.circumstances,
          attestedByName: currentRecord.attestedByName,
          attestedAt: currentRecord.attestedAt,
        };

  // Only commands sent through agents of sites the actor may see, and sightings by such agents:
  // that a foreign tenant's agent also reports this serial is not this actor's to know.
  const commandRows = await db
    .select(commandColumns)
    .from(commands)
    .innerJoin(agents, eq(agents.id, commands.agentId))
    .innerJoin(sites, eq(sites.id, agents.siteId))
    .leftJoin(requester, eq(requester.id, commands.requestedBy))
    .where(and(eq(commands.serial, serial), accessibleSitesCondition(db, actor)))
    .orderBy(desc(commands.queuedAt))
    .limit(MAX_COMMANDS);
  const commandViews = commandRows.map(toCommandView);

  const elsewhere = await db
    .select({
      siteName: sites.name,
      address: cameraSiteConflicts.address,
      firstSeenAt: cameraSiteConflicts.firstSeenAt,
    })
    .from(cameraSiteConflicts)
    .innerJoin(sites, eq(sites.id, cameraSiteConflicts.siteId))
    .where(and(eq(cameraSiteConflicts.serial, serial), accessibleSitesCondition(db, actor)));

  const agentStatus = row.agent?.status;
  return {
    serial: camera.serial,
    mac: camera.mac,
    model: camera.model,
    productName: camera.productName,
    firmware: camera.firmware,
    hardwareId: camera.hardwareId,
    accessState: camera.accessState,
    address: camera.address,
    url: camera.url,
    source: camera.source,
    firstSeenAt: camera.firstSeenAt,
    lastSeenAt: camera.lastSeenAt,
    lostAt: camera.lostAt,
    site: { ...row.site, ownerName: row.ownerName },
    ownership: current,
    agent:
      row.agent === null
        ? null
        : {
            ...row.agent,
            status:
              row.agent.revokedAt !== null
                ? 'revoked'
                : ((agentStatus ?? 'offline') as AgentStatus),
          },
    addresses,
    commands: commandViews,
    timeline: buildTimeline(camera, addresses, elsewhere, ownershipRows, commandViews),
  };
}
