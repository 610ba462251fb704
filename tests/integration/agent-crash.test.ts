import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DURABLE_AGENT_MESSAGE_TYPES } from '@custody/core';
import { createSimulator, type SimulatedCamera, type Simulator } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentBundle } from '../../apps/agent/build.ts';
import { runCli } from '../../apps/agent/src/run-cli.ts';
import { createMemoryIo } from '../../apps/agent/src/testing/memory-io.ts';
import { startTestGateway, type TestGateway } from '../../apps/agent/src/testing/test-gateway.ts';
import { ADMIN, ADMIN_USERS, fastSimulator, freePort } from './support/simulated-site.ts';

// The release bundle, run as its own process and killed with SIGKILL: what the outbox journaled
// must reach the server exactly once after a restart, and a command that ran must not run again.
const SITE_BASE = '127.90.0.1';
const SITE_RANGE = '127.90.0.0/29';
const SITE_ID = randomUUID();

let simulator: Simulator;
let gateway: TestGateway;
let workDir: string;
let bundle: string;
let port: number;
let agentId: string;
const cameras: SimulatedCamera[] = [];

function agentEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...extra,
    PATH: process.env.PATH,
    HOME: workDir,
    CUSTODY_AGENT_DATA_DIR: join(workDir, 'data'),
    CUSTODY_AGENT_CIDRS: SITE_RANGE,
    CUSTODY_AGENT_PORTS: String(port),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '5',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
  };
}

const DURABLE: ReadonlySet<string> = new Set(DURABLE_AGENT_MESSAGE_TYPES);

/** Ids of durable messages the gateway received again after recording them. */
function replayedIds(): Set<string> {
  const ids = new Set<string>();
  for (const event of gateway.events) {
    if (event.kind === 'message' && event.duplicate) ids.add(event.message.id);
  }
  return ids;
}

function commandPayload(
  serial: string,
  verb: string,
  params: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
) {
  const now = Date.now();
  return {
    commandId: randomUUID(),
    agentId,
    siteId: SITE_ID,
    serial,
    verb,
    params,
    secrets,
    approval: null,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 300_000).toISOString(),
    nonce: randomBytes(16).toString('base64'),
  };
}

function resultFor(commandId: string) {
  return gateway.messages('command-result').find((message) => message.commandId === commandId);
}

