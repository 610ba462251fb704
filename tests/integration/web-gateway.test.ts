import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PROTOCOL_VERSION,
  authSigningText,
  commandSigningText,
  parseServerFrame,
  type ServerMessage,
} from '@custody/core';
import { createDb, rowsOf, schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import { createSimulator, type SimulatedCamera, type Simulator } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateKeyPair, signText, verifyText } from '../../apps/agent/src/identity/ed25519.ts';
import { runCli } from '../../apps/agent/src/run-cli.ts';
import { createMemoryIo } from '../../apps/agent/src/testing/memory-io.ts';
import {
  createEnrollmentToken,
  createMemorySecretsResolver,
  loadCommandSigningKey,
  queueCommand,
  revokeAgent,
  silentGatewayLogger,
  startAgentGateway,
  type AgentGateway,
  type CommandSigner,
  type FleetEvent,
} from '../../apps/web/src/server/gateway/index.ts';
import { revokeGrant } from '../../apps/web/src/server/services/grants.ts';
import { loadActor } from '../../apps/web/src/server/services/actor.ts';
import { ADMIN, ADMIN_USERS, fastSimulator, freePort } from './support/simulated-site.ts';

// The real gateway (apps/web) on a real database, with the real agent (apps/agent) scanning a
// simulated site: enrollment, inventory, signed commands, revocation. The same file runs on
// PGlite and, in the integration@postgresql project, on PostgreSQL, where two gateways on one
// database also show a command crossing from one server process to the other.

const url = providedDatabaseUrl();
const engine = url ? 'postgresql' : 'pglite';
// A /29 of loopback addresses of its own, so the agent's range scan finds only these cameras.
const SITE_BASE = url ? '127.92.0.1' : '127.91.0.1';
const SITE_RANGE = url ? '127.92.0.0/29' : '127.91.0.0/29';
const ADMIN_REF = 'test/admin';

interface GatewayServer {
  gateway: AgentGateway;
  /** Fleet events this process heard, from any process on the database. */
  events: FleetEvent[];
  url: string;
  gatewayUrl: string;
  close(): Promise<void>;
}

async function startGatewayServer(
  database: DatabaseHandle,
  signer: CommandSigner,
): Promise<GatewayServer> {
  const gateway = await startAgentGateway({
    database,
    signer,
    resolveSecrets: createMemorySecretsResolver(new Map([[ADMIN_REF, ADMIN]])),
    heartbeatIntervalMs: 1_000,
    sweepIntervalMs: 500,
    // Every test enrolls from 127.0.0.1; the limits have tests of their own.
    enrollRateRules: { perAddress: { limit: 1_000, windowSeconds: 60 } },
    log: silentGatewayLogger,
  });
  const events: FleetEvent[] = [];
  gateway.onFleetEvent((event) => events.push(event));
  const server: Server = createServer((request, response) => {
    if (gateway.handleRequest(request, response)) return;
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    gateway,
    events,
    url: `http://127.0.0.1:${port}`,
    gatewayUrl: `ws://127.0.0.1:${port}/agent/v1`,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with the first truthy value of `check`, polled every 50 ms. */
async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  description: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}.`);
    await sleep(50);
  }
}

async function postEnroll(serverUrl: string, body: string) {
  const response = await fetch(`${serverUrl}/agent/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An agent written by hand over a raw WebSocket, for frames the real agent never sends. */
interface RawAgent {
  agentId: string;
  siteId: string;
  commandSigningKey: string;
  publicKey: string;
  privateKeyPem: string;
}

async function enrollRawAgent(serverUrl: string, token: string): Promise<RawAgent> {
  const keys = generateKeyPair();
  const { status, body } = await postEnroll(
    serverUrl,
    JSON.stringify({ token, publicKey: keys.publicKey, name: 'raw', agentVersion: '0.0.1' }),
  );
  expect(status).toBe(201);
  return {
    agentId: body.agentId as string,
    siteId: body.siteId as string,
    commandSigningKey: body.commandSigningKey as string,
    publicKey: keys.publicKey,
    privateKeyPem: keys.privateKeyPem,
  };
}

interface RawConnection {
  ws: WebSocket;
  received: ServerMessage[];
  closed: Promise<{ code: number; reason: string }>;
  next<T extends ServerMessage['type']>(
    type: T,
    where?: (message: Extract<ServerMessage, { type: T }>) => boolean,
  ): Promise<Extract<ServerMessage, { type: T }>>;
  send(frame: unknown): void;
}

function openRaw(gatewayUrl: string): RawConnection {
  const ws = new WebSocket(gatewayUrl);
  const received: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer) => {
    const parsed = parseServerFrame(data.toString('utf8'));
    if (parsed.ok) received.push(parsed.value);
    for (const waiter of [...waiters]) waiter();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') });
      for (const waiter of [...waiters]) waiter();
    });
  });
  ws.on('error', () => undefined);
  return {
    ws,
    received,
    closed,
    next(type, where = () => true) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(
            (message) => message.type === type && where(message as never),
          );
          if (found !== undefined) {
            received.splice(received.indexOf(found), 1);
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found as never);
          } else if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`The connection closed before a ${type} arrived.`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`No ${type} within 5 s.`));
        }, 5_000);
        waiters.add(check);
        check();
      });
    },
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
  };
}

