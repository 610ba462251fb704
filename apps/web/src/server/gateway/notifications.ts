import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { AGENT_STATUSES } from '@custody/core';
import type { Database } from '@custody/db';

/*
 * LISTEN/NOTIFY channels shared by every server process on one database. A NOTIFY sent inside a
 * transaction is delivered when (and only if) it commits, so a listener never hears of a row it
 * cannot read yet. Notifications wake processes up; the rows stay the truth, and each process
 * also sweeps periodically in case a notification was lost with a connection.
 */

/** Payload: the agent id. A command was queued for that agent. */
export const COMMANDS_CHANNEL = 'custody_commands';
/** Payload: AgentNotification as JSON. */
export const AGENTS_CHANNEL = 'custody_agents';
/** Payload: FleetEvent as JSON; for live views of inventory and agent status. */
export const FLEET_CHANNEL = 'custody_fleet';

export const AgentNotificationSchema = z.discriminatedUnion('event', [
  /** A connection was welcomed; any other connection of that agent is replaced. */
  z.object({ event: z.literal('connected'), agentId: z.uuid(), sessionId: z.string() }),
  z.object({ event: z.literal('revoked'), agentId: z.uuid() }),
]);
export type AgentNotification = z.infer<typeof AgentNotificationSchema>;

/**
 * An inventory event names at most this many changed serials; beyond it, it names none and
 * live views re-read the whole site. Keeps a NOTIFY payload well under PostgreSQL's 8000 bytes.
 */
export const MAX_NOTIFIED_SERIALS = 100;

export const FleetEventSchema = z.discriminatedUnion('event', [
  /**
   * Cameras of the site changed (sightings, addresses, lost cameras): these serials, or, without
   * `serials`, any of them.
   */
  z.object({
    event: z.literal('inventory'),
    siteId: z.uuid(),
    agentId: z.uuid(),
    serials: z
      .array(z.string().regex(/^[0-9A-F]{12}$/))
      .max(MAX_NOTIFIED_SERIALS)
      .optional(),
  }),
  z.object({
    event: z.literal('agent-status'),
    siteId: z.uuid(),
    agentId: z.uuid(),
    status: z.enum(AGENT_STATUSES),
  }),
  /** A heartbeat refreshed the agent's last contact, outbox depth and running commands. */
  z.object({ event: z.literal('agent-heartbeat'), siteId: z.uuid(), agentId: z.uuid() }),
  /**
   * A command changed state (dispatched, acknowledged, progress, result, expired). `finished` says
   * whether it reached an end (a result, expiry or cancellation), so listeners that wait only for
   * the end skip the rest without a query; a sender that leaves it out is looked up.
   */
  z.object({
    event: z.literal('command'),
    agentId: z.uuid(),
    commandId: z.uuid(),
    finished: z.boolean().optional(),
  }),
]);
export type FleetEvent = z.infer<typeof FleetEventSchema>;

/** Queues a NOTIFY; inside a transaction it is sent on commit. */
export async function notify(db: Database, channel: string, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

export function notifyCommandQueued(db: Database, agentId: string): Promise<void> {
  return notify(db, COMMANDS_CHANNEL, agentId);
}

export function notifyAgent(db: Database, notification: AgentNotification): Promise<void> {
  return notify(db, AGENTS_CHANNEL, JSON.stringify(notification));
}

export function notifyFleet(db: Database, event: FleetEvent): Promise<void> {
  return notify(db, FLEET_CHANNEL, JSON.stringify(event));
}

/** Announces that these commands changed state, in one statement; `finished`: they ended. */
export function notifyCommandsChanged(
  db: Database,
  changed: readonly { agentId: string; commandId: string }[],
  finished: boolean,
): Promise<void> {
  return notifyFleetMany(
    db,
    changed.map(({ agentId, commandId }) => ({
      event: 'command' as const,
      agentId,
      commandId,
      finished,
    })),
  );
}

/** notifyFleet for many events, in one statement. */
export async function notifyFleetMany(db: Database, events: readonly FleetEvent[]): Promise<void> {
  if (events.length === 0) return;
  const payloads = sql.join(
    events.map((event) => sql`(${JSON.stringify(event)})`),
    sql`, `,
  );
  await db.execute(
    sql`select pg_notify(${FLEET_CHANNEL}, events.payload::text) from (values ${payloads}) as events(payload)`,
  );
}

/** Parses a payload of another process; null for anything malformed. */
export function parseNotification<T>(schema: z.ZodType<T>, payload: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
