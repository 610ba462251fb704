import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PROTOCOL_VERSION, authSigningText, commandSigningText } from '@custody/core';
import WebSocket from 'ws';

/*
 * Many simulated agents in one process, for the gateway benchmark. Each speaks the real protocol
 * over its own WebSocket: it answers the challenge with an Ed25519-signed hello, heartbeats at the
 * interval the welcome names, sends an inventory snapshot and then deltas, verifies the signature
 * of every command and acknowledges it with command-ack and command-result. Frames are built and
 * read with JSON only (no schema parsing) to keep the simulated side light; the gateway validates
 * every frame, and any error it answers with is counted.
 *
 * IPC, from the parent: `start` (agents and the gateway URL), `connect`, `snapshot`, `deltas`,
 * `stats`, `close`. Replies: `connected`, `snapshot-done`, `deltas-done`, `stats`, and
 * `commands` (receipt times of command frames, batched).
 */

export interface SwarmAgent {
  agentId: string;
  privateKeyPem: string;
  /** The cameras it reports, each with its address. */
  cameras: { serial: string; address: string }[];
}

export type SwarmRequest =
  | {
      type: 'start';
      gatewayUrl: string;
      commandSigningKey: string;
      agents: SwarmAgent[];
    }
  | { type: 'connect'; concurrency: number }
  | { type: 'snapshot' }
  | {
      type: 'deltas';
      /** Deltas per second offered by this process, spread round-robin over its agents. */
      rate: number;
      upserts: number;
      durationMs: number;
      /** An agent with this many deltas unacknowledged skips its turn (counted as deferred). */
      maxUnacked: number;
      drainTimeoutMs: number;
    }
  | { type: 'stats' }
  | { type: 'close' };

export interface CommandReceipt {
  commandId: string;
  /** performance.timeOrigin + performance.now() when the frame arrived: comparable across processes. */
  at: number;
  verified: boolean;
}

export type SwarmReply =
  | { type: 'ready' }
  | { type: 'connected'; welcomed: number; failed: number; handshakeMs: number[] }
  | { type: 'snapshot-done'; acked: number; ackMs: number[] }
  | {
      type: 'deltas-done';
      sent: number;
      deferred: number;
      acked: number;
      /** Sent to acknowledged (committed) of each delta, in ms. */
      ackMs: number[];
      /** Wall clock (ms) when the last delta was acknowledged. */
      drainedAt: number;
    }
  | { type: 'commands'; receipts: CommandReceipt[] }
  | {
      type: 'stats';
      open: number;
      cpuMicros: number;
      rss: number;
      closes: Record<string, number>;
      errors: Record<string, number>;
    }
  | { type: 'error'; message: string };

interface ServerFrame {
  type: string;
  id: string;
  nonce?: string;
  heartbeatIntervalMs?: number;
  protocolVersion?: number;
  ids?: string[];
  payload?: Record<string, unknown>;
  signature?: string;
  code?: string;
  fatal?: boolean;
}

type Pending = { kind: 'snapshot' | 'delta' | 'command'; sentAt: number };

interface AgentState {
  agent: SwarmAgent;
  key: KeyObject;
  ws: WebSocket | null;
  welcomed: boolean;
  version: number;
  heartbeat: NodeJS.Timeout | undefined;
  pending: Map<string, Pending>;
  unackedDeltas: number;
  cursor: number;
  onWelcome: ((ok: boolean) => void) | null;
}

const MODELS = [
  { model: 'M3086-V', productName: 'AXIS M3086-V Dome Camera', firmware: '11.11.73' },
  { model: 'P3265-LVE', productName: 'AXIS P3265-LVE Dome Camera', firmware: '10.12.240' },
  { model: 'Q6135-LE', productName: 'AXIS Q6135-LE PTZ Camera', firmware: '12.0.1' },
] as const;