function envelope(type: string) {
  return { v: PROTOCOL_VERSION, id: randomUUID(), type, sentAt: new Date().toISOString() };
}

/** Connects and authenticates; `signedUrl` lets a test sign for another gateway. */
async function connectRaw(
  agent: RawAgent,
  gatewayUrl: string,
  signedUrl = gatewayUrl,
): Promise<RawConnection> {
  const connection = openRaw(gatewayUrl);
  const challenge = await connection.next('challenge');
  connection.send({
    ...envelope('hello'),
    agentId: agent.agentId,
    protocolVersions: [PROTOCOL_VERSION],
    agentVersion: '0.0.1',
    capabilities: { verbs: ['probe'], discovery: [] },
    gatewayUrl: signedUrl,
    signature: signText(
      agent.privateKeyPem,
      authSigningText({ agentId: agent.agentId, nonce: challenge.nonce, gatewayUrl: signedUrl }),
    ),
  });
  return connection;
}

function sighting(serial: string, address: string) {
  return {
    serial,
    url: `http://${address}/`,
    address,
    source: 'scan',
    model: 'M3086-V',
    productName: 'AXIS M3086-V Dome Camera',
    firmware: '11.11.73',
    hardwareId: '9A1.1',
    mac: null,
    accessState: 'authenticated',
    seenAt: new Date().toISOString(),
  };
}

let database: DatabaseHandle;
let signer: CommandSigner;
let server: GatewayServer;
let simulator: Simulator;
let keyDir: string;
let dataDir: string;
let simulatorPort: number;
const cameras: SimulatedCamera[] = [];
let siteId: string;
let otherSiteId: string;
let userId: string;
let agentId: string;
let service: {
  controller: AbortController;
  exit: Promise<number>;
  io: ReturnType<typeof createMemoryIo>;
};

function agentEnv(directory: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: directory,
    CUSTODY_AGENT_DATA_DIR: directory,
    CUSTODY_AGENT_CIDRS: SITE_RANGE,
    CUSTODY_AGENT_PORTS: String(simulatorPort),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '30',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
    ...extra,
  };
}

function startAgent(directory: string) {
  const controller = new AbortController();
  const io = createMemoryIo({ env: agentEnv(directory), signal: controller.signal });
  return { controller, io, exit: runCli(['run'], io) };
}

async function enrollWithCli(serverUrl: string, token: string, directory: string) {
  const io = createMemoryIo({ env: { ...agentEnv(directory), ENROLL_TOKEN: token } });
  const code = await runCli(
    ['enroll', '--server', serverUrl, '--token-env', 'ENROLL_TOKEN', '--name', 'gatehouse'],
    io,
  );
  return { code, out: io.out(), err: io.err() };
}

async function commandRow(commandId: string) {
  const rows = await database.db.select().from(schema.commands);
  return rows.find((row) => row.id === commandId);
}

