import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { AgentMessage, CameraSighting } from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import {
  addressOfUrl,
  applySightings,
  markCamerasLost,
  recordSnapshotPart,
  type AgentScope,
} from './inventory-store.ts';
import {
  MAX_NOTIFIED_SERIALS,
  notifyFleet,
  notifyFleetMany,
  type FleetEvent,
} from './notifications.ts';

const { agentMessages, commands } = schema;

export type DurableMessage = Extract<
  AgentMessage,
  {
    type:
      | 'inventory-snapshot'
      | 'inventory-delta'
      | 'discovery-event'
      | 'command-ack'
      | 'command-progress'
      | 'command-result';
  }
>;

export interface IngestResult {
  /** The message id was already recorded: nothing was applied again. */
  duplicate: boolean;
  /** Sightings of serials registered to another site (recorded, not applied). */
  conflicts: number;
  /** A command message about a command this agent does not have. */
  unknownCommand: boolean;
}

const MAX_KEPT_FRAME_CHARS = 64 * 1024;
/** A command in one of these states may still be acknowledged (it may have expired meanwhile). */
const ACKNOWLEDGEABLE = ['queued', 'dispatched', 'expired'];
const FINISHED = ['succeeded', 'failed'];

function discoverySighting(
  message: Extract<DurableMessage, { type: 'discovery-event' }>,
): CameraSighting {
  return {
    serial: message.serial,
    url: message.url,
    address: addressOfUrl(message.url),
    source: message.via,
    model: null,
    productName: null,
    firmware: null,
    hardwareId: null,
    mac: null,
    accessState: null,
    seenAt: message.sentAt,
  };
}

export type CommandReportMessage = Extract<
  DurableMessage,
  { type: 'command-ack' | 'command-progress' | 'command-result' }
>;

export function isCommandReport(message: AgentMessage): message is CommandReportMessage {
  return (
    message.type === 'command-ack' ||
    message.type === 'command-progress' ||
    message.type === 'command-result'
  );
}

/** Applies a report to its command; the event to announce, or null for a command not this agent's. */
async function applyCommandMessage(
  db: Database,
  scope: AgentScope,
  message: CommandReportMessage,
  now: Date,
): Promise<FleetEvent | null> {
  const ofAgent = and(eq(commands.id, message.commandId), eq(commands.agentId, scope.agentId));
  let updated: { id: string }[];
  if (message.type === 'command-result') {
    // The first result stored wins; a replayed result changes nothing.
    updated = await db
      .update(commands)
      .set({
        status: message.outcome === 'succeeded' ? 'succeeded' : 'failed',
        result: message.result,
        error: message.error === null ? null : { ...message.error, outcome: message.outcome },
        ackedAt: sql`coalesce(${commands.ackedAt}, ${now.toISOString()}::timestamptz)`,
        completedAt: now,
      })
      .where(and(ofAgent, notInArray(commands.status, FINISHED)))
      .returning({ id: commands.id });
    if (updated.length === 0) {
      updated = await db.select({ id: commands.id }).from(commands).where(ofAgent);
    }
  } else {
    const progress =
      message.type === 'command-progress'
        ? {
            progress: {
              step: message.step,
              message: message.message,
              ...(message.fraction === undefined ? {} : { fraction: message.fraction }),
              at: message.sentAt,
            },
          }
        : {};
    updated = await db
      .update(commands)
      .set({
        status: sql`case when ${commands.status} in ('queued', 'dispatched', 'expired') then 'acknowledged' else ${commands.status} end`,
        ackedAt: sql`coalesce(${commands.ackedAt}, ${now.toISOString()}::timestamptz)`,
        ...progress,
      })
      .where(
        message.type === 'command-ack'
          ? and(ofAgent, inArray(commands.status, ACKNOWLEDGEABLE))
          : and(ofAgent, notInArray(commands.status, FINISHED)),
      )
      .returning({ id: commands.id });
    if (updated.length === 0) {
      updated = await db.select({ id: commands.id }).from(commands).where(ofAgent);
    }
  }
  if (updated.length === 0) return null;
  return {
    event: 'command',
    agentId: scope.agentId,
    commandId: message.commandId,
    finished: message.type === 'command-result',
  };
}

/** How many command reports of one connection are applied in one transaction at most. */
export const MAX_REPORTS_PER_TRANSACTION = 64;

/**
 * Applies command reports (acks, progress, results) that arrived one after the other on one
 * connection, in that order and in one transaction, each with the record of its id: one commit
 * and one announcement for the lot instead of one each, which is most of what a busy rotation
 * asks of the database. Each is applied once however often it is replayed, within the batch
 * too. The caller acknowledges them only after this resolves (the commit).
 */
