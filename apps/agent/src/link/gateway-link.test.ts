import { randomUUID } from 'node:crypto';
import {
  CLOSE_CODES,
  commandSigningText,
  type AgentMessage,
  type CommandPayload,
} from '@custody/core';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, verifyText } from '../identity/ed25519.ts';
import type { AgentIdentity, Outbox } from '../store/store-contracts.ts';
import {
  startTestGateway,
  type TestGateway,
  type TestGatewayOptions,
} from '../testing/test-gateway.ts';
import { createAgentMessage, type DurableAgentMessage } from './agent-message.ts';
import { createBackoff } from './backoff.ts';
import { GatewayLinkError } from './gateway-link-error.ts';
import {
  createGatewayLink,
  type CommandMessage,
  type GatewayLink,
  type GatewayLinkOptions,
  type LinkStatus,
} from './gateway-link.ts';
import type { LinkLogger } from './link-logger.ts';

interface MemoryOutbox extends Outbox {
  appended: number;
}

/** The outbox contract in memory: what the link needs, without the journal. */
function createMemoryOutbox(initial: AgentMessage[] = []): MemoryOutbox {
  const items = [...initial];
  let appended = 0;
  return {
    append(message) {
      items.push(message);
      appended += 1;
      return Promise.resolve();
    },
    pending: () => [...items],
    acknowledge(ids) {
      for (const id of ids) {
        const index = items.findIndex((item) => item.id === id);
        if (index >= 0) items.splice(index, 1);
      }
      return Promise.resolve();
    },
    get depth() {
      return items.length;
    },
    get appended() {
      return appended;
    },
    dropped: 0,
    close: () => Promise.resolve(),
  };
}

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

function createRecordingLogger(): LinkLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

function progress(step: string): DurableAgentMessage {
  return createAgentMessage('command-progress', {
    commandId: randomUUID(),
    step,
    message: `step ${step}`,
  });
}

const CAPABILITIES = { verbs: ['probe' as const], discovery: ['ssdp' as const] };

let gateway: TestGateway | undefined;
const links: GatewayLink[] = [];

afterEach(async () => {
  await Promise.all(links.splice(0).map((link) => link.stop()));
  await gateway?.close();
  gateway = undefined;
});

async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  gateway = await startTestGateway(options);
  return gateway;
}

function enrolledIdentity(target: TestGateway): AgentIdentity {
  const keys = generateKeyPair();
  const agent = target.registerAgent({ publicKey: keys.publicKey });
  return {
    agentId: agent.agentId,
    siteId: agent.siteId,
    gatewayUrl: target.gatewayUrl,
    commandSigningKey: target.commandSigningKey,
    publicKey: keys.publicKey,
    privateKeyPem: keys.privateKeyPem,
    enrolledAt: new Date().toISOString(),
  };
}

function startLink(
  options: Partial<GatewayLinkOptions> & Pick<GatewayLinkOptions, 'identity'>,
): GatewayLink {
  const link = createGatewayLink({
    outbox: createMemoryOutbox(),
    onCommand: () => undefined,
    capabilities: CAPABILITIES,
    backoff: createBackoff({ baseMs: 20, capMs: 100, random: () => 0.5 }),
    ...options,
  });
  links.push(link);
  return link;
}

function waitForStatus(
  link: GatewayLink,
  check: (status: LinkStatus) => boolean,
  timeoutMs = 5_000,
): Promise<LinkStatus> {
  return new Promise((resolve, reject) => {
    if (check(link.status())) return resolve(link.status());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`Link still ${link.state} after ${timeoutMs} ms.`));
    }, timeoutMs);
    const off = link.onStateChange((status) => {
      if (!check(status)) return;
      clearTimeout(timer);
      off();
      resolve(status);
    });
  });
}

const inState = (state: LinkStatus['state']) => (status: LinkStatus) => status.state === state;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function eventsOf(target: TestGateway, kind: TestGateway['events'][number]['kind']) {
  return target.events.filter((event) => event.kind === kind);
}