beforeAll(async () => {
  database = await createTestDatabase({ url });
  const [owner] = await database.db
    .insert(schema.organisations)
    .values({ name: 'Harbour Bakery', kind: 'owner' })
    .returning();
  const [user] = await database.db
    .insert(schema.users)
    .values({ email: 'admin@example.test', name: 'Ada Admin' })
    .returning();
  const [site, otherSite] = await database.db
    .insert(schema.sites)
    .values([
      { ownerOrgId: owner!.id, name: 'Harbour Street' },
      { ownerOrgId: owner!.id, name: 'Quay Road' },
    ])
    .returning();
  siteId = site!.id;
  otherSiteId = otherSite!.id;
  userId = user!.id;
  // Commands are queued in this user's name: it must be able to act at the agents' sites.
  await database.db
    .insert(schema.memberships)
    .values({ userId, orgId: owner!.id, role: 'owner-approver' });

  keyDir = await mkdtemp(join(tmpdir(), 'custody-gateway-key-'));
  dataDir = await mkdtemp(join(tmpdir(), 'custody-gateway-agent-'));
  signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
  server = await startGatewayServer(database, signer);

  simulatorPort = await freePort(SITE_BASE);
  simulator = await createSimulator({
    ...fastSimulator(SITE_BASE),
    ports: { http: simulatorPort },
  });
  for (const firmware of ['9.80', '11.11', '12.x'] as const) {
    cameras.push(await simulator.addCamera({ firmware, users: ADMIN_USERS }));
  }
});

