import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { and, eq, isNull, sql } from 'drizzle-orm';
import {
  CLOSE_CODES,
  CommandPayloadSchema,
  DURABLE_AGENT_MESSAGE_TYPES,
  ServerMessageSchema,
  authSigningText,
  commandSigningText,
  negotiateProtocolVersion,
  parseAgentFrame,
  type AgentMessage,
  type CredentialSecret,
  type FrameError,
  type ServerMessage,
  type ServerMessageType,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import WebSocket from 'ws';
import type { CommandSigner } from './command-signing-key.ts';
import { confirmSendable } from './command-access.ts';
import { claimCommands, failUnsentCommand } from './command-dispatch.ts';
import { namesThisGateway, type GatewayAddressOptions } from './gateway-address.ts';
import { errorText, type GatewayLogger } from './gateway-logger.ts';
import {
  MAX_REPORTS_PER_TRANSACTION,
  ingestCommandReports,
  ingestDurableMessage,
  isCommandReport,
  recordRefusedMessage,
  type CommandReportMessage,
  type DurableMessage,
  type IngestResult,
} from './ingest.ts';
import type { IngestGate } from './ingest-gate.ts';
import { notifyAgent, notifyFleet } from './notifications.ts';
import type { SecretsResolver } from './resolve-secrets.ts';
import { verifySignature } from './verify-signature.ts';

const { agents } = schema;

export { AGENT_GATEWAY_PATH, isSameGateway } from './gateway-address.ts';

/** Per-connection limits and timings. */
export interface SessionLimits {
  heartbeatIntervalMs: number;
  /** From the upgrade to a valid hello; past it the connection is closed (4005). */
  handshakeTimeoutMs: number;
  /** A connection silent for this many heartbeat intervals is dead. */
  deadAfterIntervals: number;
  /** last_seen_at is written at most this often per agent (heartbeats are more frequent). */
  lastSeenWriteIntervalMs: number;
  /** Sustained frames per second, and the burst allowed above it (an outbox replay). */
  framesPerSecond: number;
  frameBurst: number;
  /** Frames waiting to be applied before the socket stops being read. */
  maxQueuedFrames: number;
  /** How many commands one claim takes. */
  dispatchBatch: number;
}

export interface SessionContext {
  db: Database;
  signer: CommandSigner;
  resolveSecrets: SecretsResolver;
  log: GatewayLogger;
  processId: string;
  acceptedVersions: readonly number[];
  limits: SessionLimits;
  /** How this server is reached: what a hello's signed gateway URL must name. */
  address: GatewayAddressOptions;
  /** Shared by every session of the process: how many durable messages are applied at once. */
  ingestGate: IngestGate;
  /** Called once the hello is verified, before the welcome: the gateway replaces older sessions. */
  onAuthenticated(session: AgentSession): void;
  onClosed(session: AgentSession): void;
}

export type DispatchMode =
  /** Queued commands only (a NOTIFY woke us). */
  | { resend: 'none' }
  /** Also every unacknowledged one (after a welcome). */
  | { resend: 'all' }
  /** Also unacknowledged ones sent at or before this time (the periodic sweep). */
  | { resend: 'before'; before: Date };

export interface AgentSession {
  readonly sessionId: string;
  /** Set once the hello is verified. */
  readonly agentId: string | null;
  readonly siteId: string | null;
  readonly welcomed: boolean;
  /** Claims and sends the agent's commands; runs are serialised, a request during one reruns it. */
  dispatch(mode: DispatchMode): void;
  /** Sends a fatal error and closes with its code. */
  refuse(closeCode: number, code: string, message: string): void;
  close(code: number, reason: string): void;
  /** Settles once the socket closed, queued frames were applied and the agent row updated. */
  readonly closed: Promise<void>;
}

const DURABLE_TYPES: readonly string[] = DURABLE_AGENT_MESSAGE_TYPES;
const TRANSIENT_TYPES: readonly string[] = ['hello', 'heartbeat', 'error'];
const MAX_ACK_IDS = 10_000;
/**
 * How long an acknowledgement may wait to share a frame with later ones. Acks also go out when
 * the connection's queue runs empty, but a queue that never does (an agent sending faster than
 * its messages are applied) must not hold them back: the agent would keep everything in its
 * outbox and send it all again on its next connection.
 */
const ACK_DELAY_MS = 100;
const INTERNAL_ERROR = 1011;

interface QueuedFrame {
  /** Null for a binary frame. */
  text: string | null;
  /** Arrived before the welcome was sent: only the one hello may. */
  beforeWelcome: boolean;
  /** The frame parsed, once something looked at it. */
  parsed?: ReturnType<typeof parseAgentFrame>;
}

function frameText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function isDurable(message: AgentMessage): message is DurableMessage {
  return DURABLE_TYPES.includes(message.type);
}

/** The frame's `type` when it is JSON with a string type; for the record of a refused message. */
function typeOfFrame(text: string): string {
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * One agent connection: challenge, verified hello, welcome, then durable messages applied in
 * arrival order (one transaction each, acknowledged after commit), heartbeats answered, and the
 * agent's commands claimed, signed and sent.
 */
export function createAgentSession(
  ws: WebSocket,
  request: IncomingMessage,
  context: SessionContext,
): AgentSession {
  const { db, log, limits } = context;
  const sessionId = randomUUID();
  const nonce = randomBytes(32).toString('base64url');
  const remote = request.socket.remoteAddress;
  const newestVersion = Math.max(...context.acceptedVersions);

  let agentId: string | null = null;
  let siteId: string | null = null;
  let verbs: readonly string[] = [];
  let protocolVersion: number | null = null;
  let helloSeen = false;
  let welcomed = false;
  let ending = false;
  let lastSeenWrittenAt = 0;
  const queue: QueuedFrame[] = [];
  let pumping: Promise<void> | null = null;
  let pendingAcks: string[] = [];
  let ackTimer: NodeJS.Timeout | undefined;
  let tokens = limits.frameBurst;
  let refilledAt = Date.now();
  let throttledUntil = 0;
  let throttleTimer: NodeJS.Timeout | undefined;
  let dispatching: Promise<void> | null = null;
  let nextDispatch: DispatchMode | null = null;

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const handshakeTimer = setTimeout(() => {
    if (welcomed || ending) return;
    log.warn('Closing a connection that did not complete the handshake in time.', { remote });
    close(CLOSE_CODES.malformed, 'handshake timeout');
  }, limits.handshakeTimeoutMs);
  const deadAfterMs = limits.heartbeatIntervalMs * limits.deadAfterIntervals;
  const deadTimer = setTimeout(() => {
    log.warn('Closing a silent agent connection.', { agentId, silentForMs: deadAfterMs });
    ws.terminate();
  }, deadAfterMs);

  function envelope<T extends ServerMessageType>(type: T) {
    return {
      v: protocolVersion ?? newestVersion,
      id: randomUUID(),
      type,
      sentAt: new Date().toISOString(),
    };
  }

  function transmit(message: ServerMessage): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // Every frame we send keeps to the schema; a bug here must not reach an agent.
    ws.send(JSON.stringify(ServerMessageSchema.parse(message)));
  }

  function sendError(code: string, message: string, refId?: string): void {
    transmit({
      ...envelope('error'),
      code,
      message: message.slice(0, 2_000),
      fatal: false,
      ...(refId === undefined ? {} : { refId }),
    });
  }

  function close(code: number, reason: string): void {
    if (ending) return;
    ending = true;
    ws.close(code, reason);
  }

  function refuse(closeCode: number, code: string, message: string, refId?: string): void {
    if (ending) return;
    transmit({
      ...envelope('error'),
      code,
      message,
      fatal: true,
      ...(refId === undefined ? {} : { refId }),
    });
    log.info('Agent connection refused.', { agentId, code, closeCode, remote });
    close(closeCode, code);
  }

  function acknowledge(messageId: string): void {
    pendingAcks.push(messageId);
    ackTimer ??= setTimeout(flushAcks, ACK_DELAY_MS);
  }

  function flushAcks(): void {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    while (pendingAcks.length > 0) {
      const ids = pendingAcks.slice(0, MAX_ACK_IDS);
      pendingAcks = pendingAcks.slice(MAX_ACK_IDS);
      transmit({ ...envelope('ack'), ids });
    }
  }

  function maybeResume(): void {
    if (ending || !ws.isPaused) return;
    if (Date.now() < throttledUntil) return;
    if (queue.length > limits.maxQueuedFrames / 4) return;
    ws.resume();
  }

  /** Token bucket over frames; an empty bucket pauses reading instead of dropping anything. */
  function takeToken(): void {
    const now = Date.now();
    tokens = Math.min(
      limits.frameBurst,
      tokens + ((now - refilledAt) / 1000) * limits.framesPerSecond,
    );
    refilledAt = now;
    tokens -= 1;
    if (tokens >= 0) return;
    const waitMs = Math.ceil((-tokens / limits.framesPerSecond) * 1000);
    throttledUntil = now + waitMs;
    ws.pause();
    clearTimeout(throttleTimer);
    throttleTimer = setTimeout(maybeResume, waitMs);
  }

  ws.on('message', (data, isBinary) => {
    deadTimer.refresh();
    takeToken();
    queue.push({ text: isBinary ? null : frameText(data), beforeWelcome: !welcomed });
    if (queue.length >= limits.maxQueuedFrames) ws.pause();
    pumping ??= pump().finally(() => {
      pumping = null;
    });
  });
  ws.on('ping', () => deadTimer.refresh());
  ws.on('pong', () => deadTimer.refresh());
  ws.on('error', (error) => {
    log.warn('Agent connection error.', { agentId, error: errorText(error) });
  });
  ws.on('close', (code) => {
    ending = true;
    clearTimeout(handshakeTimer);
    clearTimeout(deadTimer);
    clearTimeout(throttleTimer);
    clearTimeout(ackTimer);
    context.onClosed(session);
    void finish(code);
  });

  async function finish(code: number): Promise<void> {
    try {
      await pumping;
      await dispatching;
      if (agentId !== null && welcomed) {
        await markOffline();
        log.info('Agent disconnected.', { agentId, code });
      }
    } catch (error) {
      log.error('Could not record the agent as disconnected.', {
        agentId,
        error: errorText(error),
      });
    } finally {
      resolveClosed();
    }
  }

  async function markOffline(): Promise<void> {
    if (agentId === null || siteId === null) return;
    const id = agentId;
    const site = siteId;
    await db.transaction(async (tx) => {
      const updated = await tx
        .update(agents)
        .set({ status: 'offline', sessionId: null, disconnectedAt: new Date() })
        .where(and(eq(agents.id, id), eq(agents.sessionId, sessionId)))
        .returning({ id: agents.id });
      if (updated.length > 0) {
        await notifyFleet(tx, {
          event: 'agent-status',
          agentId: id,
          siteId: site,
          status: 'offline',
        });
      }
    });
  }

  /** Parses a frame of an authenticated connection if it is a command report, else null. */
  function commandReportOf(frame: QueuedFrame): CommandReportMessage | null {
    if (frame.beforeWelcome || frame.text === null || agentId === null) return null;
    frame.parsed ??= parseAgentFrame(frame.text);
    return frame.parsed.ok && isCommandReport(frame.parsed.value) ? frame.parsed.value : null;
  }

  /**
   * The command reports at the head of the queue, starting with this frame's (acks, progress and
   * results come in runs while commands are busy): applied together, in order. Null when the
   * frame is something else.
   */
  function takeCommandReports(frame: QueuedFrame): CommandReportMessage[] | null {
    const first = commandReportOf(frame);
    if (first === null) return null;
    const reports = [first];
    while (reports.length < MAX_REPORTS_PER_TRANSACTION && queue.length > 0) {
      const next = commandReportOf(queue[0]!);
      if (next === null) break;
      queue.shift();
      reports.push(next);
    }
    return reports;
  }

  async function onCommandReports(reports: readonly CommandReportMessage[]): Promise<void> {
    if (ending || agentId === null || siteId === null) return;
    const scope = { agentId, siteId };
    const results = await context.ingestGate.run(() => ingestCommandReports(db, scope, reports));
    reports.forEach((report, index) => ingested(report.id, results[index]!));
  }

  /** After the commit: what the message revealed is logged, and it is acknowledged. */
  function ingested(messageId: string, result: IngestResult): void {
    if (result.conflicts > 0) {
      log.warn('An agent reported cameras registered to another site; recorded as conflicts.', {
        agentId,
        conflicts: result.conflicts,
      });
    }
    if (result.unknownCommand) {
      log.warn('An agent reported on a command it was not sent.', { agentId, messageId });
    }
    acknowledge(messageId);
  }

  async function pump(): Promise<void> {
    for (let frame = queue.shift(); frame !== undefined; frame = queue.shift()) {
      if (ws.readyState !== WebSocket.OPEN && !welcomed) return;
      try {
        const reports = ending ? null : takeCommandReports(frame);
        if (reports === null) await handleFrame(frame);
        else await onCommandReports(reports);
      } catch (error) {
        // The database failed: nothing is acknowledged, so the agent keeps every message and
        // replays it on its next connection.
        log.error('An agent message could not be applied; closing so the agent replays it.', {
          agentId,
          error: errorText(error),
        });
        queue.length = 0;
        pendingAcks = [];
        clearTimeout(ackTimer);
        ackTimer = undefined;
        close(INTERNAL_ERROR, 'server error');
        return;
      }
      if (queue.length === 0 || pendingAcks.length >= 1_000) flushAcks();
      maybeResume();
    }
    flushAcks();
  }

  async function handleFrame(frame: QueuedFrame): Promise<void> {
    if (ending) return;
    if (frame.text === null) {
      refuse(CLOSE_CODES.malformed, 'not-json', 'Binary frames are not part of the protocol.');
      return;
    }
    const parsed = frame.parsed ?? parseAgentFrame(frame.text);
    if (frame.beforeWelcome) {
      if (!parsed.ok) {
        refuse(CLOSE_CODES.malformed, parsed.error.code, parsed.error.message, parsed.error.refId);
        return;
      }
      if (parsed.value.type !== 'hello' || helloSeen) {
        refuse(
          CLOSE_CODES.malformed,
          'unexpected-message',
          `Only a hello is accepted before the welcome, not a ${parsed.value.type}.`,
          parsed.value.id,
        );
        return;
      }
      helloSeen = true;
      await onHello(parsed.value);
      return;
    }
    if (!parsed.ok) {
      await onMalformed(parsed.error, frame.text);
      return;
    }
    await onMessage(parsed.value);
  }

  async function onMalformed(error: FrameError, text: string): Promise<void> {
    log.warn('Malformed frame from an agent.', { agentId, code: error.code, refId: error.refId });
    sendError(error.code, error.message, error.refId);
    const type = error.refId === undefined ? 'unknown' : typeOfFrame(text);
    // A durable message that will never validate is acknowledged all the same (a replay would
    // fail forever) and kept for diagnosis. Only the transient types are never acknowledged; an
    // unknown type may be some newer agent's durable message.
    if (
      error.refId !== undefined &&
      agentId !== null &&
      siteId !== null &&
      !TRANSIENT_TYPES.includes(type)
    ) {
      await recordRefusedMessage(
        db,
        { agentId, siteId },
        {
          id: error.refId,
          type,
          error: { code: error.code, message: error.message },
          frame: text,
        },
      );
      acknowledge(error.refId);
    }
  }

  async function onHello(hello: Extract<AgentMessage, { type: 'hello' }>): Promise<void> {
    const [agent] = await db
      .select({
        id: agents.id,
        siteId: agents.siteId,
        publicKey: agents.publicKey,
        revokedAt: agents.revokedAt,
      })
      .from(agents)
      .where(eq(agents.id, hello.agentId));
    if (agent === undefined) {
      refuse(CLOSE_CODES.authFailed, 'unknown-agent', 'No enrolled agent has this id.', hello.id);
      return;
    }
    if (!namesThisGateway(hello.gatewayUrl, request.headers, context.address)) {
      refuse(
        CLOSE_CODES.authFailed,
        'wrong-gateway',
        'The hello was signed for another gateway URL than this server.',
        hello.id,
      );
      return;
    }
    const signed = authSigningText({ agentId: hello.agentId, nonce, gatewayUrl: hello.gatewayUrl });
    if (!verifySignature(agent.publicKey, signed, hello.signature)) {
      refuse(
        CLOSE_CODES.authFailed,
        'bad-signature',
        'The hello signature does not verify.',
        hello.id,
      );
      return;
    }
    if (agent.revokedAt !== null) {
      refuse(CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.', hello.id);
      return;
    }
    const version = negotiateProtocolVersion(hello.protocolVersions, context.acceptedVersions);
    if (version === null) {
      refuse(
        CLOSE_CODES.unsupportedVersion,
        'unsupported-version',
        `No shared protocol version: this server accepts ${context.acceptedVersions.join(', ')}.`,
        hello.id,
      );
      return;
    }
    agentId = agent.id;
    siteId = agent.siteId;
    verbs = hello.capabilities.verbs;
    // Registered before the row is claimed, so a revocation or replacement notified meanwhile
    // finds this session.
    context.onAuthenticated(session);
    const claimed = await db.transaction(async (tx) => {
      const rows = await tx
        .update(agents)
        .set({
          status: 'online',
          sessionId,
          protocolVersion: version,
          version: hello.agentVersion,
          capabilities: hello.capabilities,
          connectedAt: sql`now()`,
          lastSeenAt: sql`now()`,
        })
        .where(and(eq(agents.id, agent.id), isNull(agents.revokedAt)))
        .returning({ id: agents.id });
      if (rows.length === 0) return false;
      await notifyAgent(tx, { event: 'connected', agentId: agent.id, sessionId });
      await notifyFleet(tx, {
        event: 'agent-status',
        agentId: agent.id,
        siteId: agent.siteId,
        status: 'online',
      });
      return true;
    });
    if (!claimed) {
      refuse(CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.', hello.id);
      return;
    }
    if (ending) return;
    lastSeenWrittenAt = Date.now();
    protocolVersion = version;
    welcomed = true;
    clearTimeout(handshakeTimer);
    transmit({
      ...envelope('welcome'),
      agentId: agent.id,
      protocolVersion: version,
      heartbeatIntervalMs: limits.heartbeatIntervalMs,
      serverTime: new Date().toISOString(),
    });
    log.info('Agent connected.', {
      agentId: agent.id,
      protocolVersion: version,
      agentVersion: hello.agentVersion,
      remote,
    });
    dispatch({ resend: 'all' });
  }

  async function onMessage(message: AgentMessage): Promise<void> {
    if (agentId === null || siteId === null) return;
    if (isDurable(message)) {
      const scope = { agentId, siteId };
      const result = await context.ingestGate.run(() => ingestDurableMessage(db, scope, message));
      ingested(message.id, result);
      return;
    }
    switch (message.type) {
      case 'heartbeat':
        transmit({ ...envelope('heartbeat'), serverTime: new Date().toISOString() });
        await recordHeartbeat(message);
        return;
      case 'hello':
        sendError('unexpected-message', 'This connection is already authenticated.', message.id);
        return;
      case 'error':
        log.warn('The agent could not handle a frame.', {
          agentId,
          code: message.code,
          refId: message.refId,
        });
        return;
    }
  }

  async function recordHeartbeat(
    heartbeat: Extract<AgentMessage, { type: 'heartbeat' }>,
  ): Promise<void> {
    if (agentId === null || Date.now() - lastSeenWrittenAt < limits.lastSeenWriteIntervalMs) {
      return;
    }
    lastSeenWrittenAt = Date.now();
    const updated = await db
      .update(agents)
      .set({
        lastSeenAt: sql`now()`,
        outboxDepth: heartbeat.outboxDepth,
        runningCommands: heartbeat.runningCommands,
      })
      .where(and(eq(agents.id, agentId), eq(agents.sessionId, sessionId)))
      .returning({ siteId: agents.siteId });
    // Live agent pages show the new last contact; as rare as the write above.
    const [row] = updated;
    if (row !== undefined) {
      await notifyFleet(db, { event: 'agent-heartbeat', agentId, siteId: row.siteId });
    }
  }

  function dispatch(mode: DispatchMode): void {
    if (!welcomed || ending) return;
    if (dispatching !== null) {
      // Widen a pending rerun rather than lose what this request asked for.
      if (nextDispatch === null || mode.resend === 'all') nextDispatch = mode;
      else if (mode.resend === 'before' && nextDispatch.resend === 'none') nextDispatch = mode;
      return;
    }
    dispatching = runDispatch(mode)
      .catch((error: unknown) => {
        log.error('Dispatching commands failed; the periodic sweep retries.', {
          agentId,
          error: errorText(error),
        });
      })
      .finally(() => {
        dispatching = null;
        const next = nextDispatch;
        nextDispatch = null;
        if (next !== null) dispatch(next);
      });
  }

  async function runDispatch(mode: DispatchMode): Promise<void> {
    if (agentId === null) return;
    const now = new Date();
    const resendBefore =
      mode.resend === 'all' ? now : mode.resend === 'before' ? mode.before : null;
    for (;;) {
      if (ending) return;
      const claimed = await claimCommands(db, {
        agentId,
        processId: context.processId,
        now,
        resendBefore,
        limit: limits.dispatchBatch,
      });
      for (const command of claimed) {
        if (ending) return;
        await sendCommand(command);
      }
      if (claimed.length < limits.dispatchBatch) return;
    }
  }

  async function sendCommand(
    command: Awaited<ReturnType<typeof claimCommands>>[number],
  ): Promise<void> {
    const { payload } = command;
    if (!verbs.includes(payload.verb)) {
      await failUnsentCommand(db, command.id, {
        code: 'unsupported-verb',
        message: `The agent does not offer ${payload.verb}; upgrade it or enable the verb.`,
      });
      return;
    }
    // Its requester may have lost access to the site since the claim (a revoked grant).
    if (!(await confirmSendable(db, command.id))) return;
    let secrets: Record<string, CredentialSecret>;
    try {
      secrets = await context.resolveSecrets({
        commandId: command.id,
        agentId: payload.agentId,
        serial: payload.serial,
        verb: payload.verb,
        secretsRef: command.secretsRef ?? {},
      });
    } catch (error) {
      log.warn('A command could not be sent: its credentials are unavailable.', {
        agentId,
        commandId: command.id,
        error: errorText(error),
      });
      await failUnsentCommand(db, command.id, {
        code: 'secrets-unavailable',
        message: errorText(error),
      });
      return;
    }
    const signedPayload: Record<string, unknown> = { ...payload, secrets };
    const valid = CommandPayloadSchema.safeParse(signedPayload);
    if (!valid.success) {
      const paths = valid.error.issues.slice(0, 3).map((issue) => issue.path.join('.'));
      await failUnsentCommand(db, command.id, {
        code: 'malformed',
        message: `The stored command does not make a valid payload (${paths.join(', ')}).`,
      });
      return;
    }
    const signature = context.signer.sign(commandSigningText(signedPayload));
    // Never logged: the payload carries secrets.
    transmit({ ...envelope('command'), payload: signedPayload, signature });
  }

  const session: AgentSession = {
    sessionId,
    get agentId() {
      return agentId;
    },
    get siteId() {
      return siteId;
    },
    get welcomed() {
      return welcomed;
    },
    dispatch,
    refuse: (closeCode, code, message) => refuse(closeCode, code, message),
    close,
    closed,
  };

  transmit({
    ...envelope('challenge'),
    nonce,
    protocolVersions: [...context.acceptedVersions],
  });
  return session;
}
