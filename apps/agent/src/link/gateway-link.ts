import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  AgentMessageSchema,
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  authSigningText,
  err,
  negotiateProtocolVersion,
  parseServerFrame,
  type AgentMessage,
  type FrameError,
  type Result,
  type ServerMessage,
} from '@custody/core';
import WebSocket from 'ws';
import { signText } from '../identity/ed25519.ts';
import type { AgentIdentity, Outbox } from '../store/store-contracts.ts';
import { AGENT_VERSION } from '../version.ts';
import {
  createAgentMessage,
  isDurableAgentMessage,
  type AgentMessageOf,
  type DurableAgentMessage,
  type TransientAgentMessage,
} from './agent-message.ts';
import { createBackoff, type Backoff } from './backoff.ts';
import { checkGatewayUrl } from './check-gateway-url.ts';
import { GatewayLinkError } from './gateway-link-error.ts';
import { silentLogger, type LinkLogger } from './link-logger.ts';

export const LINK_STATES = [
  'connecting',
  'connected',
  'backing-off',
  'revoked',
  'auth-failed',
  'stopped',
] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** States the link never leaves: revoked and auth-failed need an operator to re-enroll. */
export type TerminalLinkState = Extract<LinkState, 'revoked' | 'auth-failed' | 'stopped'>;

export interface LinkStatus {
  state: LinkState;
  /** When the link entered this state (ISO-8601). */
  since: string;
  gatewayUrl: string;
  /** The negotiated version while connected. */
  protocolVersion: number | null;
  /** Consecutive connection attempts that failed; 0 once a welcome arrives. */
  failedAttempts: number;
  /** While backing off: the delay before the next attempt. */
  retryInMs: number | null;
  lastCloseCode: number | null;
  /** Why the last connection ended or failed, in words safe for a log. */
  lastError: string | null;
}

export type CommandMessage = Extract<ServerMessage, { type: 'command' }>;
export type AgentCapabilities = AgentMessageOf<'hello'>['capabilities'];

export interface GatewayLinkOptions {
  identity: Pick<AgentIdentity, 'agentId' | 'gatewayUrl' | 'privateKeyPem'>;
  outbox: Outbox;
  /**
   * Receives every command exactly as it arrived (signature unchecked: that is the executor's
   * job). Called in arrival order and not awaited; a rejection is logged.
   */
  onCommand: (message: CommandMessage) => void | Promise<void>;
  capabilities: AgentCapabilities;
  agentVersion?: string;
  /** Versions offered in `hello`; the gateway picks the highest it shares. */
  protocolVersions?: readonly number[];
  /** Reported in heartbeats. */
  runningCommands?: () => number;
  onStateChange?: (status: LinkStatus) => void;
  logger?: LinkLogger;
  /** Aborting stops the link, as stop() does. */
  signal?: AbortSignal;
  /** Permits ws:// to a host that is not loopback. Never the default. */
  allowInsecure?: boolean;
  /** Extra trusted CA certificates (PEM) for a gateway behind a private CA; verification stays on. */
  ca?: string | Buffer;
  backoff?: Backoff;
  /** From dialling to `welcome`; past it the attempt counts as failed. */
  handshakeTimeoutMs?: number;
  /** The connection is declared dead after this many heartbeat intervals without a frame. */
  deadAfterIntervals?: number;
  /** How long stop() waits for the closing handshake before dropping the socket. */
  stopTimeoutMs?: number;
}

export interface GatewayLink {
  readonly state: LinkState;
  /**
   * The protocol version to write durable messages in: the negotiated one of the current or last
   * connection, the newest offered before the first welcome. A message keeps its version through
   * every replay.
   */
  readonly messageVersion: number;
  status(): LinkStatus;
  /** Adds a listener called on every state change; returns its removal. */
  onStateChange(listener: (status: LinkStatus) => void): () => void;
  /**
   * Journals a durable message in the outbox, then sends it if the link is connected; otherwise it
   * goes out with the replay after the next welcome. Resolves once journaled, not once delivered.
   */
  enqueue(message: DurableAgentMessage): Promise<void>;
  /** Sends a transient message on the current connection; false when not connected. */
  send(message: TransientAgentMessage): boolean;
  /** Closes the connection cleanly and stops reconnecting. */
  stop(): Promise<void>;
  /** Settles with the state the link ended in. */
  readonly closed: Promise<TerminalLinkState>;
}

const DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  deadAfterIntervals: 2.5,
  stopTimeoutMs: 2_000,
} as const;
const NORMAL_CLOSURE = 1000;
const MAX_ERROR_TEXT = 2_000;