afterAll(async () => {
  service?.controller.abort();
  await service?.exit;
  await server?.close();
  await simulator?.close();
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

describe(`the agent gateway on ${engine}`, () => {
  it('enrolls an agent with a single-use token and refuses it used, expired or unknown alike', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const enrolled = await enrollWithCli(server.url, token, dataDir);
    expect(enrolled.code).toBe(0);
    expect(enrolled.out + enrolled.err).not.toContain(token);
    agentId = /agent ([0-9a-f-]{36})/.exec(enrolled.out)?.[1] ?? '';

    const [agent] = (await database.db.select().from(schema.agents)).filter(
      (row) => row.id === agentId,
    );
    expect(agent).toMatchObject({ siteId, name: 'gatehouse', status: 'pending', revokedAt: null });
    const tokens = await database.db.select().from(schema.enrollmentTokens);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ siteId, createdBy: userId, usedByAgent: agentId });
    expect(tokens[0]?.usedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(tokens)).not.toContain(token);

    const keys = generateKeyPair();
    const request = (tokenText: string) =>
      JSON.stringify({
        token: tokenText,
        publicKey: keys.publicKey,
        name: 'again',
        agentVersion: '0.4.0',
      });
    const reused = await postEnroll(server.url, request(token));
    const expired = await createEnrollmentToken(database.db, {
      siteId,
      createdBy: userId,
      ttlMs: 1_000,
    });
    await sleep(1_200);
    const late = await postEnroll(server.url, request(expired.token));
    const unknown = await postEnroll(
      server.url,
      request(`cenr_${randomBytes(24).toString('base64url')}`),
    );
    for (const refused of [reused, late, unknown]) {
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({
        error: { code: 'invalid-token', message: expect.stringMatching(/expired/) as unknown },
      });
    }
    const again = await enrollWithCli(server.url, token, join(dataDir, 'second'));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/refused.*already used or expired/);

    expect(await postEnroll(server.url, '{"token":')).toEqual({
      status: 400,
      body: { error: { code: 'not-json', message: 'The body is not JSON.' } },
    });
    const invalid = await postEnroll(server.url, JSON.stringify({ token: 'short' }));
    expect(invalid.status).toBe(400);
    expect((invalid.body.error as { code: string }).code).toBe('invalid-request');
    expect(JSON.stringify(invalid.body)).not.toContain('short');
    const huge = await postEnroll(server.url, JSON.stringify({ token: 'x'.repeat(20_000) }));
    expect(huge.status).toBe(413);
    const get = await fetch(`${server.url}/agent/v1/enroll`);
    expect(get.status).toBe(405);
  });

  it('runs the agent against a simulated site and its cameras appear in the database with their identity', async () => {
    service = startAgent(dataDir);
    const expected = cameras.map((camera) => camera.serial).sort();
    const modern = cameras.filter((camera) => camera.firmware !== '9.80');
    const rows = await eventually(async () => {
      const all = await database.db.select().from(schema.cameras);
      const identified = modern.every((camera) =>
        all.some((row) => row.serial === camera.serial && row.firmware !== null),
      );
      return all.length === expected.length && identified ? all : undefined;
    }, 'every camera, the modern ones identified');
    expect(rows.map((row) => row.serial).sort()).toEqual(expected);
    for (const row of rows) {
      expect(row).toMatchObject({ siteId, agentId, source: 'scan', lostAt: null });
      expect(row.url).toBe(`http://${row.address}:${simulatorPort}/`);
      expect(row.address).toMatch(/^127\.9[12]\.0\.\d$/);
    }
    for (const camera of modern) {
      const row = rows.find((candidate) => candidate.serial === camera.serial);
      expect(row?.model).toMatch(/^[A-Z]\d{4}/);
    }
    const addresses = await database.db.select().from(schema.cameraAddresses);
    expect(addresses.map((row) => row.serial).sort()).toEqual(expected);

    const [agent] = (await database.db.select().from(schema.agents)).filter(
      (row) => row.id === agentId,
    );
    expect(agent).toMatchObject({ status: 'online', protocolVersion: PROTOCOL_VERSION });
    expect(agent?.lastSeenAt).toBeInstanceOf(Date);
    expect(agent?.capabilities).toMatchObject({
      verbs: expect.arrayContaining(['probe']) as unknown,
    });
    expect(server.gateway.connectedAgents()).toEqual([agentId]);
    expect(server.events).toContainEqual({
      event: 'agent-status',
      agentId,
      siteId,
      status: 'online',
    });
    // Inventory events name the cameras that changed, so live views read only those.
    const named = server.events.flatMap((event) =>
      event.event === 'inventory' && event.agentId === agentId && event.siteId === siteId
        ? (event.serials ?? [])
        : [],
    );
    expect(new Set(named)).toEqual(new Set(expected));

    // Every durable message was recorded once, by the id the agent gave it.
    const messages = await database.db.select().from(schema.agentMessages);
    const types = new Set(messages.map((row) => row.type));
    expect(types).toContain('discovery-event');
    expect(types.has('inventory-snapshot') || types.has('inventory-delta')).toBe(true);
  });

  it('sends a probe queued through the service to the agent and stores its result', async () => {
    const camera = cameras[1]!;
    const { commandId } = await queueCommand(database.db, {
      agentId,
      serial: camera.serial,
      verb: 'probe',
      params: { credential: 'admin' },
      secretsRef: { admin: ADMIN_REF },
      requestedBy: userId,
    });
    const row = await eventually(async () => {
      const found = await commandRow(commandId);
      return found?.status === 'succeeded' ? found : undefined;
    }, 'the probe result');
    expect(row).toMatchObject({
      agentId,
      serial: camera.serial,
      verb: 'probe',
      dispatchCount: 1,
      claimedBy: server.gateway.processId,
      error: null,
    });
    expect(row.ackedAt).toBeInstanceOf(Date);
    expect(row.completedAt).toBeInstanceOf(Date);
    expect(row.result).toMatchObject({
      accessState: 'authenticated',
      credential: 'admin',
      identity: { serial: camera.serial },
    });
    // Sent to where the inventory last saw the camera.
    const [seen] = (await database.db.select().from(schema.cameras)).filter(
      (candidate) => candidate.serial === camera.serial,
    );
    expect(row.payload).toMatchObject({ commandId, siteId, url: seen?.url });
    expect(JSON.stringify(row)).not.toContain(ADMIN.password);
    const messages = await database.db.select().from(schema.agentMessages);
    expect(messages.filter((message) => message.type === 'command-result')).toHaveLength(1);
  });

  it('fails a command whose credentials cannot be delivered, without sending it', async () => {
    const { commandId } = await queueCommand(database.db, {
      agentId,
      serial: cameras[0]!.serial,
      verb: 'probe',
      params: { credential: 'admin' },
      secretsRef: { admin: 'vault/nobody' },
      requestedBy: userId,
    });
    const row = await eventually(async () => {
      const found = await commandRow(commandId);
      return found?.status === 'failed' ? found : undefined;
    }, 'the failed command');
    expect(row.error).toMatchObject({ code: 'secrets-unavailable' });
    expect(row.ackedAt).toBeNull();
  });

  it('answers malformed frames with a non-fatal error and keeps the connection', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');

    connection.send('{"not json');
    expect(await connection.next('error')).toMatchObject({ code: 'not-json', fatal: false });

    const broken = { ...envelope('inventory-delta'), upserts: [{ serial: 'nope' }], lost: [] };
    connection.send(broken);
    const error = await connection.next('error');
    expect(error).toMatchObject({ code: 'invalid-message', fatal: false, refId: broken.id });
    expect(error.message).toMatch(/upserts\.0/);
    // A durable message that can never validate is acknowledged so the agent stops replaying it.
    await connection.next('ack', (ack) => ack.ids.includes(broken.id));

    connection.send({ ...envelope('heartbeat'), outboxDepth: 0, runningCommands: 0 });
    await connection.next('heartbeat');
    expect(connection.ws.readyState).toBe(WebSocket.OPEN);
    const refused = (await database.db.select().from(schema.agentMessages)).find(
      (row) => row.messageId === broken.id,
    );
    expect(refused).toMatchObject({ agentId: raw.agentId, type: 'inventory-delta' });
    expect(refused?.error).toMatchObject({ code: 'invalid-message' });
    expect(refused?.frame).toContain('nope');
    connection.ws.close();
    await connection.closed;
  });

  it('applies a durable message once however often it is replayed, and never takes a camera from another site', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');

    const serial = 'B8A44F0A0B0C';
    const first = {
      ...envelope('inventory-delta'),
      upserts: [sighting(serial, '10.20.0.21')],
      lost: [],
    };
    connection.send(first);
    await connection.next('ack', (ack) => ack.ids.includes(first.id));
    // The same id again, even with other content (a replay is byte for byte; this one is not):
    // acknowledged, not applied.
    connection.send({ ...first, upserts: [sighting(serial, '10.20.0.99')] });
    await connection.next('ack', (ack) => ack.ids.includes(first.id));
    const [stored] = (await database.db.select().from(schema.cameras)).filter(
      (row) => row.serial === serial,
    );
    expect(stored).toMatchObject({ siteId: otherSiteId, address: '10.20.0.21' });
    const recorded = (await database.db.select().from(schema.agentMessages)).filter(
      (row) => row.messageId === first.id,
    );
    expect(recorded).toHaveLength(1);

    // A camera of the first site, reported by this agent of the second site.
    const taken = cameras[0]!;
    const [before] = (await database.db.select().from(schema.cameras)).filter(
      (row) => row.serial === taken.serial,
    );
    const steal = {
      ...envelope('inventory-delta'),
      upserts: [sighting(taken.serial, '10.66.0.5'), sighting(serial, '10.20.0.22')],
      lost: [taken.serial],
    };
    connection.send(steal);
    await connection.next('ack', (ack) => ack.ids.includes(steal.id));
    const after = await database.db.select().from(schema.cameras);
    expect(after.find((row) => row.serial === taken.serial)).toEqual(before);
    expect(after.find((row) => row.serial === serial)).toMatchObject({ address: '10.20.0.22' });
    const conflicts = await database.db.select().from(schema.cameraSiteConflicts);
    expect(conflicts).toEqual([
      expect.objectContaining({
        serial: taken.serial,
        agentId: raw.agentId,
        siteId: otherSiteId,
        address: '10.66.0.5',
      }),
    ]);
    const history = (await database.db.select().from(schema.cameraAddresses)).filter(
      (row) => row.serial === serial,
    );
    expect(history.map((row) => row.address).sort()).toEqual(['10.20.0.21', '10.20.0.22']);
    connection.ws.close();
    await connection.closed;
  });

  it('refuses a hello signed for another gateway, and replaces an older connection of the same agent', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const relayed = await connectRaw(raw, server.gatewayUrl, 'wss://impostor.example/agent/v1');
    expect(await relayed.next('error')).toMatchObject({ code: 'wrong-gateway', fatal: true });
    expect((await relayed.closed).code).toBe(4001);

    const older = await connectRaw(raw, server.gatewayUrl);
    await older.next('welcome');
    const newer = await connectRaw(raw, server.gatewayUrl);
    await newer.next('welcome');
    expect((await older.closed).code).toBe(4009);
    expect(newer.ws.readyState).toBe(WebSocket.OPEN);
    newer.ws.close();
    await newer.closed;
  });

  it('sends a command again after a reconnect until it is acknowledged, and keeps the first result', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    let connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');
    const serial = 'ACCC8E00AA01';
    const { commandId } = await queueCommand(database.db, {
      agentId: raw.agentId,
      serial,
      verb: 'probe',
      params: { credential: 'admin' },
      secretsRef: { admin: ADMIN_REF },
      requestedBy: userId,
    });
    const first = await connection.next('command');
    expect(first.payload).toMatchObject({
      commandId,
      agentId: raw.agentId,
      siteId: otherSiteId,
      serial,
      verb: 'probe',
      approval: null,
      secrets: { admin: ADMIN },
    });
    expect(
      verifyText(raw.commandSigningKey, commandSigningText(first.payload), first.signature),
    ).toBe(true);
    // Not acknowledged: the next connection gets it again, the very same signed payload.
    connection.ws.close();
    await connection.closed;
    connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');
    const again = await connection.next('command');
    expect(again.payload).toEqual(first.payload);
    expect(again.signature).toBe(first.signature);

    const ack = { ...envelope('command-ack'), commandId };
    const result = {
      ...envelope('command-result'),
      commandId,
      outcome: 'succeeded',
      result: { accessState: 'authenticated' },
      error: null,
      replayed: false,
    };
    const contradiction = {
      ...result,
      ...envelope('command-result'),
      outcome: 'failed',
      result: null,
      error: { code: 'interrupted', message: 'Interrupted.' },
    };
    connection.send(ack);
    connection.send(result);
    connection.send(contradiction);
    await connection.next('ack', (message) => message.ids.includes(contradiction.id));
    expect(await commandRow(commandId)).toMatchObject({
      status: 'succeeded',
      dispatchCount: 2,
      result: { accessState: 'authenticated' },
      error: null,
    });

    const unsupported = await queueCommand(database.db, {
      agentId: raw.agentId,
      serial,
      verb: 'soft-restart',
      params: { credential: 'admin' },
      secretsRef: { admin: ADMIN_REF },
      requestedBy: userId,
    });
    const refused = await eventually(async () => {
      const found = await commandRow(unsupported.commandId);
      return found?.status === 'failed' ? found : undefined;
    }, 'the unsupported verb to fail');
    expect(refused.error).toMatchObject({ code: 'unsupported-verb' });

    connection.ws.close();
    await connection.closed;
    const stale = await queueCommand(database.db, {
      agentId: raw.agentId,
      serial,
      verb: 'probe',
      params: {},
      requestedBy: userId,
      ttlMs: 1_000,
    });
    const expired = await eventually(async () => {
      const found = await commandRow(stale.commandId);
      return found?.status === 'expired' ? found : undefined;
    }, 'the command to expire while its agent is away');
    expect(expired.dispatchCount).toBe(0);
    const [agent] = (await database.db.select().from(schema.agents)).filter(
      (row) => row.id === raw.agentId,
    );
    expect(agent).toMatchObject({ status: 'offline', sessionId: null });
  });

  it('marks the cameras a complete snapshot no longer contains as lost, and only then', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');
    const kept = 'E82725000001';
    const gone = 'E82725000002';
    const later = 'E82725000003';
    const seen = {
      ...envelope('inventory-delta'),
      upserts: [sighting(kept, '10.30.0.1'), sighting(gone, '10.30.0.2')],
      lost: [],
    };
    connection.send(seen);
    await connection.next('ack', (message) => message.ids.includes(seen.id));
    await sleep(20);
    const snapshotId = randomUUID();
    const part = (number: number, serials: string[]) => ({
      ...envelope('inventory-snapshot'),
      snapshotId,
      part: number,
      parts: 2,
      cameras: serials.map((serial, index) => sighting(serial, `10.30.1.${index + 1}`)),
    });
    const lostAt = async (serial: string) =>
      (await database.db.select().from(schema.cameras)).find((row) => row.serial === serial)
        ?.lostAt;
    const one = part(1, [kept]);
    connection.send(one);
    await connection.next('ack', (message) => message.ids.includes(one.id));
    expect(await lostAt(gone)).toBeNull();
    const two = part(2, [later]);
    connection.send(two);
    await connection.next('ack', (message) => message.ids.includes(two.id));
    expect(await lostAt(gone)).toBeInstanceOf(Date);
    expect(await lostAt(kept)).toBeNull();
    expect(await lostAt(later)).toBeNull();
    const parts = await database.db.select().from(schema.inventorySnapshotParts);
    expect(parts.filter((row) => row.snapshotId === snapshotId)).toEqual([]);
    connection.ws.close();
    await connection.closed;
  });

  it('never sends a command whose requester’s integrator lost its grant on the site', async () => {
    const [integrator] = await database.db
      .insert(schema.organisations)
      .values({ name: 'Northwind Integrators', kind: 'integrator' })
      .returning();
    const [technician] = await database.db
      .insert(schema.users)
      .values({ email: 'tech@northwind.test', name: 'Tess Tech' })
      .returning();
    await database.db
      .insert(schema.memberships)
      .values({ userId: technician!.id, orgId: integrator!.id, role: 'technician' });
    await database.db
      .insert(schema.siteGrants)
      .values({ siteId: otherSiteId, integratorOrgId: integrator!.id, grantedBy: userId });
    const owner = await loadActor(database.db, userId, null);
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const queueProbe = (requestedBy: string | null) =>
      queueCommand(database.db, {
        agentId: raw.agentId,
        serial: 'ACCC8E00AA02',
        verb: 'probe',
        params: {},
        requestedBy,
      });

    // Queued while the agent is away; the owner revokes the grant before it comes back.
    const revoked = await queueProbe(technician!.id);
    expect(
      await revokeGrant(database.db, owner!, {
        siteId: otherSiteId,
        integratorOrgId: integrator!.id,
      }),
    ).toMatchObject({ cancelledCommands: 1 });
    await expect(queueProbe(technician!.id)).rejects.toThrow(/no longer have access/);
    // Granted again, queued, and revoked behind the service's back: the dispatcher checks too.
    await database.db
      .insert(schema.siteGrants)
      .values({ siteId: otherSiteId, integratorOrgId: integrator!.id, grantedBy: userId });
    const raced = await queueProbe(technician!.id);
    await database.db.execute(
      `update site_grants set revoked_at = now() where integrator_org_id = '${integrator!.id}'`,
    );
    const system = await queueProbe(null);

    const connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');
    const sent = await connection.next('command');
    expect(sent.payload.commandId).toBe(system.commandId);
    expect(connection.received.filter((message) => message.type === 'command')).toEqual([]);
    for (const commandId of [revoked.commandId, raced.commandId]) {
      expect(await commandRow(commandId)).toMatchObject({
        status: 'cancelled',
        error: { code: 'access-revoked' },
        ackedAt: null,
      });
    }
    expect((await commandRow(raced.commandId))?.dispatchCount).toBe(0);
    connection.ws.close();
    await connection.closed;
  });

  it('closes a revoked agent at once; the agent exits with 4 and is refused from then on', async () => {
    expect(await revokeAgent(database.db, { agentId, revokedBy: userId })).toBe(true);
    expect(await service.exit).toBe(4);
    expect(service.io.err()).toMatch(/revoked/);
    const [agent] = (await database.db.select().from(schema.agents)).filter(
      (row) => row.id === agentId,
    );
    expect(agent).toMatchObject({ status: 'revoked', revokedBy: userId });
    const again = startAgent(dataDir);
    expect(await again.exit).toBe(4);
    await expect(
      queueCommand(database.db, {
        agentId,
        serial: cameras[0]!.serial,
        verb: 'probe',
        params: {},
        requestedBy: userId,
      }),
    ).rejects.toThrow(/revoked/);
  });

  it('closes agent connections with 1001 when the server stops', async () => {
    const { token } = await createEnrollmentToken(database.db, {
      siteId: otherSiteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    const raw = await enrollRawAgent(server.url, token);
    const connection = await connectRaw(raw, server.gatewayUrl);
    await connection.next('welcome');
    await server.close();
    expect((await connection.closed).code).toBe(1001);
    const [agent] = (await database.db.select().from(schema.agents)).filter(
      (row) => row.id === raw.agentId,
    );
    expect(agent).toMatchObject({ status: 'offline', sessionId: null });
  });
});