function send(message: SwarmReply): void {
  process.send?.(message);
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function envelope(type: string, version: number) {
  return { v: version, id: randomUUID(), type, sentAt: new Date().toISOString() };
}

function sighting(camera: { serial: string; address: string }, index: number, seenAt: string) {
  const model = MODELS[index % MODELS.length]!;
  return {
    serial: camera.serial,
    url: `http://${camera.address}/`,
    address: camera.address,
    source: 'scan',
    model: model.model,
    productName: model.productName,
    firmware: model.firmware,
    hardwareId: '9A1.1',
    mac: null,
    accessState: 'authenticated',
    seenAt,
  };
}

let gatewayUrl = '';
let commandKey: KeyObject | null = null;
const states: AgentState[] = [];
const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let receipts: CommandReceipt[] = [];
const deltaAckMs: number[] = [];
const snapshotAckMs: number[] = [];
let lastDeltaAckAt = 0;
let snapshotWaiter: (() => void) | null = null;
let deltaWaiter: (() => void) | null = null;
let unackedSnapshots = 0;
let unackedDeltasTotal = 0;

function transmit<T extends { id: string }>(
  state: AgentState,
  message: T,
  kind?: Pending['kind'],
): void {
  if (state.ws?.readyState !== WebSocket.OPEN) return;
  if (kind !== undefined) state.pending.set(message.id, { kind, sentAt: now() });
  state.ws.send(JSON.stringify(message));
}

function onAck(state: AgentState, ids: readonly string[]): void {
  const at = now();
  for (const id of ids) {
    const pending = state.pending.get(id);
    if (pending === undefined) continue;
    state.pending.delete(id);
    if (pending.kind === 'delta') {
      state.unackedDeltas -= 1;
      unackedDeltasTotal -= 1;
      deltaAckMs.push(at - pending.sentAt);
      lastDeltaAckAt = at;
      if (unackedDeltasTotal === 0) deltaWaiter?.();
    } else if (pending.kind === 'snapshot') {
      unackedSnapshots -= 1;
      snapshotAckMs.push(at - pending.sentAt);
      if (unackedSnapshots === 0) snapshotWaiter?.();
    }
  }
}

function onCommand(state: AgentState, frame: ServerFrame): void {
  const at = now();
  const payload = frame.payload ?? {};
  let verified = false;
  try {
    verified =
      commandKey !== null &&
      verify(
        null,
        Buffer.from(commandSigningText(payload), 'utf8'),
        commandKey,
        Buffer.from(frame.signature ?? '', 'base64'),
      );
  } catch {
    verified = false;
  }
  const commandId = String(payload.commandId);
  receipts.push({ commandId, at, verified });
  if (!verified) return;
  transmit(state, { ...envelope('command-ack', state.version), commandId }, 'command');
  transmit(
    state,
    {
      ...envelope('command-result', state.version),
      commandId,
      outcome: 'succeeded',
      result: { accessState: 'authenticated' },
      error: null,
      replayed: false,
    },
    'command',
  );
}

function onFrame(state: AgentState, text: string): void {
  let frame: ServerFrame;
  try {
    frame = JSON.parse(text) as ServerFrame;
  } catch {
    errors['not-json'] = (errors['not-json'] ?? 0) + 1;
    return;
  }
  switch (frame.type) {
    case 'challenge': {
      const signature = sign(
        null,
        Buffer.from(
          authSigningText({ agentId: state.agent.agentId, nonce: frame.nonce ?? '', gatewayUrl }),
          'utf8',
        ),
        state.key,
      ).toString('base64');
      transmit(state, {
        ...envelope('hello', PROTOCOL_VERSION),
        agentId: state.agent.agentId,
        protocolVersions: [PROTOCOL_VERSION],
        agentVersion: '0.0.0-bench',
        capabilities: { verbs: ['probe'], discovery: ['scan'] },
        gatewayUrl,
        signature,
      });
      return;
    }
    case 'welcome': {
      state.welcomed = true;
      state.version = frame.protocolVersion ?? PROTOCOL_VERSION;
      const interval = frame.heartbeatIntervalMs ?? 30_000;
      const beat = () =>
        transmit(state, {
          ...envelope('heartbeat', state.version),
          outboxDepth: state.pending.size,
          runningCommands: 0,
        });
      // Spread over the interval, as agents that connected at different times would be.
      state.heartbeat = setTimeout(() => {
        beat();
        state.heartbeat = setInterval(beat, interval);
      }, Math.random() * interval);
      state.onWelcome?.(true);
      return;
    }
    case 'ack':
      onAck(state, frame.ids ?? []);
      return;
    case 'command':
      onCommand(state, frame);
      return;
    case 'heartbeat':
      return;
    case 'error': {
      const code = `${frame.code ?? 'unknown'}${frame.fatal ? ' (fatal)' : ''}`;
      errors[code] = (errors[code] ?? 0) + 1;
      return;
    }
    default:
      errors[`unexpected ${frame.type}`] = (errors[`unexpected ${frame.type}`] ?? 0) + 1;
  }
}

function open(state: AgentState): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      state.onWelcome = null;
      resolve(ok);
    };
    state.onWelcome = settle;
    const ws = new WebSocket(gatewayUrl, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    state.ws = ws;
    ws.on('message', (data: Buffer) => onFrame(state, data.toString('utf8')));
    ws.on('error', (error) => {
      errors[`socket: ${error.message}`] = (errors[`socket: ${error.message}`] ?? 0) + 1;
    });
    ws.on('close', (code) => {
      closes[code] = (closes[code] ?? 0) + 1;
      clearTimeout(state.heartbeat);
      clearInterval(state.heartbeat);
      state.welcomed = false;
      settle(false);
    });
  });
}

