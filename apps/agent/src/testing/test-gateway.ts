import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CLOSE_CODES,
  DURABLE_AGENT_MESSAGE_TYPES,
  EnrollRequestSchema,
  EnrollResponseSchema,
  MAX_FRAME_BYTES,
  ServerMessageSchema,
  acceptedProtocolVersions,
  authSigningText,
  commandSigningText,
  err,
  negotiateProtocolVersion,
  parseAgentFrame,
  type AgentMessage,
  type AgentMessageType,
  type EnrollResponse,
  type FrameError,
  type Result,
  type ServerMessage,
  type ServerMessageType,
} from '@custody/core';
import WebSocket, { WebSocketServer } from 'ws';
import { generateKeyPair, signText, verifyText } from '../identity/ed25519.ts';

/*
 * A gateway for agent tests that speaks exactly core's protocol over real sockets: enrollment over
 * HTTP, the /agent/v1 WebSocket with challenge-response authentication, version negotiation,
 * de-duplicated durable messages with acks, signed commands, revocation, and knobs for faults.
 * Every agent frame goes through parseAgentFrame and every frame it sends through
 * ServerMessageSchema, so a test that passes here passes against a gateway that keeps to the schema.
 */

export const AGENT_GATEWAY_PATH = '/agent/v1';
export const ENROLL_PATH = '/agent/v1/enroll';
const MAX_ENROLL_BODY_BYTES = 64 * 1024;
const POLL_MS = 10;

export interface TestGatewayOptions {
  /** Versions the gateway accepts; core's N and N-1 by default. */
  acceptedVersions?: readonly number[];
  /** Announced in `welcome`; the protocol's minimum is 1000. */
  heartbeatIntervalMs?: number;
  /** Clock for enrollment-token expiry. */
  now?: () => number;
}

export interface TestAgent {
  agentId: string;
  siteId: string;
  name: string;
  publicKey: string;
  revoked: boolean;
}

export type CommandMessage = Extract<ServerMessage, { type: 'command' }>;

/** What the gateway saw, in order; `waitFor` re-checks its condition after each one. */
export type GatewayEvent =
  | { kind: 'connection' }
  | { kind: 'authenticated'; agentId: string; protocolVersion: number }
  | { kind: 'refused'; agentId: string | null; code: number; error: string }
  | { kind: 'closed'; agentId: string | null; code: number }
  | { kind: 'message'; agentId: string; message: AgentMessage; duplicate: boolean }
  | { kind: 'malformed'; agentId: string | null; error: FrameError };

export interface TestGatewayFaults {
  /** Record durable messages but send no ack, as if acks were lost on the way. */
  withholdAcks: boolean;
  /** Send nothing at all to authenticated agents (no acks, no heartbeats): a half-open link. */
  silent: boolean;
  /** Never answer a valid hello, so the agent waits for a welcome that does not come. */
  ignoreHello: boolean;
}

export interface TestGateway {
  /** http://127.0.0.1:port, for enrollment. */
  readonly url: string;
  /** ws://127.0.0.1:port/agent/v1 */
  readonly gatewayUrl: string;
  /** The key commands are signed with (base64 SPKI). */
  readonly commandSigningKey: string;
  readonly faults: TestGatewayFaults;
  /** Sockets open now, authenticated or not. */
  readonly connections: number;
  /** Every event so far, oldest first. */
  readonly events: readonly GatewayEvent[];
  /** Durable messages received again after they were recorded (each was acked all the same). */
  readonly duplicates: number;
  /** A single-use token for POST /agent/v1/enroll. */
  createEnrollmentToken(options: { siteId: string; ttlMs: number }): string;
  /** Registers an agent directly, as if it had enrolled. */
  registerAgent(options: { publicKey: string; siteId?: string; name?: string }): TestAgent;
  agent(agentId: string): TestAgent | undefined;
  /** Whether the agent has an authenticated connection now. */
  isConnected(agentId: string): boolean;
  /** Distinct messages received (durable ones once each), oldest first, optionally by type. */
  messages<T extends AgentMessageType>(type?: T): Extract<AgentMessage, { type: T }>[];
  /** Signs the payload (commandSigningText) and sends it as a command; throws when not connected. */
  sendCommand(agentId: string, payload: Record<string, unknown>): CommandMessage;
  /** Sends any text as one frame to the agent's connection, e.g. a malformed one. */
  sendRaw(agentId: string, text: string): void;
  /** Closes the agent's connection with 4003 and refuses it from now on. */
  revokeAgent(agentId: string): void;
  /** Destroys the agent's TCP connection without a closing handshake. */
  dropConnection(agentId: string): void;
  /** Resolves with the first truthy value of `check`, re-evaluated after every event and every 10 ms. */
  waitFor<T>(
    check: () => T | undefined | null | false,
    options?: { timeoutMs?: number; description?: string },
  ): Promise<T>;
  close(): Promise<void>;
}

