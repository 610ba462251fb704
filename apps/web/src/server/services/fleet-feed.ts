import type { Database } from '@custody/db';
import { authSessions } from '@custody/db/schema';
import { and, eq, gt, sql } from 'drizzle-orm';
import { safeErrorMessage } from '@custody/db/errors';
import type { FleetEvent } from '../gateway/notifications.ts';
import { loadActor, type Actor } from './actor.ts';
import { agentViewsByIds, type AgentView } from './agents.ts';
import { commandViewsByIds, type CameraCommandView } from './cameras.ts';
import { createCoalescer, type Coalescer } from './fleet-coalescer.ts';
import {
  accessibleAmong,
  fleetCamerasBySerials,
  fleetCamerasOfSites,
  type FleetCamera,
} from './fleet.ts';

/** Where fleet events come from: the agent gateway, which hears every process's NOTIFY. */
export interface FleetEventSource {
  onFleetEvent(listener: (event: FleetEvent) => void): () => void;
}

export const FLEET_TOPICS = ['cameras', 'agents', 'commands'] as const;
export type FleetTopic = (typeof FLEET_TOPICS)[number];

export interface FleetLiveFilter {
  siteId?: string | undefined;
  /** Cameras and commands of this serial only. */
  serial?: string | undefined;
  topics: readonly FleetTopic[];
}

export type FleetLiveEvent =
  /**
   * Reload what the page shows: sent first on every (re)connection, since changes made before
   * it cannot be replayed, and whenever the subscriber fell too far behind to be sent them all.
   */
  | { type: 'resync'; reason: 'subscribed' | 'catch-up' }
  /** The latest state of each camera, agent and command that changed. */
  | {
      type: 'changes';
      cameras: FleetCamera[];
      agents: AgentView[];
      commands: CameraCommandView[];
    }
  /** The last event: the session signed out or expired, or its user is gone. */
  | { type: 'ended'; reason: 'session-ended' };

type FleetChange =
  | { kind: 'camera'; siteId: string; value: FleetCamera }
  | { kind: 'agent'; siteId: string; value: AgentView }
  | { kind: 'command'; siteId: string; value: CameraCommandView };

export interface FleetFeed {
  /**
   * Live changes the actor may see, as an async iterable that ends when `signal` aborts or the
   * consumer returns. Each change is checked against the actor's sites when it is sent, so a
   * revoked grant stops the flow at once.
   */
  subscribe(
    actor: Actor,
    filter: FleetLiveFilter,
    signal?: AbortSignal,
  ): AsyncIterable<FleetLiveEvent>;
  readonly subscriberCount: number;
}