async function connectAll(concurrency: number): Promise<void> {
  const handshakeMs: number[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < states.length; index = next++) {
      const state = states[index]!;
      const started = now();
      if (await open(state)) handshakeMs.push(now() - started);
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, states.length) }, worker));
  send({ type: 'connected', welcomed: handshakeMs.length, failed, handshakeMs });
}

async function sendSnapshots(): Promise<void> {
  const seenAt = new Date().toISOString();
  const welcomed = states.filter((state) => state.welcomed);
  unackedSnapshots = welcomed.length;
  const done = new Promise<void>((resolve) => {
    snapshotWaiter = resolve;
    if (unackedSnapshots === 0) resolve();
  });
  for (const state of welcomed) {
    transmit(
      state,
      {
        ...envelope('inventory-snapshot', state.version),
        snapshotId: randomUUID(),
        part: 1,
        parts: 1,
        cameras: state.agent.cameras.map((camera, index) => sighting(camera, index, seenAt)),
      },
      'snapshot',
    );
  }
  await done;
  send({ type: 'snapshot-done', acked: snapshotAckMs.length, ackMs: snapshotAckMs });
}

async function sendDeltas(request: Extract<SwarmRequest, { type: 'deltas' }>): Promise<void> {
  const welcomed = states.filter((state) => state.welcomed);
  let sent = 0;
  let deferred = 0;
  let turn = 0;
  deltaAckMs.length = 0;
  const started = performance.now();
  // One ticker for every agent: each tick sends what the offered rate says is due by now.
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.floor((Math.min(elapsed, request.durationMs) / 1000) * request.rate);
      while (sent + deferred < due && welcomed.length > 0) {
        const state = welcomed[turn % welcomed.length]!;
        turn += 1;
        if (state.unackedDeltas >= request.maxUnacked || !state.welcomed) {
          deferred += 1;
          continue;
        }
        const seenAt = new Date().toISOString();
        const upserts = [];
        for (let index = 0; index < request.upserts; index += 1) {
          const position = state.cursor % state.agent.cameras.length;
          state.cursor += 1;
          upserts.push(sighting(state.agent.cameras[position]!, position, seenAt));
        }
        state.unackedDeltas += 1;
        unackedDeltasTotal += 1;
        transmit(
          state,
          { ...envelope('inventory-delta', state.version), upserts, lost: [] },
          'delta',
        );
        sent += 1;
      }
      if (elapsed >= request.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, request.drainTimeoutMs);
    deltaWaiter = () => {
      clearTimeout(timer);
      resolve();
    };
    if (unackedDeltasTotal === 0) deltaWaiter();
  });
  deltaWaiter = null;
  send({
    type: 'deltas-done',
    sent,
    deferred,
    acked: deltaAckMs.length,
    ackMs: deltaAckMs,
    drainedAt: lastDeltaAckAt,
  });
}

const flushReceipts = setInterval(() => {
  if (receipts.length === 0) return;
  send({ type: 'commands', receipts });
  receipts = [];
}, 50);

async function handle(request: SwarmRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      gatewayUrl = request.gatewayUrl;
      commandKey = createPublicKey({
        key: Buffer.from(request.commandSigningKey, 'base64'),
        format: 'der',
        type: 'spki',
      });
      for (const agent of request.agents) {
        states.push({
          agent,
          key: createPrivateKey(agent.privateKeyPem),
          ws: null,
          welcomed: false,
          version: PROTOCOL_VERSION,
          heartbeat: undefined,
          pending: new Map(),
          unackedDeltas: 0,
          cursor: 0,
          onWelcome: null,
        });
      }
      send({ type: 'ready' });
      return;
    case 'connect':
      return connectAll(request.concurrency);
    case 'snapshot':
      return sendSnapshots();
    case 'deltas':
      return sendDeltas(request);
    case 'stats': {
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        open: states.filter((state) => state.ws?.readyState === WebSocket.OPEN).length,
        cpuMicros: cpu.user + cpu.system,
        rss: process.memoryUsage().rss,
        closes,
        errors,
      });
      return;
    }
    case 'close': {
      clearInterval(flushReceipts);
      const closing = states.map(
        (state) =>
          new Promise<void>((resolve) => {
            if (state.ws === null || state.ws.readyState === WebSocket.CLOSED) return resolve();
            state.ws.once('close', () => resolve());
            state.ws.close(1000, 'bench done');
          }),
      );
      await Promise.race([
        Promise.all(closing),
        new Promise((resolve) => setTimeout(resolve, 5_000)),
      ]);
      process.exit(0);
    }
  }
}

process.on('message', (request: SwarmRequest) => {
  handle(request).catch((error: unknown) => {
    send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
});
