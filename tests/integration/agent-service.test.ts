import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSimulator, type SimulatedCamera, type Simulator } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../apps/agent/src/run-cli.ts';
import { startTestGateway, type TestGateway } from '../../apps/agent/src/testing/test-gateway.ts';
import { createMemoryIo } from '../../apps/agent/src/testing/memory-io.ts';
import { ADMIN, ADMIN_USERS, fastSimulator, freePort } from './support/simulated-site.ts';

// A small site on 127.89.0.0/29: every camera on its own address and the same port, found by the
// agent's own range scan, as on a real LAN.
const SITE_BASE = '127.89.0.1';
const SITE_RANGE = '127.89.0.0/29';
const SITE_ID = randomUUID();
const TOKEN = `enroll-${randomBytes(16).toString('hex')}`;

let simulator: Simulator;
let gateway: TestGateway;
let dataDir: string;
let port: number;
const cameras: SimulatedCamera[] = [];
let agentId: string;
let service: {
  controller: AbortController;
  exit: Promise<number>;
  io: ReturnType<typeof createMemoryIo>;
};

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: dataDir,
    CUSTODY_AGENT_DATA_DIR: dataDir,
    CUSTODY_AGENT_CIDRS: SITE_RANGE,
    CUSTODY_AGENT_PORTS: String(port),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '30',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
    ...extra,
  };
}

function command(verb: string, serial: string, extra: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    commandId: randomUUID(),
    agentId,
    siteId: SITE_ID,
    serial,
    verb,
    params: {},
    secrets: {},
    approval: null,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 300_000).toISOString(),
    nonce: randomBytes(16).toString('base64'),
    ...extra,
  };
}

function resultOf(commandId: string) {
  return gateway.waitFor(
    () => gateway.messages('command-result').find((message) => message.commandId === commandId),
    { timeoutMs: 20_000, description: `the result of ${commandId}` },
  );
}

function inventorySerials(): Set<string> {
  const serials = new Set<string>();
  for (const message of gateway.messages('inventory-snapshot')) {
    for (const camera of message.cameras) serials.add(camera.serial);
  }
  for (const message of gateway.messages('inventory-delta')) {
    for (const camera of message.upserts) serials.add(camera.serial);
  }
  return serials;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'custody-agent-service-'));
  port = await freePort(SITE_BASE);
  simulator = await createSimulator({ ...fastSimulator(SITE_BASE), ports: { http: port } });
  for (const firmware of ['9.80', '11.11', '12.x'] as const) {
    cameras.push(await simulator.addCamera({ firmware, users: ADMIN_USERS }));
  }
  gateway = await startTestGateway({ heartbeatIntervalMs: 1_000 });
});

