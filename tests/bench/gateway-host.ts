import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createDb } from '@custody/db';
import {
  loadCommandSigningKey,
  startAgentGateway,
  type GatewayLogger,
} from '../../apps/web/src/server/gateway/index.ts';

/*
 * The real agent gateway in a process of its own, wired as apps/web/server.ts wires it: one HTTP
 * server whose upgrade of /agent/v1 the gateway takes, a PostgreSQL pool of createDb's default
 * size, the production heartbeat interval unless told otherwise. Alone in its process, its CPU
 * time and memory are its own.
 *
 * IPC: `{ type: 'start', databaseUrl, heartbeatIntervalMs }` → `{ type: 'ready', gatewayUrl,
 * commandSigningKey }`; `{ type: 'stats' }` → `{ type: 'stats', ... }` (the event-loop delay is
 * over the time since the previous stats); `{ type: 'close' }` → `{ type: 'closed', closeMs }`,
 * then the process exits.
 */

export type HostRequest =
  | {
      type: 'start';
      databaseUrl: string;
      heartbeatIntervalMs: number;
      /** The gateway's own default when absent. */
      ingestConcurrency?: number | undefined;
    }
  | { type: 'stats' }
  | { type: 'close' };

export interface HostStats {
  type: 'stats';
  connected: number;
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  maxRss: number;
  /** Event-loop delay since the previous stats, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** What the gateway logged at warn and error level, by message. */
  logged: Record<string, number>;
}

export type HostReply =
  | { type: 'ready'; gatewayUrl: string; commandSigningKey: string }
  | HostStats
  | { type: 'closed'; closeMs: number }
  | { type: 'error'; message: string };

function send(message: HostReply): void {
  process.send?.(message);
}

const logged: Record<string, number> = {};
const countingLogger: GatewayLogger = {
  info: () => undefined,
  warn: (message) => {
    logged[`warn: ${message}`] = (logged[`warn: ${message}`] ?? 0) + 1;
  },
  error: (message, fields) => {
    const cause = typeof fields?.error === 'string' ? fields.error : '';
    const key = `error: ${message} ${cause}`.trim();
    logged[key] = (logged[key] ?? 0) + 1;
  },
};

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let stop: (() => Promise<void>) | null = null;
let connectedAgents: () => number = () => 0;

async function start(request: Extract<HostRequest, { type: 'start' }>): Promise<void> {
  const keyDir = await mkdtemp(join(tmpdir(), 'custody-bench-key-'));
  const database = await createDb({ url: request.databaseUrl });
  // Written here rather than created by the loader, which warns (rightly) about a new key.
  const keyFile = join(keyDir, 'command-signing-key.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const signer = await loadCommandSigningKey(keyFile, countingLogger);
  const gateway = await startAgentGateway({
    database,
    signer,
    heartbeatIntervalMs: request.heartbeatIntervalMs,
    ingestConcurrency: request.ingestConcurrency,
    log: countingLogger,
  });
  const server = createServer((req, res) => {
    if (gateway.handleRequest(req, res)) return;
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  );
  const { port } = server.address() as AddressInfo;
  connectedAgents = () => gateway.connectedAgents().length;
  stop = async () => {
    await gateway.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
    await rm(keyDir, { recursive: true, force: true });
  };
  send({
    type: 'ready',
    gatewayUrl: `ws://127.0.0.1:${port}/agent/v1`,
    commandSigningKey: gateway.commandSigningKey,
  });
}

async function handle(request: HostRequest): Promise<void> {
  if (request.type === 'start') return start(request);
  if (request.type === 'stats') {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    send({
      type: 'stats',
      connected: connectedAgents(),
      cpuMicros: cpu.user + cpu.system,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      maxRss: process.resourceUsage().maxRSS * 1024,
      loopDelay: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
      logged,
    });
    loopDelay.reset();
    return;
  }
  const started = performance.now();
  await stop?.();
  send({ type: 'closed', closeMs: performance.now() - started });
  process.exit(0);
}

process.on('message', (request: HostRequest) => {
  handle(request).catch((error: unknown) => {
    send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
});