function startAgent(extra: Record<string, string> = {}): {
  child: ChildProcess;
  log: () => string;
} {
  let log = '';
  const child = spawn(process.execPath, [bundle, 'run'], {
    env: agentEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return { child, log: () => log };
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.kill(signal);
  return exited;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'custody-agent-crash-'));
  bundle = await buildAgentBundle(join(workDir, 'dist', 'agent.mjs'));
  port = await freePort(SITE_BASE);
  simulator = await createSimulator({ ...fastSimulator(SITE_BASE), ports: { http: port } });
  for (const firmware of ['10.12', '11.11'] as const) {
    cameras.push(await simulator.addCamera({ firmware, users: ADMIN_USERS }));
  }
  gateway = await startTestGateway({ heartbeatIntervalMs: 1_000 });
  const token = gateway.createEnrollmentToken({ siteId: SITE_ID, ttlMs: 60_000 });
  const io = createMemoryIo({ env: { ...agentEnv(), TOKEN: token } });
  expect(await runCli(['enroll', '--server', gateway.url, '--token-env', 'TOKEN'], io)).toBe(0);
  agentId = /agent ([0-9a-f-]{36})/.exec(io.out())?.[1] ?? '';
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await simulator?.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('the agent bundle killed with SIGKILL', () => {
  it('delivers every journaled message exactly once after a restart', async () => {
    gateway.faults.withholdAcks = true;
    const first = startAgent();
    try {
      await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 15_000 });
      await gateway.waitFor(() => gateway.messages('discovery-event').length >= cameras.length, {
        timeoutMs: 15_000,
        description: 'both cameras discovered',
      });
    } finally {
      // Nothing was acknowledged, so everything sent so far is still in the journal.
      await kill(first.child, 'SIGKILL');
    }
    // Only durable messages are journaled and replayed; heartbeats and hellos never are.
    const sentBefore = gateway
      .messages()
      .filter((message) => DURABLE.has(message.type))
      .map((message) => message.id);
    expect(sentBefore.length).toBeGreaterThan(0);

    gateway.faults.withholdAcks = false;
    const second = startAgent();
    try {
      await gateway.waitFor(() => sentBefore.every((id) => replayedIds().has(id)), {
        timeoutMs: 15_000,
        description: 'every message of the first run replayed after the restart',
      });
      // The replay came as duplicates of what was already delivered, which the server dropped:
      // each journaled message reached it exactly once, under its first id.
      const delivered = gateway.messages().map((message) => message.id);
      for (const id of sentBefore)
        expect(delivered.filter((other) => other === id)).toHaveLength(1);
    } finally {
      expect(await kill(second.child, 'SIGTERM')).toBe(0);
    }
    expect(second.log()).toMatch(/link connected/);
    expect(second.log()).not.toContain(ADMIN.password);
  }, 60_000);

  it('answers a command re-delivered after a crash with its stored result instead of running it again', async () => {
    const agent = startAgent();
    const camera = cameras[0]!;
    const now = Date.now();
    const payload = {
      commandId: randomUUID(),
      agentId,
      siteId: SITE_ID,
      serial: camera.serial,
      verb: 'probe',
      params: { credential: 'admin' },
      secrets: { admin: ADMIN },
      approval: null,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 300_000).toISOString(),
      nonce: randomBytes(16).toString('base64'),
    };
    let sent;
    try {
      await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 15_000 });
      sent = gateway.sendCommand(agentId, payload);
      await gateway.waitFor(
        () =>
          gateway
            .messages('command-result')
            .find((message) => message.commandId === payload.commandId),
        { timeoutMs: 15_000 },
      );
    } finally {
      await kill(agent.child, 'SIGKILL');
    }

    const again = startAgent();
    try {
      await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 15_000 });
      gateway.sendRaw(agentId, JSON.stringify({ ...sent, id: randomUUID() }));
      await gateway.waitFor(
        () =>
          gateway
            .messages('command-result')
            .find((message) => message.commandId === payload.commandId && message.replayed),
        { timeoutMs: 15_000, description: 'the stored result, replayed' },
      );
    } finally {
      await kill(again.child, 'SIGTERM');
    }
    const results = gateway
      .messages('command-result')
      .filter((message) => message.commandId === payload.commandId);
    expect(results.map((result) => [result.outcome, result.replayed])).toEqual([
      ['succeeded', false],
      ['succeeded', true],
    ]);
    expect(results[1]?.result).toEqual(results[0]?.result);
    expect(again.log()).not.toContain(ADMIN.password);
  }, 60_000);

  it('reports the commands it acknowledged before a crash once it restarts, without a re-delivery', async () => {
    const camera = cameras[1]!;
    // A watch that will not end by itself (the camera stays configured), and a probe queued
    // behind it on the same camera.
    const watch = commandPayload(camera.serial, 'watch-for-device', {
      timeoutMs: 600_000,
      requireFactoryDefault: true,
    });
    const queued = commandPayload(
      camera.serial,
      'probe',
      { credential: 'admin' },
      { admin: ADMIN },
    );
    const agent = startAgent();
    try {
      await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 15_000 });
      gateway.sendCommand(agentId, watch);
      await gateway.waitFor(
        () =>
          gateway
            .messages('command-progress')
            .find((message) => message.commandId === watch.commandId),
        { timeoutMs: 15_000, description: 'the watch running' },
      );
      gateway.sendCommand(agentId, queued);
      await gateway.waitFor(
        () =>
          gateway.messages('command-ack').find((message) => message.commandId === queued.commandId),
        { timeoutMs: 15_000, description: 'the queued probe acknowledged' },
      );
    } finally {
      await kill(agent.child, 'SIGKILL');
    }
    expect(resultFor(watch.commandId)).toBeUndefined();
    expect(resultFor(queued.commandId)).toBeUndefined();

    // The server stopped sending both once they were acknowledged; nothing is sent again.
    const again = startAgent();
    try {
      await gateway.waitFor(() => resultFor(watch.commandId) && resultFor(queued.commandId), {
        timeoutMs: 15_000,
        description: 'results for both commands after the restart',
      });
    } finally {
      expect(await kill(again.child, 'SIGTERM')).toBe(0);
    }
    expect(resultFor(watch.commandId)).toMatchObject({
      outcome: 'failed',
      error: { code: 'interrupted' },
      replayed: false,
    });
    expect(resultFor(queued.commandId)).toMatchObject({
      outcome: 'failed',
      error: { code: 'not-run' },
      replayed: false,
    });
    expect(again.log()).not.toContain(ADMIN.password);
  }, 60_000);

  it('on SIGTERM, reports a command that outlasts the grace period before it exits', async () => {
    const camera = cameras[0]!;
    const watch = commandPayload(camera.serial, 'watch-for-device', {
      timeoutMs: 600_000,
      requireFactoryDefault: true,
    });
    const agent = startAgent({ CUSTODY_AGENT_STOP_GRACE_S: '1' });
    try {
      await gateway.waitFor(() => gateway.isConnected(agentId), { timeoutMs: 15_000 });
      gateway.sendCommand(agentId, watch);
      await gateway.waitFor(
        () =>
          gateway
            .messages('command-progress')
            .find((message) => message.commandId === watch.commandId),
        { timeoutMs: 15_000, description: 'the watch running' },
      );
    } finally {
      expect(await kill(agent.child, 'SIGTERM')).toBe(0);
    }
    // Delivered by this run, not left for the next one to report.
    expect(resultFor(watch.commandId)).toMatchObject({
      outcome: 'failed',
      error: { code: 'interrupted' },
    });
    expect(agent.log()).toMatch(/finishing running commands/);
  }, 60_000);
});