interface Connection {
  ws: WebSocket;
  host: string | undefined;
  nonce: string;
  agentId: string | null;
  protocolVersion: number | null;
}

interface EnrollmentToken {
  siteId: string;
  expiresAt: number;
  used: boolean;
}

interface Waiter {
  check: () => boolean;
  reject: (error: Error) => void;
}

const DURABLE_TYPES: readonly string[] = DURABLE_AGENT_MESSAGE_TYPES;

function jsonResponse(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Error bodies as docs/protocol.md states them: `{ "error": { "code", "message" } }`. */
function errorResponse(
  response: ServerResponse,
  status: number,
  error: { code: string; message: string },
): void {
  jsonResponse(response, status, { error });
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ENROLL_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function frameText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Starts a gateway on 127.0.0.1 with a port of the system's choosing. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const accepted = [...(options.acceptedVersions ?? acceptedProtocolVersions())];
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000;
  const now = options.now ?? Date.now;
  const signingKeys = generateKeyPair();
  const agents = new Map<string, TestAgent>();
  const tokens = new Map<string, EnrollmentToken>();
  const connections = new Set<Connection>();
  const seen = new Set<string>();
  const recorded: AgentMessage[] = [];
  const events: GatewayEvent[] = [];
  const waiters = new Set<Waiter>();
  const faults: TestGatewayFaults = { withholdAcks: false, silent: false, ignoreHello: false };
  let duplicates = 0;
  let gatewayUrl = '';

  function emit(event: GatewayEvent): void {
    events.push(event);
    for (const waiter of [...waiters]) waiter.check();
  }

  function envelope<T extends ServerMessageType>(type: T, v: number) {
    return { v, id: randomUUID(), type, sentAt: new Date().toISOString() };
  }

  function transmit(connection: Connection, message: ServerMessage): void {
    const text = JSON.stringify(ServerMessageSchema.parse(message));
    if (connection.agentId !== null && faults.silent) return;
    if (connection.ws.readyState === WebSocket.OPEN) connection.ws.send(text);
  }

  function versionOf(connection: Connection): number {
    return connection.protocolVersion ?? Math.max(...accepted);
  }

  function sendError(connection: Connection, code: string, message: string, refId?: string): void {
    transmit(connection, {
      ...envelope('error', versionOf(connection)),
      code,
      message: message.slice(0, 2_000),
      fatal: false,
      ...(refId !== undefined ? { refId } : {}),
    });
  }

  function refuse(
    connection: Connection,
    code: number,
    error: string,
    message: string,
    agentId: string | null,
  ): void {
    transmit(connection, {
      ...envelope('error', versionOf(connection)),
      code: error,
      message,
      fatal: true,
    });
    emit({ kind: 'refused', agentId, code, error });
    connection.ws.close(code, error);
  }

  function sessionOf(agentId: string): Connection | undefined {
    for (const connection of connections) {
      if (connection.agentId === agentId && connection.ws.readyState === WebSocket.OPEN) {
        return connection;
      }
    }
    return undefined;
  }

  function onHello(connection: Connection, hello: Extract<AgentMessage, { type: 'hello' }>): void {
    recorded.push(hello);
    const agent = agents.get(hello.agentId);
    if (agent === undefined) {
      refuse(connection, CLOSE_CODES.authFailed, 'unknown-agent', 'Unknown agent.', null);
      return;
    }
    let dialled: URL | undefined;
    try {
      dialled = new URL(hello.gatewayUrl);
    } catch {
      dialled = undefined;
    }
    if (dialled?.host !== connection.host || dialled?.pathname !== AGENT_GATEWAY_PATH) {
      refuse(
        connection,
        CLOSE_CODES.authFailed,
        'wrong-gateway',
        'The hello was signed for another gateway.',
        agent.agentId,
      );
      return;
    }
    const signed = authSigningText({
      agentId: hello.agentId,
      nonce: connection.nonce,
      gatewayUrl: hello.gatewayUrl,
    });
    if (!verifyText(agent.publicKey, signed, hello.signature)) {
      refuse(
        connection,
        CLOSE_CODES.authFailed,
        'bad-signature',
        'The hello signature does not verify.',
        agent.agentId,
      );
      return;
    }
    if (agent.revoked) {
      refuse(connection, CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.', agent.agentId);
      return;
    }
    const version = negotiateProtocolVersion(hello.protocolVersions, accepted);
    if (version === null) {
      refuse(
        connection,
        CLOSE_CODES.unsupportedVersion,
        'unsupported-version',
        `No shared protocol version; the gateway accepts ${accepted.join(', ')}.`,
        agent.agentId,
      );
      return;
    }
    if (faults.ignoreHello) return;
    const previous = sessionOf(agent.agentId);
    if (previous !== undefined) previous.ws.close(CLOSE_CODES.replaced, 'replaced');
    connection.agentId = agent.agentId;
    connection.protocolVersion = version;
    transmit(connection, {
      ...envelope('welcome', version),
      agentId: agent.agentId,
      protocolVersion: version,
      heartbeatIntervalMs,
      serverTime: new Date().toISOString(),
    });
    emit({ kind: 'authenticated', agentId: agent.agentId, protocolVersion: version });
  }

  function onAgentMessage(connection: Connection, agentId: string, message: AgentMessage): void {
    if (DURABLE_TYPES.includes(message.type)) {
      const key = `${agentId}:${message.id}`;
      const duplicate = seen.has(key);
      if (duplicate) duplicates += 1;
      else {
        seen.add(key);
        recorded.push(message);
      }
      if (!faults.withholdAcks) {
        transmit(connection, { ...envelope('ack', versionOf(connection)), ids: [message.id] });
      }
      emit({ kind: 'message', agentId, message, duplicate });
      return;
    }
    recorded.push(message);
    if (message.type === 'heartbeat') {
      transmit(connection, {
        ...envelope('heartbeat', versionOf(connection)),
        serverTime: new Date().toISOString(),
      });
    } else if (message.type === 'hello') {
      sendError(connection, 'unexpected-message', 'Already authenticated.', message.id);
    }
    emit({ kind: 'message', agentId, message, duplicate: false });
  }

  function onFrame(connection: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    const parsed: Result<AgentMessage, FrameError> = isBinary
      ? err({ code: 'not-json', message: 'Binary frames are not part of the protocol.' })
      : parseAgentFrame(frameText(data));
    if (!parsed.ok) {
      emit({ kind: 'malformed', agentId: connection.agentId, error: parsed.error });
      if (connection.agentId === null) {
        refuse(connection, CLOSE_CODES.malformed, parsed.error.code, parsed.error.message, null);
      } else {
        sendError(connection, parsed.error.code, parsed.error.message, parsed.error.refId);
      }
      return;
    }
    const message = parsed.value;
    if (connection.agentId !== null) {
      onAgentMessage(connection, connection.agentId, message);
    } else if (message.type === 'hello') {
      onHello(connection, message);
    } else {
      refuse(
        connection,
        CLOSE_CODES.malformed,
        'hello-expected',
        `A ${message.type} before hello.`,
        null,
      );
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  wss.on('connection', (ws: WebSocket, request: IncomingMessage) => {
    const connection: Connection = {
      ws,
      host: request.headers.host,
      nonce: randomBytes(32).toString('base64url'),
      agentId: null,
      protocolVersion: null,
    };
    connections.add(connection);
    ws.on('message', (data, isBinary) => onFrame(connection, data, isBinary));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      connections.delete(connection);
      emit({ kind: 'closed', agentId: connection.agentId, code });
    });
    emit({ kind: 'connection' });
    transmit(connection, {
      ...envelope('challenge', Math.max(...accepted)),
      nonce: connection.nonce,
      protocolVersions: accepted,
    });
  });

  async function enroll(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    if (text === null) {
      errorResponse(response, 413, { code: 'too-large', message: 'The request is too large.' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      errorResponse(response, 400, { code: 'not-json', message: 'The body is not JSON.' });
      return;
    }
    const parsed = EnrollRequestSchema.safeParse(json);
    if (!parsed.success) {
      errorResponse(response, 400, {
        code: 'invalid-request',
        message: parsed.error.issues[0]?.message ?? 'Invalid enrollment request.',
      });
      return;
    }
    const token = tokens.get(parsed.data.token);
    if (token === undefined || token.used || token.expiresAt <= now()) {
      errorResponse(response, 401, {
        code: 'invalid-token',
        message: 'The enrollment token is unknown, used or expired.',
      });
      return;
    }
    token.used = true;
    const agent = registerAgent({
      publicKey: parsed.data.publicKey,
      siteId: token.siteId,
      name: parsed.data.name,
    });
    const body: EnrollResponse = EnrollResponseSchema.parse({
      agentId: agent.agentId,
      siteId: agent.siteId,
      commandSigningKey: signingKeys.publicKey,
      gatewayUrl,
    });
    jsonResponse(response, 200, body);
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (path !== ENROLL_PATH) {
      errorResponse(response, 404, { code: 'not-found', message: 'Not found.' });
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      errorResponse(response, 405, { code: 'method-not-allowed', message: 'Use POST.' });
      return;
    }
    enroll(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        jsonResponse(response, 500, {
          code: 'internal',
          message: error instanceof Error ? error.message : 'Enrollment failed.',
        });
      } else response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (path !== AGENT_GATEWAY_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  gatewayUrl = `ws://127.0.0.1:${port}${AGENT_GATEWAY_PATH}`;

  function registerAgent(registration: {
    publicKey: string;
    siteId?: string;
    name?: string;
  }): TestAgent {
    const agent: TestAgent = {
      agentId: randomUUID(),
      siteId: registration.siteId ?? randomUUID(),
      name: registration.name ?? 'test agent',
      publicKey: registration.publicKey,
      revoked: false,
    };
    agents.set(agent.agentId, agent);
    return agent;
  }

  function requireSession(agentId: string): Connection {
    const connection = sessionOf(agentId);
    if (connection === undefined) throw new Error(`Agent ${agentId} is not connected.`);
    return connection;
  }

  return {
    url,
    gatewayUrl,
    commandSigningKey: signingKeys.publicKey,
    faults,
    get connections() {
      return connections.size;
    },
    events,
    get duplicates() {
      return duplicates;
    },
    createEnrollmentToken({ siteId, ttlMs }) {
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, { siteId, expiresAt: now() + ttlMs, used: false });
      return token;
    },
    registerAgent,
    agent: (agentId) => agents.get(agentId),
    isConnected: (agentId) => sessionOf(agentId) !== undefined,
    messages<T extends AgentMessageType>(type?: T) {
      return recorded.filter((message) => type === undefined || message.type === type) as Extract<
        AgentMessage,
        { type: T }
      >[];
    },
    sendCommand(agentId, payload) {
      const connection = requireSession(agentId);
      const message: CommandMessage = {
        ...envelope('command', versionOf(connection)),
        payload,
        signature: signText(signingKeys.privateKeyPem, commandSigningText(payload)),
      };
      transmit(connection, message);
      return message;
    },
    sendRaw(agentId, text) {
      requireSession(agentId).ws.send(text);
    },
    revokeAgent(agentId) {
      const agent = agents.get(agentId);
      if (agent === undefined) throw new Error(`Unknown agent ${agentId}.`);
      agent.revoked = true;
      const connection = sessionOf(agentId);
      if (connection !== undefined) {
        refuse(connection, CLOSE_CODES.revoked, 'revoked', 'This agent was revoked.', agentId);
      }
    },
    dropConnection(agentId) {
      requireSession(agentId).ws.terminate();
    },
    waitFor<T>(
      check: () => T | undefined | null | false,
      waitOptions: { timeoutMs?: number; description?: string } = {},
    ): Promise<T> {
      const timeoutMs = waitOptions.timeoutMs ?? 5_000;
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          check: () => {
            let value: T | undefined | null | false;
            try {
              value = check();
            } catch (error) {
              waiter.reject(error instanceof Error ? error : new Error(String(error)));
              return true;
            }
            if (value === undefined || value === null || value === false) return false;
            settle();
            resolve(value);
            return true;
          },
          reject: (error) => {
            settle();
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          const what = waitOptions.description ?? 'a condition';
          waiter.reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`));
        }, timeoutMs);
        // Also polled: conditions on the agent's side (its outbox, its handler) change between
        // gateway events.
        const poll = setInterval(() => waiter.check(), POLL_MS);
        function settle() {
          clearTimeout(timer);
          clearInterval(poll);
          waiters.delete(waiter);
        }
        waiters.add(waiter);
        waiter.check();
      });
    },
    async close() {
      for (const waiter of [...waiters]) waiter.reject(new Error('The test gateway closed.'));
      for (const connection of connections) connection.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
