import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  authSigningText,
  commandSigningText,
  isDomainError,
  parseServerFrame,
  type ServerMessage,
} from '@custody/core';
import { schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import { createSimulator, type SimulatedCamera, type Simulator } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateKeyPair, signText } from '../../apps/agent/src/identity/ed25519.ts';
import { createCommandExecutor } from '../../apps/agent/src/jobs/command-executor.ts';
import type {
  CommandMessage,
  CommandReport,
  CommandResultBody,
} from '../../apps/agent/src/jobs/command-report.ts';
import {
  createMemoryNonceJournal,
  createMemoryResultStore,
} from '../../apps/agent/src/store/testing/memory-stores.ts';
import {
  createEnrollmentToken,
  createMemorySecretsResolver,
  loadCommandSigningKey,
  queueCommand,
  silentGatewayLogger,
  startAgentGateway,
  type AgentGateway,
} from '../../apps/web/src/server/gateway/index.ts';
import { caseIn } from '../../apps/web/src/server/services/approvals/approval-test-fixtures.ts';
import {
  decideApproval,
  requestApproval,
} from '../../apps/web/src/server/services/approvals/approvals.ts';
import { seedWorld, type World } from '../../apps/web/src/server/test-support/world.ts';
import {
  ADMIN,
  ADMIN_USERS,
  fastSimulator,
  freePort,
  httpUrlOf,
  isolated,
} from './support/simulated-site.ts';

// Approval bypass attempts against the real parts: the web gateway signs a software factory
// default for an owner-approved grant and delivers it over a real WebSocket; the real agent
// executor then gets that frame, altered ones and forged ones, against simulated cameras. The
// only frame that may touch a camera is the one the server signed, once.

const url = providedDatabaseUrl();
const SITE_BASE = url ? '127.94.0.1' : '127.93.0.1';
const ADMIN_ENTRY = `credential:${randomUUID()}`;

let database: DatabaseHandle;
let world: World;
let gateway: AgentGateway;
let server: Server;
let gatewayUrl: string;
let serverUrl: string;
let keyDir: string;
let simulator: Simulator;
let cameraA: SimulatedCamera;
let cameraB: SimulatedCamera;
let agent: {
  agentId: string;
  siteId: string;
  commandSigningKey: string;
  privateKeyPem: string;
  publicKey: string;
};
let connection: { ws: WebSocket; received: ServerMessage[] };
let grantId: string;
let genuine: CommandMessage;
let genuineCommandId: string;

function envelope(type: string) {
  return { v: PROTOCOL_VERSION, id: randomUUID(), type, sentAt: new Date().toISOString() };
}