afterAll(async () => {
  service?.controller.abort();
  await service?.exit;
  await gateway?.close();
  await simulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('custody-agent enroll, run and status against a gateway and a simulated site', () => {
  it('enrolls with a single-use token and keeps its identity readable by its user only', async () => {
    const token = gateway.createEnrollmentToken({ siteId: SITE_ID, ttlMs: 60_000 });
    const io = createMemoryIo({ env: { ...env(), ENROLL_TOKEN: token } });
    const args = [
      'enroll',
      '--server',
      gateway.url,
      '--token-env',
      'ENROLL_TOKEN',
      '--name',
      'lab',
    ];
    expect(await runCli(args, io)).toBe(0);
    expect(io.out()).toMatch(/^Enrolled as agent [0-9a-f-]{36} for site /);
    expect(io.out() + io.err()).not.toContain(token);
    const identity = await stat(join(dataDir, 'identity.json'));
    expect(identity.mode & 0o777).toBe(0o600);
    agentId = /agent ([0-9a-f-]{36})/.exec(io.out())?.[1] ?? '';
    expect(gateway.agent(agentId)?.name).toBe('lab');

    // The token was single-use, and an enrolled agent does not silently re-enroll.
    const again = createMemoryIo({ env: { ...env(), ENROLL_TOKEN: token } });
    expect(await runCli([...args, '--replace', '--data-dir', join(dataDir, 'other')], again)).toBe(
      1,
    );
    expect(again.err()).toMatch(/refused/);
    expect(again.err()).not.toContain(token);
    const twice = createMemoryIo({ env: { ...env(), ENROLL_TOKEN: TOKEN } });
    expect(await runCli(args, twice)).toBe(1);
    expect(twice.err()).toMatch(/already enrolled as/);
  });

  it('reports every camera on the site, found by its range scan, after connecting', async () => {
    const controller = new AbortController();
    const io = createMemoryIo({ env: env(), signal: controller.signal });
    service = { controller, io, exit: runCli(['run'], io) };
    await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 10_000 });
    const expected = cameras.map((camera) => camera.serial);
    await gateway.waitFor(() => expected.every((serial) => inventorySerials().has(serial)), {
      timeoutMs: 20_000,
      description: 'every simulated camera in the inventory',
    });
    const appeared = () =>
      gateway
        .messages('discovery-event')
        .filter((event) => event.event === 'appeared')
        .map((event) => event.serial)
        .sort();
    await gateway.waitFor(() => appeared().length >= expected.length, {
      timeoutMs: 10_000,
      description: 'an appeared event for every camera',
    });
    expect(appeared()).toEqual([...expected].sort());
    // The snapshot came only once the first discovery round was over, so it is complete.
    const snapshot = gateway.messages('inventory-snapshot')[0];
    expect(snapshot?.cameras.map((camera) => camera.serial).sort()).toEqual([...expected].sort());
    // Firmware that answers anonymous unrestricted properties (10.x and later) is identified in
    // full by the inventory's anonymous probe, without spending a credential.
    const modern = cameras
      .filter((camera) => camera.firmware !== '9.80')
      .map((camera) => camera.serial);
    const identified = await gateway.waitFor(
      () => {
        const upserts = gateway.messages('inventory-delta').flatMap((delta) => delta.upserts);
        const found = modern.map((serial) =>
          upserts.find((camera) => camera.serial === serial && camera.firmware !== null),
        );
        return found.every((camera) => camera !== undefined) ? found : undefined;
      },
      { timeoutMs: 15_000, description: 'model and firmware of the modern cameras' },
    );
    for (const camera of identified) expect(camera?.model).toMatch(/^[A-Z]\d{4}/);
  });

  it('shows the connection, outbox and inventory in status', async () => {
    // status.json is rewritten on every link change and every few seconds.
    let status: Record<string, unknown> = {};
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
      const io = createMemoryIo({ env: env() });
      expect(await runCli(['status', '--json'], io)).toBe(0);
      status = JSON.parse(io.out()) as Record<string, unknown>;
      if (status.cameras === cameras.length) break;
    }
    expect(status).toMatchObject({ enrolled: true, agentId, running: true, link: 'connected' });
    const io = createMemoryIo({ env: env() });
    expect(await runCli(['status'], io)).toBe(0);
    expect(io.out()).toMatch(/link +connected/);
    expect(io.out()).toMatch(new RegExp(`cameras +${cameras.length}`));
  });

  it('runs a signed probe command with a delivered credential and reports the result', async () => {
    const camera = cameras[1]!;
    const sent = command('probe', camera.serial, {
      params: { credential: 'admin' },
      secrets: { admin: ADMIN },
    });
    gateway.sendCommand(agentId, sent);
    const result = await resultOf(sent.commandId);
    expect(result).toMatchObject({ outcome: 'succeeded', replayed: false });
    expect(JSON.stringify(result)).not.toContain(ADMIN.password);
    expect(gateway.messages('command-ack').some((ack) => ack.commandId === sent.commandId)).toBe(
      true,
    );
  });

  it('refuses a factory default without an approval and never touches the camera', async () => {
    const camera = cameras[0]!;
    const sent = command('factory-default-soft', camera.serial, {
      params: { credential: 'admin' },
      secrets: { admin: ADMIN },
    });
    gateway.sendCommand(agentId, sent);
    const result = await resultOf(sent.commandId);
    expect(result.outcome).toBe('refused');
    expect(result.error?.code).toBe('approval-missing');
  });

  it('refuses a command signed by another key', async () => {
    const camera = cameras[0]!;
    const sent = command('probe', camera.serial);
    const message = gateway.sendCommand(agentId, sent);
    expect(message.signature).toMatch(/==$/);
    const forged = { ...sent, commandId: randomUUID(), serial: cameras[2]!.serial };
    gateway.sendRaw(agentId, JSON.stringify({ ...message, id: randomUUID(), payload: forged }));
    const result = await resultOf(forged.commandId);
    expect(result).toMatchObject({ outcome: 'refused', error: { code: 'bad-signature' } });
  });

  it('stops with exit 4 when the server revokes it', async () => {
    gateway.revokeAgent(agentId);
    expect(await service.exit).toBe(4);
    expect(service.io.err()).toMatch(/revoked/);
    const io = createMemoryIo({ env: env() });
    expect(await runCli(['status'], io)).toBe(0);
    expect(io.out()).toMatch(/link +revoked/);
  });
});