/** One WebSocket connection attempt and what belongs to it alone. */
interface Session {
  ws: WebSocket;
  helloSent: boolean;
  welcomed: boolean;
  protocolVersion: number | null;
  /** Durable ids already sent on this connection, so a replay and a fresh send do not overlap. */
  sent: Set<string>;
  handshakeTimer?: NodeJS.Timeout | undefined;
  heartbeatTimer?: NodeJS.Timeout | undefined;
  deadTimer?: NodeJS.Timeout | undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function frameText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function checkOutgoing(message: AgentMessage): string {
  const parsed = AgentMessageSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatewayLinkError(
      'invalid-message',
      `The ${message.type} message does not match the protocol` +
        (issue ? ` (${issue.path.join('.') || 'message'}: ${issue.message}).` : '.'),
      { cause: parsed.error },
    );
  }
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES) {
    throw new GatewayLinkError(
      'invalid-message',
      `The ${message.type} message is larger than a frame may be (${MAX_FRAME_BYTES} bytes).`,
    );
  }
  return text;
}

/**
 * The agent's one outbound connection to the gateway: challenge-response authentication with the
 * agent key, outbox replay, heartbeats and dead-connection detection, and reconnection with
 * jittered backoff until it is stopped, revoked or refused authentication. Starts connecting at
 * once. Throws GatewayLinkError for a URL or key it must not use.
 */