export async function ingestCommandReports(
  db: Database,
  scope: AgentScope,
  messages: readonly CommandReportMessage[],
  now: Date = new Date(),
): Promise<IngestResult[]> {
  if (messages.length === 0) return [];
  return db.transaction(async (tx): Promise<IngestResult[]> => {
    const recorded = await tx
      .insert(agentMessages)
      .values(
        messages.map((message) => ({
          agentId: scope.agentId,
          messageId: message.id,
          type: message.type,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: agentMessages.messageId });
    const fresh = new Set(recorded.map((row) => row.id));
    const events: FleetEvent[] = [];
    const results: IngestResult[] = [];
    for (const message of messages) {
      // Taken out of the set once applied: a second copy of an id in the batch is a duplicate.
      if (!fresh.delete(message.id)) {
        results.push({ duplicate: true, conflicts: 0, unknownCommand: false });
        continue;
      }
      const event = await applyCommandMessage(tx, scope, message, now);
      if (event !== null) events.push(event);
      results.push({ duplicate: false, conflicts: 0, unknownCommand: event === null });
    }
    await notifyFleetMany(tx, events);
    return results;
  });
}

/**
 * Applies one durable agent message in one transaction together with the record of its id, so a
 * message is applied exactly once however often it is replayed. The caller acknowledges it only
 * after this resolves (the commit).
 */
export async function ingestDurableMessage(
  db: Database,
  scope: AgentScope,
  message: DurableMessage,
  now: Date = new Date(),
): Promise<IngestResult> {
  if (isCommandReport(message)) {
    const [result] = await ingestCommandReports(db, scope, [message], now);
    return result!;
  }
  return db.transaction(async (tx): Promise<IngestResult> => {
    const recorded = await tx
      .insert(agentMessages)
      .values({ agentId: scope.agentId, messageId: message.id, type: message.type })
      .onConflictDoNothing()
      .returning({ id: agentMessages.messageId });
    if (recorded.length === 0) return { duplicate: true, conflicts: 0, unknownCommand: false };

    let conflicts = 0;
    /** The serials of the cameras this message changed. */
    const changed = new Set<string>();
    switch (message.type) {
      case 'inventory-snapshot': {
        const applied = await applySightings(tx, scope, message.cameras, now);
        const snapshot = await recordSnapshotPart(tx, scope, {
          snapshotId: message.snapshotId,
          part: message.part,
          parts: message.parts,
          serials: message.cameras.map((camera) => camera.serial),
          sentAt: new Date(message.sentAt),
        });
        conflicts = applied.conflicts;
        for (const serial of [...applied.serials, ...snapshot.lost]) changed.add(serial);
        break;
      }
      case 'inventory-delta': {
        const applied = await applySightings(tx, scope, message.upserts, now);
        const lost = await markCamerasLost(tx, scope, message.lost, new Date(message.sentAt));
        conflicts = applied.conflicts;
        for (const serial of [...applied.serials, ...lost]) changed.add(serial);
        break;
      }
      case 'discovery-event': {
        if (message.event === 'lost') {
          const lost = await markCamerasLost(tx, scope, [message.serial], new Date(message.sentAt));
          for (const serial of lost) changed.add(serial);
        } else {
          const applied = await applySightings(tx, scope, [discoverySighting(message)], now);
          conflicts = applied.conflicts;
          for (const serial of applied.serials) changed.add(serial);
        }
        break;
      }
    }
    if (changed.size > 0) {
      // Live views read just these cameras; past the bound, the whole site.
      await notifyFleet(tx, {
        event: 'inventory',
        siteId: scope.siteId,
        agentId: scope.agentId,
        ...(changed.size <= MAX_NOTIFIED_SERIALS ? { serials: [...changed].sort() } : {}),
      });
    }
    return { duplicate: false, conflicts, unknownCommand: false };
  });
}

/**
 * Records a durable message that failed validation under the id it carries, with the error and
 * (the start of) the frame, so it is acknowledged once and kept for diagnosis. Returns false if
 * that id was already recorded.
 */
export async function recordRefusedMessage(
  db: Database,
  scope: AgentScope,
  refused: { id: string; type: string; error: { code: string; message: string }; frame: string },
): Promise<boolean> {
  const recorded = await db
    .insert(agentMessages)
    .values({
      agentId: scope.agentId,
      messageId: refused.id,
      type: refused.type.slice(0, 64),
      error: refused.error,
      frame: refused.frame.slice(0, MAX_KEPT_FRAME_CHARS),
    })
    .onConflictDoNothing()
    .returning({ id: agentMessages.messageId });
  return recorded.length > 0;
}