describe('createGatewayLink', () => {
  it('answers the challenge with a signed hello and is connected once welcomed', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const link = startLink({ identity, agentVersion: '9.9.9' });

    const status = await waitForStatus(link, inState('connected'));

    expect(status).toMatchObject({ protocolVersion: 1, failedAttempts: 0, lastError: null });
    expect(target.isConnected(identity.agentId)).toBe(true);
    const [hello] = target.messages('hello');
    expect(hello).toMatchObject({
      agentId: identity.agentId,
      agentVersion: '9.9.9',
      gatewayUrl: target.gatewayUrl,
      protocolVersions: [1],
      capabilities: CAPABILITIES,
    });
  });

  it('sends heartbeats at the interval the welcome announced, with the outbox depth', async () => {
    const target = await startGateway({ heartbeatIntervalMs: 1_000 });
    const outbox = createMemoryOutbox();
    const identity = enrolledIdentity(target);
    startLink({ identity, outbox, runningCommands: () => 2 });
    await target.waitFor(() => target.isConnected(identity.agentId));

    const heartbeat = await target.waitFor(() => target.messages('heartbeat')[0], {
      timeoutMs: 2_500,
    });

    expect(heartbeat).toMatchObject({ outboxDepth: 0, runningCommands: 2, v: 1 });
  });

  it('stops retrying and reports auth-failed when the gateway refuses the signature', async () => {
    const target = await startGateway();
    const identity = {
      ...enrolledIdentity(target),
      privateKeyPem: generateKeyPair().privateKeyPem,
    };
    const link = startLink({ identity });

    expect(await link.closed).toBe('auth-failed');
    await sleep(250);

    expect(link.status()).toMatchObject({ state: 'auth-failed', lastCloseCode: 4001 });
    expect(eventsOf(target, 'connection')).toHaveLength(1);
    expect(eventsOf(target, 'refused')).toEqual([
      { kind: 'refused', agentId: identity.agentId, code: 4001, error: 'bad-signature' },
    ]);
  });

  it('reports auth-failed for an agent the gateway does not know', async () => {
    const target = await startGateway();
    const identity = { ...enrolledIdentity(target), agentId: randomUUID() };
    const link = startLink({ identity });

    expect(await link.closed).toBe('auth-failed');
    expect(eventsOf(target, 'refused')).toMatchObject([{ code: CLOSE_CODES.authFailed }]);
  });

  it('ends revoked when the gateway revokes it while connected', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const link = startLink({ identity });
    await waitForStatus(link, inState('connected'));

    target.revokeAgent(identity.agentId);

    expect(await link.closed).toBe('revoked');
    expect(link.status().lastCloseCode).toBe(4003);
  });

  it('is refused as revoked when it comes back after being revoked, and gives up', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const first = startLink({ identity });
    await waitForStatus(first, inState('connected'));
    await first.stop();
    target.revokeAgent(identity.agentId);

    const second = startLink({ identity });

    expect(await second.closed).toBe('revoked');
    await sleep(250);
    expect(eventsOf(target, 'connection')).toHaveLength(2);
    expect(eventsOf(target, 'refused')).toEqual([
      { kind: 'refused', agentId: identity.agentId, code: 4003, error: 'revoked' },
    ]);
  });

  it('delivers every durable message exactly once across dropped connections and lost acks', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const fromLastRun = [progress('a'), progress('b')];
    const outbox = createMemoryOutbox(fromLastRun);
    const link = startLink({
      identity,
      outbox,
      backoff: createBackoff({ baseMs: 400, capMs: 400, random: () => 0.999 }),
    });
    await waitForStatus(link, inState('connected'));
    await target.waitFor(
      () => outbox.depth === 0 && target.messages('command-progress').length === 2,
    );

    target.faults.withholdAcks = true;
    const whileConnected = [progress('c'), progress('d')];
    for (const message of whileConnected) await link.enqueue(message);
    await target.waitFor(() => target.messages('command-progress').length === 4);
    expect(outbox.depth).toBe(2);

    target.dropConnection(identity.agentId);
    await waitForStatus(link, inState('backing-off'));
    const whileOffline = progress('e');
    await link.enqueue(whileOffline);
    target.faults.withholdAcks = false;
    await waitForStatus(link, inState('connected'));
    await target.waitFor(() => outbox.depth === 0 && target.duplicates === 2, {
      description: 'the replay to be acknowledged',
    });

    const delivered = target.messages('command-progress').map((message) => message.id);
    const sent = [...fromLastRun, ...whileConnected, whileOffline].map((message) => message.id);
    expect(delivered).toEqual(sent);
    expect(target.duplicates).toBe(2);
  });

  it('declares a silent connection dead after 2.5 heartbeat intervals and reconnects', async () => {
    const target = await startGateway({ heartbeatIntervalMs: 1_000 });
    const identity = enrolledIdentity(target);
    const link = startLink({ identity });
    await waitForStatus(link, inState('connected'));
    const silentSince = Date.now();
    target.faults.silent = true;

    const dropped = await waitForStatus(link, inState('backing-off'), 5_000);
    const silentFor = Date.now() - silentSince;
    target.faults.silent = false;
    await waitForStatus(link, inState('connected'));

    expect(dropped.lastError).toMatch(/No frame from the gateway for 2500 ms/);
    expect(silentFor).toBeGreaterThanOrEqual(2_400);
    expect(silentFor).toBeLessThan(4_000);
    expect(eventsOf(target, 'authenticated')).toHaveLength(2);
  }, 10_000);

  it('gives up on a handshake without a welcome and tries again', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    target.faults.ignoreHello = true;
    const link = startLink({ identity, handshakeTimeoutMs: 150 });

    const failed = await waitForStatus(link, inState('backing-off'));
    expect(failed.lastError).toMatch(/No welcome from the gateway within 150 ms/);
    target.faults.ignoreHello = false;
    await waitForStatus(link, inState('connected'));
    expect(eventsOf(target, 'connection').length).toBeGreaterThanOrEqual(2);
  });

  it('answers a malformed frame with an error and keeps the connection', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const commands: CommandMessage[] = [];
    const link = startLink({ identity, onCommand: (command) => void commands.push(command) });
    await waitForStatus(link, inState('connected'));

    target.sendRaw(identity.agentId, 'not json');
    target.sendRaw(identity.agentId, JSON.stringify({ v: 1, id: randomUUID(), type: 'nonsense' }));
    const errors = await target.waitFor(
      () => target.messages('error').length === 2 && target.messages('error'),
    );

    expect(errors.map((error) => error.code)).toEqual(['not-json', 'invalid-message']);
    expect(errors[1]?.refId).toBeDefined();
    expect(link.state).toBe('connected');
    target.sendCommand(identity.agentId, { anything: true });
    await target.waitFor(() => commands.length === 1);
    expect(eventsOf(target, 'connection')).toHaveLength(1);
  });

  it('hands commands to the executor as they arrived, signature intact, without logging them', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const logger = createRecordingLogger();
    const commands: CommandMessage[] = [];
    const link = startLink({
      identity,
      logger,
      onCommand: (command) => void commands.push(command),
    });
    await waitForStatus(link, inState('connected'));
    const payload: CommandPayload = {
      commandId: randomUUID(),
      agentId: identity.agentId,
      siteId: identity.siteId,
      serial: 'ACCC8E000001',
      verb: 'probe',
      params: { credential: 'site-admin' },
      secrets: { 'site-admin': { username: 'root', password: 'correct-horse-battery' } },
      approval: null,
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      nonce: 'bm9uY2Vub25jZW5vbmNlbm9uY2U=',
    };

    const sent = target.sendCommand(identity.agentId, payload);
    await target.waitFor(() => commands.length === 1);

    expect(commands[0]).toEqual(sent);
    expect(
      verifyText(
        identity.commandSigningKey,
        commandSigningText(commands[0]?.payload),
        commands[0]?.signature ?? '',
      ),
    ).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain('correct-horse-battery');
    expect(logger.lines.some((line) => line.message === 'Command received.')).toBe(true);
  });

  it('logs a failing command handler and stays connected', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const logger = createRecordingLogger();
    const link = startLink({
      identity,
      logger,
      onCommand: () => Promise.reject(new Error('executor broke')),
    });
    await waitForStatus(link, inState('connected'));

    target.sendCommand(identity.agentId, { anything: true });
    await target.waitFor(() =>
      logger.lines.find((line) => line.message === 'The command handler failed.'),
    );

    expect(link.state).toBe('connected');
  });

  it('negotiates the highest version both sides speak', async () => {
    const target = await startGateway({ acceptedVersions: [2, 1] });
    const identity = enrolledIdentity(target);
    const link = startLink({ identity, protocolVersions: [1, 2, 3] });

    const status = await waitForStatus(link, inState('connected'));

    expect(status.protocolVersion).toBe(2);
    expect(eventsOf(target, 'authenticated')).toMatchObject([{ protocolVersion: 2 }]);
  });

  it('writes messages in the negotiated version, also after the connection drops', async () => {
    const target = await startGateway({ acceptedVersions: [2, 1] });
    const identity = enrolledIdentity(target);
    const link = startLink({ identity, protocolVersions: [1, 2, 3] });
    // Before any welcome, the newest version it offers.
    expect(link.messageVersion).toBe(3);
    await waitForStatus(link, inState('connected'));
    expect(link.messageVersion).toBe(2);
    target.dropConnection(identity.agentId);
    await waitForStatus(link, (status) => status.state !== 'connected');
    expect(link.messageVersion).toBe(2);
  });

  it('is closed with 4004 when no version is shared, and keeps trying with backoff', async () => {
    const target = await startGateway({ acceptedVersions: [3, 2] });
    const identity = enrolledIdentity(target);
    const logger = createRecordingLogger();
    const link = startLink({ identity, logger, protocolVersions: [1] });

    const status = await waitForStatus(link, inState('backing-off'));

    expect(status.lastCloseCode).toBe(CLOSE_CODES.unsupportedVersion);
    expect(logger.lines.some((line) => /upgrade the agent/.test(line.message))).toBe(true);
    await target.waitFor(() => eventsOf(target, 'refused').length >= 2);
    expect(eventsOf(target, 'refused')[0]).toMatchObject({ code: 4004 });
  });

  it('backs off with growing, capped delays while the gateway is unreachable', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    await target.close();
    gateway = undefined;
    const retries: number[] = [];
    const link = startLink({
      identity,
      backoff: createBackoff({ baseMs: 20, capMs: 80, random: () => 0.5 }),
      onStateChange: (status) => {
        if (status.retryInMs !== null) retries.push(status.retryInMs);
      },
    });

    await waitForStatus(link, () => retries.length >= 5);
    await link.stop();

    expect(retries.slice(0, 5)).toEqual([10, 20, 40, 40, 40]);
    expect(link.status()).toMatchObject({ state: 'stopped', failedAttempts: 5 });
  });

  it('refuses plain ws:// to a host that is not loopback', () => {
    const identity = {
      agentId: randomUUID(),
      gatewayUrl: 'ws://gateway.example.com/agent/v1',
      privateKeyPem: generateKeyPair().privateKeyPem,
    };
    const create = () =>
      createGatewayLink({
        identity,
        outbox: createMemoryOutbox(),
        onCommand: () => undefined,
        capabilities: CAPABILITIES,
      });

    expect(create).toThrow(GatewayLinkError);
    expect(create).toThrow(/Refusing unencrypted ws:\/\/ to gateway\.example\.com/);
  });

  it('refuses an identity whose private key cannot be read, before dialling', async () => {
    const target = await startGateway();
    const identity = { ...enrolledIdentity(target), privateKeyPem: 'not a key' };

    expect(() => startLink({ identity })).toThrow(
      expect.objectContaining({ code: 'invalid-identity' }),
    );
    await sleep(50);
    expect(target.events).toEqual([]);
  });

  it('refuses messages that do not belong in the outbox or on the wire', async () => {
    const target = await startGateway();
    const outbox = createMemoryOutbox();
    const link = startLink({ identity: enrolledIdentity(target), outbox });
    const heartbeat = createAgentMessage('heartbeat', { outboxDepth: 0, runningCommands: 0 });
    const broken = { ...progress('x'), fraction: 3 };

    await expect(link.enqueue(heartbeat as never)).rejects.toMatchObject({
      code: 'invalid-message',
    });
    await expect(link.enqueue(broken)).rejects.toThrow(/fraction/);
    expect(() => link.send(progress('y') as never)).toThrow(GatewayLinkError);
    expect(outbox.appended).toBe(0);
  });

  it('journals while offline and reports false for a transient send', async () => {
    const target = await startGateway();
    const outbox = createMemoryOutbox();
    const link = startLink({ identity: enrolledIdentity(target), outbox });
    const heartbeat = createAgentMessage('heartbeat', { outboxDepth: 0, runningCommands: 0 });

    expect(link.send(heartbeat)).toBe(false);
    await link.enqueue(progress('queued'));
    expect(outbox.depth).toBe(1);
    await waitForStatus(link, inState('connected'));
    await target.waitFor(() => outbox.depth === 0);
    expect(link.send(heartbeat)).toBe(true);
  });

  it('stops cleanly with a normal closure and opens nothing afterwards', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    const link = startLink({ identity });
    await waitForStatus(link, inState('connected'));

    await link.stop();

    expect(link.state).toBe('stopped');
    expect(await link.closed).toBe('stopped');
    await target.waitFor(() => target.connections === 0);
    expect(eventsOf(target, 'closed')).toEqual([
      { kind: 'closed', agentId: identity.agentId, code: 1000 },
    ]);
    await sleep(150);
    expect(eventsOf(target, 'connection')).toHaveLength(1);
  });

  it('stops cleanly in the middle of a handshake', async () => {
    const target = await startGateway();
    target.faults.ignoreHello = true;
    const link = startLink({ identity: enrolledIdentity(target) });
    await target.waitFor(() => target.messages('hello').length === 1);

    await link.stop();

    expect(link.status()).toMatchObject({ state: 'stopped', lastCloseCode: 1000 });
    await target.waitFor(() => target.connections === 0);
  });

  it('stops when its signal aborts, also while backing off', async () => {
    const target = await startGateway();
    const identity = enrolledIdentity(target);
    await target.close();
    gateway = undefined;
    const controller = new AbortController();
    const link = startLink({ identity, signal: controller.signal });
    await waitForStatus(link, inState('backing-off'));

    controller.abort();

    expect(await link.closed).toBe('stopped');
  });

  it('does not connect at all with an already aborted signal', async () => {
    const target = await startGateway();
    const link = startLink({ identity: enrolledIdentity(target), signal: AbortSignal.abort() });

    expect(await link.closed).toBe('stopped');
    await sleep(50);
    expect(target.events).toEqual([]);
  });
});
