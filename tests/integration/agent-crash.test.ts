import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function agentEnv(): NodeJS.ProcessEnv {
  return {
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

function startAgent(): { child: ChildProcess; log: () => string } {
  let log = '';
  const child = spawn(process.execPath, [bundle, 'run'], {
    env: agentEnv(),
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
    const seenBefore = gateway.messages().filter((message) => message.type !== 'hello').length;
    expect(seenBefore).toBeGreaterThan(0);

    gateway.faults.withholdAcks = false;
    const second = startAgent();
    try {
      await gateway.waitFor(() => gateway.duplicates >= seenBefore, {
        timeoutMs: 15_000,
        description: 'the journal replayed after the restart',
      });
      const events = gateway.messages('discovery-event');
      // The replay came as duplicates of what was already delivered, which the server dropped:
      // each camera appeared exactly once across both runs.
      const appeared = events.filter((event) => event.event === 'appeared').map((e) => e.serial);
      expect(appeared.sort()).toEqual(cameras.map((camera) => camera.serial).sort());
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
});
