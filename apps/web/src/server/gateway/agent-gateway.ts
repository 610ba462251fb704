import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { CLOSE_CODES, MAX_FRAME_BYTES, acceptedProtocolVersions } from '@custody/core';
import type { DatabaseHandle, Unlisten } from '@custody/db';
import * as schema from '@custody/db/schema';
import { WebSocketServer } from 'ws';
import {
  AGENT_GATEWAY_PATH,
  createAgentSession,
  type AgentSession,
  type SessionLimits,
} from './agent-session.ts';
import { agentsWithSendableCommands, expireCommands } from './command-dispatch.ts';
import type { CommandSigner } from './command-signing-key.ts';
import {
  DEFAULT_ENROLL_RATE_RULES,
  serveEnrollRequest,
  type EnrollRateRules,
} from './enroll-endpoint.ts';
import { forwardedTls, requestedHost, type GatewayAddressOptions } from './gateway-address.ts';
import { consoleGatewayLogger, errorText, type GatewayLogger } from './gateway-logger.ts';
import { createIngestGate } from './ingest-gate.ts';
import {
  AGENTS_CHANNEL,
  AgentNotificationSchema,
  COMMANDS_CHANNEL,
  FLEET_CHANNEL,
  FleetEventSchema,
  notifyFleet,
  parseNotification,
  type FleetEvent,
} from './notifications.ts';
import { resolveSecrets, type SecretsResolver } from './resolve-secrets.ts';

const { agentMessages, agents, inventorySnapshotParts } = schema;

export const ENROLL_PATH = '/agent/v1/enroll';
/**
 * Frames up to this size are read and answered with a non-fatal `frame-too-large`; larger ones
 * make ws close the connection (1009) before they are buffered whole.
 */
const HARD_MAX_PAYLOAD = 2 * MAX_FRAME_BYTES;
const SHUTDOWN_GRACE_MS = 3_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface AgentGatewayOptions {
  database: DatabaseHandle;
  signer: CommandSigner;
  /**
   * The URL agents reach this server at (https://custody.example.com). Without it, the enrollment
   * response names the host the agent enrolled through.
   */
  publicUrl?: URL | undefined;
  /**
   * Every origin Custody is reached at (CUSTODY_PUBLIC_URL): a hello signed for any of them
   * passes the relay check, whatever Host header the request carries.
   */
  publicOrigins?: readonly string[] | undefined;
  /**
   * CUSTODY_TRUST_PROXY: behind a reverse proxy, X-Forwarded-Host (first value) and
   * X-Forwarded-Proto name the address agents dialled. Ignored otherwise.
   */
  trustProxy?: boolean | undefined;
  /** Delivers the credentials a command references, just before it is signed and sent. */
  resolveSecrets?: SecretsResolver | undefined;
  /** Protocol versions accepted; core's N and N-1 by default. */
  acceptedVersions?: readonly number[] | undefined;
  heartbeatIntervalMs?: number | undefined;
  handshakeTimeoutMs?: number | undefined;
  /** A command sent but not acknowledged after this long is sent again. */
  commandRetryMs?: number | undefined;
  /** How often commands are expired and sendable ones swept up (in case a NOTIFY was missed). */
  sweepIntervalMs?: number | undefined;
  /** How long processed message ids are kept for de-duplication. */
  messageRetentionDays?: number | undefined;
  limits?: Partial<SessionLimits> | undefined;
  /** Enrollment attempts per client address (10 a minute, 5 wrong tokens in 10 minutes). */
  enrollRateRules?: Partial<EnrollRateRules> | undefined;
  /**
   * Durable agent messages applied at once, across every connection; 4 by default. Keep it below
   * the database pool's size so that handshakes, command dispatch and the web's own queries never
   * queue behind inventory ingest.
   */
  ingestConcurrency?: number | undefined;
  log?: GatewayLogger | undefined;
  /** Names this process in commands.claimed_by; host, pid and a random suffix by default. */
  processId?: string | undefined;
}