describe.skipIf(url === undefined)('two server processes on one PostgreSQL', () => {
  let second: DatabaseHandle;
  let secondServer: GatewayServer;
  let secondDataDir: string;

  afterAll(async () => {
    await secondServer?.close();
    await second?.close();
    if (secondDataDir) await rm(secondDataDir, { recursive: true, force: true });
  });

  it('delivers a command queued through one process to an agent connected to the other', async () => {
    // Process B: its own pool and LISTEN connection on the same database, the same key file.
    const [{ name } = { name: '' }] = rowsOf<{ name: string }>(
      await database.db.execute('select current_database() as name'),
    );
    const secondUrl = new URL(url!);
    secondUrl.pathname = `/${name}`;
    second = await createDb({ url: secondUrl.toString(), maxConnections: 4 });
    const secondSigner = await loadCommandSigningKey(signer.file, silentGatewayLogger);
    expect(secondSigner.publicKey).toBe(signer.publicKey);
    secondServer = await startGatewayServer(second, secondSigner);

    secondDataDir = await mkdtemp(join(tmpdir(), 'custody-gateway-agent-b-'));
    const { token } = await createEnrollmentToken(database.db, {
      siteId,
      createdBy: userId,
      ttlMs: 60_000,
    });
    expect((await enrollWithCli(secondServer.url, token, secondDataDir)).code).toBe(0);
    service = startAgent(secondDataDir);
    const agentB = (await database.db.select().from(schema.agents)).find(
      (row) => row.revokedAt === null && row.name === 'gatehouse',
    )!;
    await eventually(
      () => Promise.resolve(secondServer.gateway.connectedAgents().includes(agentB.id)),
      'the agent on process B',
    );
    expect(server.gateway.connectedAgents()).not.toContain(agentB.id);

    const camera = cameras[2]!;
    const { commandId } = await queueCommand(database.db, {
      agentId: agentB.id,
      serial: camera.serial,
      verb: 'probe',
      params: { credential: 'admin' },
      secretsRef: { admin: ADMIN_REF },
      requestedBy: userId,
    });
    const row = await eventually(async () => {
      const found = await commandRow(commandId);
      return found?.status === 'succeeded' ? found : undefined;
    }, 'the result through process B');
    expect(row.claimedBy).toBe(secondServer.gateway.processId);
    // Process B heard the command queued through A's connection, as a live view on B would.
    expect(secondServer.events).toContainEqual({
      event: 'command',
      agentId: agentB.id,
      commandId,
      finished: false,
    });
    expect(secondServer.events).toContainEqual({
      event: 'agent-status',
      agentId: agentB.id,
      siteId,
      status: 'online',
    });
    expect(row.result).toMatchObject({ identity: { serial: camera.serial } });
  });

  it('closes the agent on process B when process A revokes it', async () => {
    const agentB = (await database.db.select().from(schema.agents)).find(
      (row) => row.revokedAt === null && row.name === 'gatehouse',
    )!;
    expect(await revokeAgent(database.db, { agentId: agentB.id, revokedBy: userId })).toBe(true);
    expect(await service.exit).toBe(4);
  });
});