export function createGatewayLink(options: GatewayLinkOptions): GatewayLink {
  const { identity, outbox } = options;
  const gatewayUrl = identity.gatewayUrl;
  checkGatewayUrl(gatewayUrl, { allowInsecure: options.allowInsecure ?? false });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(identity.privateKeyPem);
  } catch (cause) {
    throw new GatewayLinkError('invalid-identity', 'The agent private key cannot be read.', {
      cause,
    });
  }
  const protocolVersions = [...(options.protocolVersions ?? [PROTOCOL_VERSION])];
  if (protocolVersions.length === 0) {
    throw new RangeError('The link needs at least one protocol version to offer.');
  }
  const helloVersion = Math.max(...protocolVersions);
  const agentVersion = options.agentVersion ?? AGENT_VERSION;
  const logger = options.logger ?? silentLogger;
  const backoff = options.backoff ?? createBackoff();
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
  const deadAfterIntervals = options.deadAfterIntervals ?? DEFAULTS.deadAfterIntervals;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
  const listeners = new Set<(status: LinkStatus) => void>();
  if (options.onStateChange) listeners.add(options.onStateChange);

  let status: LinkStatus = {
    state: 'connecting',
    since: new Date().toISOString(),
    gatewayUrl,
    protocolVersion: null,
    failedAttempts: 0,
    retryInMs: null,
    lastCloseCode: null,
    lastError: null,
  };
  let session: Session | undefined;
  let negotiatedVersion: number | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let ended = false;
  let resolveClosed: (state: TerminalLinkState) => void = () => undefined;
  const closed = new Promise<TerminalLinkState>((resolve) => {
    resolveClosed = resolve;
  });
  const onAbort = () => void stop();

  function update(patch: Partial<LinkStatus>): void {
    const changed = patch.state !== undefined && patch.state !== status.state;
    status = {
      ...status,
      ...patch,
      ...(changed ? { since: new Date().toISOString() } : {}),
    };
    if (!changed) return;
    for (const listener of listeners) {
      try {
        listener({ ...status });
      } catch (error) {
        logger.error('A link state listener failed.', { error: errorText(error) });
      }
    }
  }

  function end(state: TerminalLinkState): void {
    if (ended) return;
    ended = true;
    clearTimeout(retryTimer);
    options.signal?.removeEventListener('abort', onAbort);
    update({ state, protocolVersion: null, retryInMs: null });
    resolveClosed(state);
  }

  function transmit(current: Session, text: string): boolean {
    if (current.ws.readyState !== WebSocket.OPEN) return false;
    current.ws.send(text);
    return true;
  }

  function sendDurable(current: Session, message: DurableAgentMessage): void {
    if (current.sent.has(message.id)) return;
    if (transmit(current, JSON.stringify(message))) current.sent.add(message.id);
  }

  function sendError(current: Session, code: string, message: string, refId?: string): void {
    const error = createAgentMessage(
      'error',
      { code, message: message.slice(0, MAX_ERROR_TEXT), ...(refId ? { refId } : {}) },
      { v: current.protocolVersion ?? helloVersion },
    );
    transmit(current, JSON.stringify(error));
  }

  function clearSessionTimers(current: Session): void {
    clearTimeout(current.handshakeTimer);
    clearInterval(current.heartbeatTimer);
    clearTimeout(current.deadTimer);
  }

  /** Ends this connection as a protocol violation; the close event schedules the retry. */
  function abandon(current: Session, code: number, reason: string): void {
    update({ lastError: reason });
    logger.warn('Closing the gateway connection.', { code, reason });
    current.ws.close(code, reason);
  }

  function connect(): void {
    retryTimer = undefined;
    update({ state: 'connecting', retryInMs: null, protocolVersion: null });
    let ws: WebSocket;
    try {
      ws = new WebSocket(gatewayUrl, {
        maxPayload: MAX_FRAME_BYTES,
        perMessageDeflate: false,
        handshakeTimeout: handshakeTimeoutMs,
        headers: { 'user-agent': `custody-agent/${agentVersion}` },
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
      });
    } catch (error) {
      update({ lastError: errorText(error) });
      scheduleRetry();
      return;
    }
    const current: Session = {
      ws,
      helloSent: false,
      welcomed: false,
      protocolVersion: null,
      sent: new Set(),
    };
    session = current;
    current.handshakeTimer = setTimeout(() => {
      update({ lastError: `No welcome from the gateway within ${handshakeTimeoutMs} ms.` });
      logger.warn('The gateway did not complete the handshake in time.', { handshakeTimeoutMs });
      ws.terminate();
    }, handshakeTimeoutMs);
    ws.on('message', (data, isBinary) => onFrame(current, data, isBinary));
    ws.on('ping', () => current.deadTimer?.refresh());
    ws.on('error', (error) => {
      if (stopping) return;
      update({ lastError: error.message });
      logger.warn('Gateway connection error.', { gatewayUrl, error: error.message });
    });
    ws.on('close', (code, reason) => onClose(current, code, reason.toString('utf8')));
  }

  function onFrame(current: Session, data: WebSocket.RawData, isBinary: boolean): void {
    current.deadTimer?.refresh();
    const parsed: Result<ServerMessage, FrameError> = isBinary
      ? err({ code: 'not-json', message: 'Binary frames are not part of the protocol.' })
      : parseServerFrame(frameText(data));
    if (!parsed.ok) {
      logger.warn('Malformed frame from the gateway.', {
        code: parsed.error.code,
        refId: parsed.error.refId,
      });
      if (!current.welcomed) {
        abandon(current, CLOSE_CODES.malformed, 'Malformed frame during the handshake.');
        return;
      }
      sendError(current, parsed.error.code, parsed.error.message, parsed.error.refId);
      return;
    }
    handleMessage(current, parsed.value);
  }

  function handleMessage(current: Session, message: ServerMessage): void {
    if (!current.welcomed) {
      if (message.type === 'challenge' && !current.helloSent)
        return answerChallenge(current, message);
      if (message.type === 'welcome' && current.helloSent) return acceptWelcome(current, message);
      if (message.type === 'error') return logServerError(message);
      if (message.type === 'heartbeat') return;
      abandon(current, CLOSE_CODES.malformed, `Unexpected ${message.type} during the handshake.`);
      return;
    }
    switch (message.type) {
      case 'ack':
        for (const id of message.ids) current.sent.delete(id);
        outbox.acknowledge(message.ids).catch((error: unknown) => {
          logger.error('The outbox could not record an acknowledgement.', {
            error: errorText(error),
          });
        });
        return;
      case 'command':
        logger.info('Command received.', { messageId: message.id });
        Promise.resolve(message)
          .then((command) => options.onCommand(command))
          .catch((error: unknown) => {
            logger.error('The command handler failed.', {
              messageId: message.id,
              error: errorText(error),
            });
          });
        return;
      case 'heartbeat':
        return;
      case 'error':
        logServerError(message);
        return;
      case 'challenge':
      case 'welcome':
        sendError(
          current,
          'unexpected-message',
          `A ${message.type} is not expected after the welcome.`,
          message.id,
        );
        return;
    }
  }

  function logServerError(message: Extract<ServerMessage, { type: 'error' }>): void {
    const fields = { code: message.code, message: message.message, refId: message.refId };
    if (message.fatal) logger.error('The gateway reported a fatal error.', fields);
    else logger.warn('The gateway reported an error.', fields);
  }

  function answerChallenge(
    current: Session,
    challenge: Extract<ServerMessage, { type: 'challenge' }>,
  ): void {
    if (negotiateProtocolVersion(protocolVersions, challenge.protocolVersions) === null) {
      logger.error('The gateway speaks no protocol version this agent does; upgrade the agent.', {
        agentVersions: protocolVersions,
        gatewayVersions: challenge.protocolVersions,
      });
    }
    const signature = signText(
      privateKey,
      authSigningText({ agentId: identity.agentId, nonce: challenge.nonce, gatewayUrl }),
    );
    const hello = createAgentMessage(
      'hello',
      {
        agentId: identity.agentId,
        protocolVersions,
        agentVersion,
        capabilities: options.capabilities,
        gatewayUrl,
        signature,
      },
      { v: helloVersion },
    );
    current.helloSent = transmit(current, checkOutgoing(hello));
  }

  function acceptWelcome(
    current: Session,
    welcome: Extract<ServerMessage, { type: 'welcome' }>,
  ): void {
    if (welcome.agentId !== identity.agentId) {
      abandon(current, CLOSE_CODES.malformed, 'The gateway welcomed another agent id.');
      return;
    }
    if (!protocolVersions.includes(welcome.protocolVersion)) {
      abandon(
        current,
        CLOSE_CODES.unsupportedVersion,
        `The gateway chose protocol version ${welcome.protocolVersion}, which was not offered.`,
      );
      return;
    }
    clearTimeout(current.handshakeTimer);
    current.welcomed = true;
    current.protocolVersion = welcome.protocolVersion;
    negotiatedVersion = welcome.protocolVersion;
    backoff.succeeded();
    const interval = welcome.heartbeatIntervalMs;
    current.heartbeatTimer = setInterval(() => {
      const heartbeat = createAgentMessage(
        'heartbeat',
        { outboxDepth: outbox.depth, runningCommands: options.runningCommands?.() ?? 0 },
        { v: welcome.protocolVersion },
      );
      transmit(current, JSON.stringify(heartbeat));
    }, interval);
    current.deadTimer = setTimeout(() => {
      const silentMs = Math.round(interval * deadAfterIntervals);
      update({ lastError: `No frame from the gateway for ${silentMs} ms.` });
      logger.warn('The gateway connection went silent; reconnecting.', { silentMs });
      current.ws.terminate();
    }, interval * deadAfterIntervals);
    update({
      state: 'connected',
      protocolVersion: welcome.protocolVersion,
      failedAttempts: 0,
      lastError: null,
    });
    logger.info('Connected to the gateway.', {
      gatewayUrl,
      protocolVersion: welcome.protocolVersion,
      pending: outbox.depth,
    });
    for (const message of outbox.pending()) {
      if (isDurableAgentMessage(message)) sendDurable(current, message);
    }
  }

  function onClose(current: Session, code: number, reason: string): void {
    clearSessionTimers(current);
    if (session === current) session = undefined;
    update({ lastCloseCode: code, protocolVersion: null });
    if (stopping || ended) {
      end('stopped');
      return;
    }
    if (code === CLOSE_CODES.revoked) {
      logger.error('The gateway revoked this agent; an operator must enroll it again.', { code });
      update({ lastError: reason || 'The agent was revoked.' });
      end('revoked');
      return;
    }
    if (code === CLOSE_CODES.authFailed) {
      logger.error('The gateway refused the credentials of this agent; enroll it again.', { code });
      update({ lastError: reason || 'Authentication failed.' });
      end('auth-failed');
      return;
    }
    if (code === CLOSE_CODES.unsupportedVersion) {
      logger.error('The gateway shares no protocol version with this agent; upgrade the agent.', {
        code,
      });
    } else {
      logger.warn('The gateway connection closed.', { code, reason });
    }
    if (reason !== '') update({ lastError: reason });
    scheduleRetry();
  }

  function scheduleRetry(): void {
    const delay = backoff.next();
    const failedAttempts = status.failedAttempts + 1;
    update({ state: 'backing-off', retryInMs: delay, failedAttempts });
    logger.info('Reconnecting to the gateway after a delay.', { delayMs: delay, failedAttempts });
    retryTimer = setTimeout(connect, delay);
  }

  async function stop(): Promise<void> {
    if (!ended && !stopping) {
      stopping = true;
      clearTimeout(retryTimer);
      const current = session;
      if (current === undefined) {
        end('stopped');
      } else {
        const killer = setTimeout(() => current.ws.terminate(), stopTimeoutMs);
        current.ws.close(NORMAL_CLOSURE, 'agent stopping');
        await closed;
        clearTimeout(killer);
      }
    }
    await closed;
  }

  async function enqueue(message: DurableAgentMessage): Promise<void> {
    if (!isDurableAgentMessage(message)) {
      throw new GatewayLinkError(
        'invalid-message',
        `A ${(message as AgentMessage).type} message is not durable; send() it instead.`,
      );
    }
    checkOutgoing(message);
    await outbox.append(message);
    const current = session;
    if (current?.welcomed) sendDurable(current, message);
  }

  function send(message: TransientAgentMessage): boolean {
    const type = (message as AgentMessage).type;
    if (type !== 'heartbeat' && type !== 'error') {
      throw new GatewayLinkError(
        'invalid-message',
        `A ${type} message is not sent with send(): durable ones go through enqueue().`,
      );
    }
    const text = checkOutgoing(message);
    const current = session;
    return current?.welcomed === true && transmit(current, text);
  }

  if (options.signal?.aborted) {
    stopping = true;
    end('stopped');
  } else {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    connect();
  }

  return {
    get state() {
      return status.state;
    },
    get messageVersion() {
      return negotiatedVersion ?? helloVersion;
    },
    status: () => ({ ...status }),
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    enqueue,
    send,
    stop,
    closed,
  };
}