export interface AgentGateway {
  readonly processId: string;
  /** The public half of the command-signing key, as agents receive it at enrollment. */
  readonly commandSigningKey: string;
  /**
   * Serves POST /agent/v1/enroll. Returns false, without touching the request, for any other
   * path so the caller can hand it on (to Next).
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /** Takes the WebSocket upgrade of /agent/v1; false for any other path (Next's HMR). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Agents with a welcomed connection to this process. */
  connectedAgents(): string[];
  /** Live changes from every process on the database; returns the unsubscribe function. */
  onFleetEvent(listener: (event: FleetEvent) => void): () => void;
  /** Closes every agent connection (1001), stops listening, waits for in-flight work. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: Omit<SessionLimits, 'heartbeatIntervalMs' | 'handshakeTimeoutMs'> = {
  deadAfterIntervals: 2.5,
  lastSeenWriteIntervalMs: 60_000,
  framesPerSecond: 200,
  frameBurst: 2_000,
  maxQueuedFrames: 256,
  dispatchBatch: 100,
};

/**
 * A few transactions at once keep PostgreSQL busy (more mostly queue inside it), and createDb's
 * pool of 10 keeps six connections for everything else.
 */
const DEFAULT_INGEST_CONCURRENCY = 4;

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://gateway').pathname;
}

/** Waits for `work`, or SHUTDOWN_GRACE_MS, whichever comes first. */
async function withinGrace(work: Promise<unknown>): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS);
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), grace]);
  } finally {
    clearTimeout(timer);
  }
}

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The agent gateway: enrollment over HTTP and the /agent/v1 WebSocket, backed by the database.
 * Each server process runs one; they cooperate through the database alone: commands are claimed
 * with SKIP LOCKED and processes are woken with LISTEN/NOTIFY, so a command queued anywhere
 * reaches the process its agent is connected to.
 */