async function nextMessage<T extends ServerMessage['type']>(
  type: T,
  where: (message: Extract<ServerMessage, { type: T }>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Extract<ServerMessage, { type: T }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = connection.received.find(
      (message): message is Extract<ServerMessage, { type: T }> =>
        message.type === type && where(message as Extract<ServerMessage, { type: T }>),
    );
    if (found) {
      connection.received.splice(connection.received.indexOf(found), 1);
      return found;
    }
    if (Date.now() > deadline) throw new Error(`No ${type} within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The real agent's command executor for the enrolled identity, with a static camera directory. */
function executorFor(nonces = createMemoryNonceJournal(), results = createMemoryResultStore()) {
  const reports: CommandReport[] = [];
  const { sessions, limiter } = isolated();
  const urls = new Map([cameraA, cameraB].map((camera) => [camera.serial, httpUrlOf(camera)]));
  const executor = createCommandExecutor({
    identity: {
      agentId: agent.agentId,
      siteId: agent.siteId,
      commandSigningKey: agent.commandSigningKey,
    },
    nonces,
    results,
    directory: {
      urlOf: (serial) => urls.get(serial),
      onSighting: () => () => undefined,
      discoverNow: () => Promise.resolve(),
    },
    report: (body) => {
      reports.push(body);
      return Promise.resolve();
    },
    budget: isolated().budget,
    vapix: { sessions, limiter },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    timing: {
      pollIntervalMs: 10,
      restartTimeoutMs: 10_000,
      resetTimeoutMs: 15_000,
      addressChangeTimeoutMs: 10_000,
      progressEveryMs: 500,
    },
    factoryDefaultUrls: [],
  });
  return {
    async deliver(message: CommandMessage): Promise<CommandResultBody | undefined> {
      await executor.handle({ ...message, id: randomUUID() });
      return reports.findLast(
        (report): report is CommandResultBody =>
          report.type === 'command-result' &&
          report.commandId === (message.payload as { commandId: string }).commandId,
      );
    },
    reports,
  };
}

/** The genuine frame with its payload changed and its signature kept (or re-signed by `key`). */
function altered(
  change: (payload: Record<string, unknown>) => Record<string, unknown>,
  key?: string,
) {
  const payload = change(structuredClone(genuine.payload));
  return {
    ...genuine,
    payload,
    signature: key === undefined ? genuine.signature : signText(key, commandSigningText(payload)),
  } as CommandMessage;
}

beforeAll(async () => {
  database = await createTestDatabase({ url });
  world = await seedWorld(database.db);
  keyDir = await mkdtemp(join(tmpdir(), 'custody-approval-key-'));
  const signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
  gateway = await startAgentGateway({
    database,
    signer,
    resolveSecrets: createMemorySecretsResolver(new Map([[ADMIN_ENTRY, ADMIN]])),
    heartbeatIntervalMs: 1_000,
    sweepIntervalMs: 500,
    log: silentGatewayLogger,
  });
  server = createServer((request, response) => {
    if (gateway.handleRequest(request, response)) return;
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serverUrl = `http://127.0.0.1:${port}`;
  gatewayUrl = `ws://127.0.0.1:${port}/agent/v1`;

  const simulatorPort = await freePort(SITE_BASE);
  simulator = await createSimulator({
    ...fastSimulator(SITE_BASE),
    ports: { http: simulatorPort },
  });
  cameraA = await simulator.addCamera({ firmware: '11.11', users: ADMIN_USERS });
  cameraB = await simulator.addCamera({ firmware: '11.11', users: ADMIN_USERS });

  // Enroll an agent for the granted site and connect it by hand, announcing the verbs it runs.
  const siteId = world.sites.grantedSite.id;
  const { token } = await createEnrollmentToken(database.db, {
    siteId,
    createdBy: world.people.ownerApprover.id,
    ttlMs: 60_000,
  });
  const keys = generateKeyPair();
  const enrolled = await fetch(`${serverUrl}/agent/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      publicKey: keys.publicKey,
      name: 'gatehouse',
      agentVersion: '0.0.1',
    }),
  });
  expect(enrolled.status).toBe(201);
  const body = (await enrolled.json()) as Record<string, string>;
  agent = {
    agentId: body.agentId ?? '',
    siteId: body.siteId ?? '',
    commandSigningKey: body.commandSigningKey ?? '',
    privateKeyPem: keys.privateKeyPem,
    publicKey: keys.publicKey,
  };
  const ws = new WebSocket(gatewayUrl);
  connection = { ws, received: [] };
  ws.on('message', (data: Buffer) => {
    const parsed = parseServerFrame(data.toString('utf8'));
    if (parsed.ok) connection.received.push(parsed.value);
  });
  ws.on('error', () => undefined);
  const challenge = await nextMessage('challenge');
  ws.send(
    JSON.stringify({
      ...envelope('hello'),
      agentId: agent.agentId,
      protocolVersions: [PROTOCOL_VERSION],
      agentVersion: '0.0.1',
      capabilities: {
        verbs: ['probe', 'factory-default-soft', 'factory-default-hard'],
        discovery: [],
      },
      gatewayUrl,
      signature: signText(
        agent.privateKeyPem,
        authSigningText({ agentId: agent.agentId, nonce: challenge.nonce, gatewayUrl }),
      ),
    }),
  );
  await nextMessage('welcome');

  // Both cameras are inventoried at the site, reported by this agent.
  for (const camera of [cameraA, cameraB]) {
    await database.db.insert(schema.cameras).values({
      serial: camera.serial,
      siteId,
      agentId: agent.agentId,
      model: 'AXIS M3086-V',
      url: httpUrlOf(camera),
      address: new URL(httpUrlOf(camera)).hostname,
    });
  }

  // The recommissioning case of camera A, approved by the owner for a soft factory default.
  const record = await caseIn(database.db, world, cameraA.serial, 'awaiting-approval');
  const request = await requestApproval(database.db, world.actors.technician, {
    caseId: record.id,
    verb: 'factory-default-soft',
    reason: 'The previous installer left no working admin credential.',
  });
  const decided = await decideApproval(database.db, world.actors.ownerApprover, {
    requestId: request.id,
    decision: 'approve',
    reason: 'Invoice matches the serial.',
  });
  grantId = decided.grant?.id ?? '';
  expect(grantId).not.toBe('');

  const queued = await queueCommand(database.db, {
    agentId: agent.agentId,
    serial: cameraA.serial,
    verb: 'factory-default-soft',
    params: { credential: 'admin' },
    secretsRef: { admin: ADMIN_ENTRY },
    approvalGrantId: grantId,
    requestedBy: world.people.technician.id,
    caseId: record.id,
  });
  genuineCommandId = queued.commandId;
  const delivered = await nextMessage(
    'command',
    (message) => message.payload.commandId === queued.commandId,
  );
  genuine = delivered;
}, 60_000);

afterAll(async () => {
  connection?.ws.close();
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await simulator?.close();
  await database?.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe('a destructive command delivered straight to the agent', () => {
  it('carries the owner’s approval, bound to its serial, verb, site and agent', () => {
    expect(genuine.payload).toMatchObject({
      verb: 'factory-default-soft',
      serial: cameraA.serial,
      approval: {
        grantId,
        action: 'factory-default-soft',
        serial: cameraA.serial,
        siteId: world.sites.grantedSite.id,
        agentId: agent.agentId,
      },
    });
  });

  const tampering: [string, (payload: Record<string, unknown>) => Record<string, unknown>][] = [
    [
      'pointed at another camera (serial B with serial A’s grant)',
      (payload) => ({
        ...payload,
        serial: cameraB.serial,
        url: httpUrlOf(cameraB),
        approval: { ...(payload.approval as object), serial: cameraB.serial },
      }),
    ],
    [
      'turned into a hard factory default',
      (payload) => ({
        ...payload,
        verb: 'factory-default-hard',
        approval: { ...(payload.approval as object), action: 'factory-default-hard' },
      }),
    ],
    [
      'given a longer-lived approval',
      (payload) => ({
        ...payload,
        approval: {
          ...(payload.approval as object),
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        },
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    ],
    ['stripped of its approval', (payload) => ({ ...payload, approval: null })],
  ];

  for (const [name, change] of tampering) {
    it(`is refused when ${name} after signing, and no camera is touched`, async () => {
      const result = await executorFor().deliver(altered(change));
      expect(result).toMatchObject({ outcome: 'refused', error: { code: 'bad-signature' } });
      expect(cameraA.state.needsetup).toBe(false);
      expect(cameraB.state.needsetup).toBe(false);
    });
  }

  it('is refused when forged: altered and signed with a key other than the server’s', async () => {
    const attacker = generateKeyPair();
    const forged = altered(
      (payload) => ({
        ...payload,
        commandId: randomUUID(),
        serial: cameraB.serial,
        url: httpUrlOf(cameraB),
        approval: { ...(payload.approval as object), serial: cameraB.serial },
      }),
      attacker.privateKeyPem,
    );
    const result = await executorFor().deliver(forged);
    expect(result).toMatchObject({ outcome: 'refused', error: { code: 'bad-signature' } });
    expect(cameraB.state.needsetup).toBe(false);
  });

  it('runs the genuine frame once; the used grant is neither signed again nor run again', async () => {
    const nonces = createMemoryNonceJournal();
    const results = createMemoryResultStore();
    const agentSide = executorFor(nonces, results);
    const first = await agentSide.deliver(genuine);
    expect(first).toMatchObject({ outcome: 'succeeded', replayed: false });
    expect(cameraA.state.needsetup).toBe(true);
    expect(cameraB.state.needsetup).toBe(false);

    // The server will not sign a second command on the spent grant…
    const again = await queueCommand(database.db, {
      agentId: agent.agentId,
      serial: cameraA.serial,
      verb: 'factory-default-soft',
      params: { credential: 'admin' },
      secretsRef: { admin: ADMIN_ENTRY },
      approvalGrantId: grantId,
      requestedBy: world.people.technician.id,
    }).catch((error: unknown) => error);
    expect(isDomainError(again, 'approval-refused')).toBe(true);
    const grant = (await database.db.select().from(schema.approvalGrants)).find(
      (row) => row.id === grantId,
    );
    expect(grant?.usedByCommandId).toBe(genuineCommandId);
    const commands = (await database.db.select().from(schema.commands)).filter(
      (row) => row.approvalGrantId === grantId,
    );
    expect(commands.map((command) => command.id)).toEqual([genuineCommandId]);

    // …and the captured frame replayed to the agent (the camera set up again meanwhile) gets the
    // stored result back without touching the camera.
    cameraA.users.set(ADMIN.username, {
      username: ADMIN.username,
      password: ADMIN.password,
      role: 'admin',
      primaryGroup: 'root',
      ptz: false,
    });
    expect(cameraA.state.needsetup).toBe(false);
    const replayed = await agentSide.deliver(genuine);
    expect(replayed).toMatchObject({ outcome: 'succeeded', replayed: true });
    expect(cameraA.state.needsetup).toBe(false);

    // A fresh result store (as after a lost disk) still has the nonce journal: refused.
    const afterLoss = await executorFor(nonces).deliver(genuine);
    expect(afterLoss).toMatchObject({ outcome: 'refused', error: { code: 'replayed-nonce' } });
    expect(cameraA.state.needsetup).toBe(false);
  });
});