export interface FleetFeedOptions {
  db: Database;
  source: FleetEventSource;
  /** How long events are gathered before the changed rows are read (default 250 ms). */
  windowMs?: number;
  /** Changes one subscriber may have waiting before it is told to resync instead. */
  maxPendingPerSubscriber?: number;
  /** Distinct events waiting to be read before every subscriber is told to resync. */
  maxPendingEvents?: number;
  /** Sites whose camera state is remembered to tell what changed. */
  maxRememberedSites?: number;
  /**
   * How often a subscriber's session and roles are read again (default 30 s). Site grants are
   * checked with every batch; a sign-out or a removed membership takes up to this long.
   */
  reverifyMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/** What an event asks to be read once the window closes. */
type PendingRead =
  | { kind: 'site'; siteId: string }
  | { kind: 'camera'; siteId: string; serial: string }
  | { kind: 'agent'; agentId: string }
  | { kind: 'command'; commandId: string };

/**
 * Reads waiting for the window to close are merged by key: one per site for an inventory event
 * that names no serial (the whole site is read), one per serial otherwise, one per agent and one
 * per command.
 */
function pendingReads(event: FleetEvent): [string, PendingRead][] {
  switch (event.event) {
    case 'inventory':
      return event.serials === undefined
        ? [[`site:${event.siteId}`, { kind: 'site', siteId: event.siteId }]]
        : event.serials.map((serial) => [
            `camera:${serial}`,
            { kind: 'camera', siteId: event.siteId, serial },
          ]);
    case 'agent-status':
    case 'agent-heartbeat':
      return [[`agent:${event.agentId}`, { kind: 'agent', agentId: event.agentId }]];
    case 'command':
      return [[`command:${event.commandId}`, { kind: 'command', commandId: event.commandId }]];
  }
}

function changeKey(change: FleetChange): string {
  switch (change.kind) {
    case 'camera':
      return `camera:${change.value.serial}`;
    case 'agent':
      return `agent:${change.value.id}`;
    case 'command':
      return `command:${change.value.id}`;
  }
}

function fingerprint(camera: FleetCamera): string {
  return JSON.stringify([
    camera.siteName,
    camera.model,
    camera.productName,
    camera.firmware,
    camera.address,
    camera.accessState,
    camera.lastSeenAt.getTime(),
    camera.lostAt?.getTime() ?? null,
    camera.agentId,
  ]);
}

function wants(filter: FleetLiveFilter, change: FleetChange): boolean {
  if (filter.siteId !== undefined && change.siteId !== filter.siteId) return false;
  switch (change.kind) {
    case 'camera':
      return (
        filter.topics.includes('cameras') &&
        (filter.serial === undefined || change.value.serial === filter.serial)
      );
    case 'agent':
      return filter.topics.includes('agents');
    case 'command':
      return (
        filter.topics.includes('commands') &&
        (filter.serial === undefined || change.value.serial === filter.serial)
      );
  }
}

function changesEvent(changes: readonly FleetChange[]): FleetLiveEvent {
  const event = {
    type: 'changes' as const,
    cameras: [] as FleetCamera[],
    agents: [] as AgentView[],
    commands: [] as CameraCommandView[],
  };
  for (const change of changes) {
    if (change.kind === 'camera') event.cameras.push(change.value);
    else if (change.kind === 'agent') event.agents.push(change.value);
    else event.commands.push(change.value);
  }
  return event;
}

interface Subscriber {
  actor: Actor;
  filter: FleetLiveFilter;
  queue: Coalescer<FleetChange>;
  verifiedAt: number;
  ended: boolean;
}

/**
 * One per process: turns the gateway's fleet events (which only name what changed) into the
 * changed rows, read once for all subscribers, and fans them out by tenancy. It listens only
 * while someone subscribes. Events are gathered for a short window so a burst of inventory
 * messages from a site costs one read; the camera state it last read per site tells which
 * cameras actually changed.
 */
export function createFleetFeed(options: FleetFeedOptions): FleetFeed {
  const { db, source } = options;
  const windowMs = options.windowMs ?? 250;
  const maxPendingPerSubscriber = options.maxPendingPerSubscriber ?? 1_000;
  const maxPendingEvents = options.maxPendingEvents ?? 10_000;
  const maxRememberedSites = options.maxRememberedSites ?? 2_000;
  const reverifyMs = options.reverifyMs ?? 30_000;
  const onError =
    options.onError ??
    ((message: string, error: unknown) =>
      console.error(`fleet feed: ${message}: ${safeErrorMessage(error)}`));

  const subscribers = new Set<Subscriber>();
  /** siteId → serial → fingerprint of the camera as last read; least recently used first. */
  const known = new Map<string, Map<string, string>>();
  let events: Coalescer<PendingRead> | null = null;
  let stopListening: (() => void) | null = null;

  function resyncEveryone(): void {
    for (const subscriber of subscribers) subscriber.queue.resync();
  }

  function changedCameras(siteIds: readonly string[], rows: readonly FleetCamera[]): FleetCamera[] {
    const bySite = new Map<string, FleetCamera[]>(siteIds.map((id) => [id, []]));
    for (const row of rows) bySite.get(row.siteId)?.push(row);
    const changed: FleetCamera[] = [];
    for (const [siteId, siteRows] of bySite) {
      const before = known.get(siteId);
      const now = new Map<string, string>();
      for (const row of siteRows) {
        const print = fingerprint(row);
        now.set(row.serial, print);
        if (before?.get(row.serial) !== print) changed.push(row);
      }
      known.delete(siteId);
      known.set(siteId, now);
    }
    for (const siteId of known.keys()) {
      if (known.size <= maxRememberedSites) break;
      known.delete(siteId);
    }
    return changed;
  }

  async function readChanges(batch: readonly PendingRead[]): Promise<FleetChange[]> {
    const topics = new Set([...subscribers].flatMap((subscriber) => subscriber.filter.topics));
    const siteIds = new Set<string>();
    const serials = new Set<string>();
    const agentIds = new Set<string>();
    const commandIds = new Set<string>();
    for (const read of batch) {
      if (read.kind === 'site') siteIds.add(read.siteId);
      else if (read.kind === 'agent') agentIds.add(read.agentId);
      else if (read.kind === 'command') commandIds.add(read.commandId);
    }
    for (const read of batch) {
      // A site read whole covers its cameras.
      if (read.kind === 'camera' && !siteIds.has(read.siteId)) serials.add(read.serial);
    }
    const changes: FleetChange[] = [];
    if (topics.has('cameras') && siteIds.size > 0) {
      const rows = await fleetCamerasOfSites(db, [...siteIds]);
      for (const camera of changedCameras([...siteIds], rows)) {
        changes.push({ kind: 'camera', siteId: camera.siteId, value: camera });
      }
    }
    if (topics.has('cameras') && serials.size > 0) {
      // Named by the gateway as changed: sent as they are, and remembered for the site reads.
      for (const camera of await fleetCamerasBySerials(db, [...serials])) {
        known.get(camera.siteId)?.set(camera.serial, fingerprint(camera));
        changes.push({ kind: 'camera', siteId: camera.siteId, value: camera });
      }
    }
    if (topics.has('agents') && agentIds.size > 0) {
      for (const agent of await agentViewsByIds(db, [...agentIds])) {
        changes.push({ kind: 'agent', siteId: agent.siteId, value: agent });
      }
    }
    if (topics.has('commands') && commandIds.size > 0) {
      for (const command of await commandViewsByIds(db, [...commandIds])) {
        changes.push({ kind: 'command', siteId: command.siteId, value: command });
      }
    }
    return changes;
  }

  /** The subscriber's actor as it is now; null once its session or user is gone. */
  async function reverify(subscriber: Subscriber): Promise<Actor | null> {
    if (Date.now() - subscriber.verifiedAt < reverifyMs) return subscriber.actor;
    const { userId, sessionId } = subscriber.actor;
    if (sessionId !== null) {
      const [session] = await db
        .select({ id: authSessions.id })
        .from(authSessions)
        .where(and(eq(authSessions.id, sessionId), gt(authSessions.expiresAt, sql`now()`)));
      if (session === undefined) return null;
    }
    const actor = await loadActor(db, userId, sessionId);
    if (actor === null) return null;
    subscriber.actor = actor;
    subscriber.verifiedAt = Date.now();
    return actor;
  }

  async function deliver(changes: readonly FleetChange[]): Promise<void> {
    // Tabs of the same user share one tenancy check per batch.
    const checks = new Map<string, Promise<Set<string>>>();
    await Promise.all(
      [...subscribers].map(async (subscriber) => {
        const wanted = changes.filter((change) => wants(subscriber.filter, change));
        if (wanted.length === 0) return;
        const siteIds = [...new Set(wanted.map((change) => change.siteId))];
        try {
          if ((await reverify(subscriber)) === null) {
            subscriber.ended = true;
            subscriber.queue.close();
            return;
          }
          const key = `${subscriber.actor.userId}:${siteIds.join(',')}`;
          let check = checks.get(key);
          if (check === undefined) {
            check = accessibleAmong(db, subscriber.actor, siteIds);
            checks.set(key, check);
          }
          const allowed = await check;
          for (const change of wanted) {
            if (allowed.has(change.siteId)) subscriber.queue.push(changeKey(change), change);
          }
        } catch (error) {
          onError('could not check a subscriber’s sites; it will resync', error);
          subscriber.queue.resync();
        }
      }),
    );
  }

  async function pump(queue: Coalescer<PendingRead>): Promise<void> {
    for (;;) {
      const batch = await queue.next();
      if (batch === null) return;
      if (batch.type === 'resync') {
        // More events than can be read one by one: everyone reloads instead.
        known.clear();
        resyncEveryone();
        continue;
      }
      try {
        await deliver(await readChanges(batch.items));
      } catch (error) {
        onError('could not read fleet changes; subscribers will resync', error);
        resyncEveryone();
      }
    }
  }

  function start(): void {
    const queue = createCoalescer<PendingRead>({ windowMs, maxPending: maxPendingEvents });
    events = queue;
    stopListening = source.onFleetEvent((event) => {
      for (const [key, read] of pendingReads(event)) queue.push(key, read);
    });
    void pump(queue);
  }

  function stop(): void {
    stopListening?.();
    stopListening = null;
    events?.close();
    events = null;
    known.clear();
  }

  return {
    async *subscribe(actor, filter, signal) {
      const queue = createCoalescer<FleetChange>({
        windowMs: 0,
        maxPending: maxPendingPerSubscriber,
      });
      const subscriber: Subscriber = { actor, filter, queue, verifiedAt: Date.now(), ended: false };
      subscribers.add(subscriber);
      if (events === null) start();
      try {
        yield { type: 'resync', reason: 'subscribed' };
        for (;;) {
          const batch = await queue.next(signal);
          if (batch === null) {
            if (subscriber.ended) yield { type: 'ended', reason: 'session-ended' };
            return;
          }
          yield batch.type === 'resync'
            ? { type: 'resync', reason: 'catch-up' }
            : changesEvent(batch.items);
        }
      } finally {
        queue.close();
        subscribers.delete(subscriber);
        if (subscribers.size === 0) stop();
      }
    },
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

const FEEDS = new WeakMap<FleetEventSource, FleetFeed>();

/** The process's feed for a gateway, created on first use. */
export function fleetFeedFor(db: Database, source: FleetEventSource): FleetFeed {
  let feed = FEEDS.get(source);
  if (feed === undefined) {
    feed = createFleetFeed({ db, source });
    FEEDS.set(source, feed);
  }
  return feed;
}