export async function startAgentGateway(options: AgentGatewayOptions): Promise<AgentGateway> {
  const { database, signer } = options;
  const { db } = database;
  const log = options.log ?? consoleGatewayLogger;
  const processId =
    options.processId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
  const commandRetryMs = options.commandRetryMs ?? 30_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? 15_000;
  const retentionMs = (options.messageRetentionDays ?? 30) * DAY_MS;
  const limits: SessionLimits = {
    ...DEFAULT_LIMITS,
    heartbeatIntervalMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    ...options.limits,
  };
  const acceptedVersions = [...(options.acceptedVersions ?? acceptedProtocolVersions())];
  const enrollRules: EnrollRateRules = { ...DEFAULT_ENROLL_RATE_RULES, ...options.enrollRateRules };
  const sessions = new Set<AgentSession>();
  const byAgent = new Map<string, AgentSession>();
  const fleetListeners = new Set<(event: FleetEvent) => void>();
  let closing = false;
  let prunedAt = 0;

  const address: GatewayAddressOptions = {
    trustProxy: options.trustProxy ?? false,
    publicOrigins: [
      ...(options.publicOrigins ?? []),
      ...(options.publicUrl === undefined ? [] : [options.publicUrl.origin]),
    ],
  };

  function gatewayUrlFor(request: IncomingMessage): string | null {
    if (options.publicUrl !== undefined) {
      const scheme = options.publicUrl.protocol === 'https:' ? 'wss:' : 'ws:';
      return `${scheme}//${options.publicUrl.host}${AGENT_GATEWAY_PATH}`;
    }
    const host = requestedHost(request.headers, address);
    if (host === undefined) return null;
    const tls = forwardedTls(request.headers, address) ?? request.socket instanceof TLSSocket;
    return `${tls ? 'wss:' : 'ws:'}//${host}${AGENT_GATEWAY_PATH}`;
  }

  const sessionContext = {
    db,
    signer,
    resolveSecrets: options.resolveSecrets ?? resolveSecrets,
    log,
    processId,
    acceptedVersions,
    limits,
    address,
    ingestGate: createIngestGate(options.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY),
    onAuthenticated(session: AgentSession) {
      const agentId = session.agentId;
      if (agentId === null) return;
      const previous = byAgent.get(agentId);
      byAgent.set(agentId, session);
      if (previous !== undefined && previous !== session) {
        log.info('A newer connection replaces this agent connection.', { agentId });
        previous.close(CLOSE_CODES.replaced, 'replaced');
      }
    },
    onClosed(session: AgentSession) {
      sessions.delete(session);
      if (session.agentId !== null && byAgent.get(session.agentId) === session) {
        byAgent.delete(session.agentId);
      }
    },
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: HARD_MAX_PAYLOAD,
    perMessageDeflate: false,
  });
  wss.on('connection', (ws, request: IncomingMessage) => {
    if (closing) {
      ws.close(1001, 'server shutting down');
      return;
    }
    sessions.add(createAgentSession(ws, request, sessionContext));
  });

  /**
   * Closes local sessions whose agent was revoked or whose row names another session (a newer
   * connection to another process). The row is the truth; notifications only make this prompt.
   */
  async function checkSessions(agentIds: readonly string[]): Promise<void> {
    // Only sessions welcomed before the read: a session claims its row before its welcome, so
    // the read sees their claims. One welcomed while the read runs may be missing from it and
    // would be closed as replaced by a connection that does not exist.
    const welcomed = new Map<string, AgentSession>();
    for (const agentId of agentIds) {
      const session = byAgent.get(agentId);
      if (session?.welcomed) welcomed.set(agentId, session);
    }
    if (welcomed.size === 0) return;
    const rows = await db
      .select({ id: agents.id, sessionId: agents.sessionId, revokedAt: agents.revokedAt })
      .from(agents)
      .where(inArray(agents.id, [...welcomed.keys()]));
    for (const row of rows) {
      const session = welcomed.get(row.id);
      if (session === undefined || byAgent.get(row.id) !== session) continue;
      if (row.revokedAt !== null) {
        session.refuse(CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.');
      } else if (row.sessionId !== session.sessionId) {
        log.info('The agent connected to another server process; closing this connection.', {
          agentId: row.id,
        });
        session.close(CLOSE_CODES.replaced, 'replaced');
      }
    }
  }

  function onCommandsNotification(agentId: string): void {
    byAgent.get(agentId)?.dispatch({ resend: 'none' });
  }

  function onAgentsNotification(payload: string): void {
    const notification = parseNotification(AgentNotificationSchema, payload);
    if (notification === null) return;
    const session = byAgent.get(notification.agentId);
    if (session === undefined) return;
    if (notification.event === 'revoked') {
      session.refuse(CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.');
      return;
    }
    if (notification.sessionId === session.sessionId) return;
    checkSessions([notification.agentId]).catch((error: unknown) => {
      log.error('Could not check an agent connection.', { error: errorText(error) });
    });
  }

  function onFleetNotification(payload: string): void {
    const event = parseNotification(FleetEventSchema, payload);
    if (event === null) return;
    for (const listener of fleetListeners) {
      try {
        listener(event);
      } catch (error) {
        log.error('A fleet event listener failed.', { error: errorText(error) });
      }
    }
  }

  /**
   * A process that died left its agents marked online. A live connection refreshes last_seen_at
   * at least every lastSeenWriteIntervalMs (on a heartbeat), so a row silent for three times
   * that is no one's. Should its connection still be alive somewhere, that process sees its
   * session gone from the row and closes it; the agent reconnects.
   */
  async function markStaleAgentsOffline(now: Date): Promise<void> {
    const staleMs = 3 * Math.max(limits.lastSeenWriteIntervalMs, heartbeatIntervalMs);
    const stale = await db
      .update(agents)
      .set({ status: 'offline', sessionId: null, disconnectedAt: now })
      .where(
        and(
          eq(agents.status, 'online'),
          lt(agents.lastSeenAt, sql`now() - ${staleMs} * interval '1 millisecond'`),
        ),
      )
      .returning({ id: agents.id, siteId: agents.siteId });
    for (const agent of stale) {
      await notifyFleet(db, {
        event: 'agent-status',
        agentId: agent.id,
        siteId: agent.siteId,
        status: 'offline',
      });
    }
  }

  async function sweep(): Promise<void> {
    const now = new Date();
    const expired = await expireCommands(db, now);
    for (const command of expired) {
      await notifyFleet(db, {
        event: 'command',
        agentId: command.agentId,
        commandId: command.id,
        finished: true,
      });
    }
    await markStaleAgentsOffline(now);
    const local = [...byAgent.keys()];
    await checkSessions(local);
    const sendable = await agentsWithSendableCommands(
      db,
      local,
      now,
      new Date(now.getTime() - commandRetryMs),
    );
    const resendBefore = new Date(now.getTime() - commandRetryMs);
    for (const agentId of sendable) {
      byAgent.get(agentId)?.dispatch({ resend: 'before', before: resendBefore });
    }
    if (now.getTime() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = now.getTime();
      const cutoff = new Date(now.getTime() - retentionMs);
      await db.delete(agentMessages).where(lt(agentMessages.receivedAt, cutoff));
      await db.delete(inventorySnapshotParts).where(lt(inventorySnapshotParts.receivedAt, cutoff));
    }
  }

  let sweeping: Promise<void> | null = null;
  function runSweep(): void {
    if (closing || sweeping !== null) return;
    sweeping = sweep()
      .catch((error: unknown) => {
        log.error('The gateway sweep failed.', { error: errorText(error) });
      })
      .finally(() => {
        sweeping = null;
      });
  }

  const unlisteners: Unlisten[] = [];
  try {
    unlisteners.push(await database.listen(COMMANDS_CHANNEL, onCommandsNotification, runSweep));
    unlisteners.push(await database.listen(AGENTS_CHANNEL, onAgentsNotification));
    unlisteners.push(await database.listen(FLEET_CHANNEL, onFleetNotification));
  } catch (error) {
    await Promise.allSettled(unlisteners.map((unlisten) => unlisten()));
    throw new Error('The agent gateway could not LISTEN on the database.', { cause: error });
  }
  const sweepTimer = setInterval(runSweep, sweepIntervalMs);
  sweepTimer.unref();

  return {
    processId,
    commandSigningKey: signer.publicKey,
    handleRequest(request, response) {
      if (pathOf(request) !== ENROLL_PATH) return false;
      if (closing) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
        response.end(
          JSON.stringify({ error: { code: 'unavailable', message: 'The server is stopping.' } }),
        );
        return true;
      }
      serveEnrollRequest(request, response, {
        db,
        signer,
        gatewayUrl: gatewayUrlFor,
        log,
        rules: enrollRules,
      });
      return true;
    },
    handleUpgrade(request, socket, head) {
      if (pathOf(request) !== AGENT_GATEWAY_PATH) return false;
      if (closing) {
        rejectUpgrade(socket, '503 Service Unavailable');
        return true;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      return true;
    },
    connectedAgents: () => [...byAgent.keys()],
    onFleetEvent(listener) {
      fleetListeners.add(listener);
      return () => fleetListeners.delete(listener);
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweepTimer);
      const open = [...sessions];
      for (const session of open) session.close(1001, 'server shutting down');
      const allClosed = Promise.all(open.map((session) => session.closed));
      if ((await withinGrace(allClosed)) === 'timeout') {
        for (const client of wss.clients) client.terminate();
        await withinGrace(allClosed);
      }
      await sweeping;
      await Promise.allSettled(unlisteners.map((unlisten) => unlisten()));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
