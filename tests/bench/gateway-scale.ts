import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createDb, type DatabaseHandle } from '@custody/db';
import { queueCommand } from '../../apps/web/src/server/gateway/queue-command.ts';
import type { CommandReceipt, SwarmAgent, SwarmReply, SwarmRequest } from './agent-swarm.ts';
import {
  createBenchDatabase,
  describeServer,
  startBenchPostgres,
  type BenchDatabase,
} from './bench-database.ts';
import type { HostReply, HostRequest, HostStats } from './gateway-host.ts';
import { busyBetween, machineCpu, processCpuMicros, sampleMachineBusy } from './proc-cpu.ts';

/*
 * One gateway process holding thousands of agent connections on PostgreSQL: how long connecting
 * them takes, what each costs in memory, how many inventory sightings per second end up in
 * PostgreSQL, and how long a command takes from queueCommand to the agent's socket, idle and
 * under ingest. The gateway (gateway-host.ts) and the simulated agents (agent-swarm.ts) run in
 * child processes of their own; this process seeds the database, queues the commands, counts
 * what was persisted and reads the CPU time each side used.
 *
 * The physical limit for ingest is PostgreSQL itself: the same transaction per delta (message
 * record, camera upsert, address upsert, NOTIFY) issued directly on as many connections as the
 * gateway's pool has. The gateway adds WebSocket, JSON, validation and the ORM on top, and needs
 * CPU of its own on the same machine, so its ratio to that rate is its efficiency; the CPU time
 * per delta on each side shows where the rest went. The same upserts 1,000 sightings to a
 * statement are printed beside it, for what batching across messages could reach.
 */

const GATEWAY_APP = 'custody-bench-gateway';
const QUEUE_APP = 'custody-bench-queue';
/** createDb's default pool: what the web server runs with. */
const GATEWAY_POOL = 10;
/**
 * An agent with this many deltas unacknowledged skips its turn (its outbox backs up): past the
 * gateway's capacity the offered load then adapts instead of queueing without bound.
 */
const MAX_UNACKED_DELTAS = 2;
/** After the load, how long the agents wait for their last deltas to be acknowledged. */
const DRAIN_TIMEOUT_MS = 15_000;

export interface GatewayScaleOptions {
  agents: number;
  camerasPerAgent: number;
  workers: number;
  connectConcurrency: number;
  heartbeatSeconds: number;
  /** Deltas per second offered by all agents together. */
  deltaRate: number;
  upsertsPerDelta: number;
  deltaSeconds: number;
  /** Commands queued per second while measuring dispatch latency. */
  commandRate: number;
  idleSeconds: number;
  baselineSeconds: number;
  /** The gateway's durable messages applied at once; its default when absent. */
  ingestConcurrency?: number | undefined;
  /** Writes a V8 CPU profile of the gateway process into this directory. */
  gatewayProfileDir?: string | undefined;
}

interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

function hardFdLimit(): number {
  const result = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const text = result.stdout.trim();
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/**
 * Starts a TypeScript child with IPC and its soft descriptor limit raised (a socket each
 * connection): through `sh -c 'ulimit -n …; exec node …'`, which keeps the IPC channel open.
 */
function startChild(script: string, fds: number, nodeOptions: string[] = []): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${fds} && exec "$0" "$@"`,
      process.execPath,
      '--import',
      'tsx',
      ...nodeOptions,
      path,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
}

function next<T extends { type: string }>(
  child: ChildProcess,
  type: T['type'],
  name: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === 'error') {
        cleanup();
        reject(new Error(`${name} failed: ${message.message}`));
      } else if (message.type === type) {
        cleanup();
        resolve(message as T);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${name} exited with ${code}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, closeRequest: unknown): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    child.send(closeRequest as never);
  } catch {
    child.kill('SIGKILL');
  }
  await exited;
  clearTimeout(timer);
}

interface Seeded {
  agents: (SwarmAgent & { siteId: string })[];
}

/** Enrollment's end state written directly: an owner, a site per agent, agents with real keys. */
async function seed(url: string, options: GatewayScaleOptions): Promise<Seeded> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [owner] = await client<{ id: string }[]>`
      insert into organisations (name, kind) values ('Bench Owner', 'owner') returning id`;
    const sites = await client<{ id: string }[]>`
      insert into sites (owner_org_id, name)
      select ${owner!.id}, 'Site ' || g from generate_series(1, ${options.agents}) g
      returning id`;
    const keys = sites.map(() => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      return {
        publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
    });
    const rows = await client<{ id: string; site_id: string; public_key: string }[]>`
      insert into agents (site_id, name, public_key, version)
      select site_id, 'Agent ' || ordinality, public_key, '0.0.0-bench'
      from unnest(${sites.map((site) => site.id)}::uuid[], ${keys.map((key) => key.publicKey)}::text[])
        with ordinality as input(site_id, public_key, ordinality)
      returning id, site_id, public_key`;
    const byKey = new Map(rows.map((row) => [row.public_key, row]));
    return {
      agents: keys.map((key, index) => {
        const row = byKey.get(key.publicKey)!;
        return {
          agentId: row.id,
          siteId: row.site_id,
          privateKeyPem: key.privateKeyPem,
          cameras: Array.from({ length: options.camerasPerAgent }, (_, camera) => ({
            serial: `ACCC8E${(index * options.camerasPerAgent + camera).toString(16).toUpperCase().padStart(6, '0')}`,
            address: `10.${(index >> 8) & 255}.${index & 255}.${camera + 10}`,
          })),
        };
      }),
    };
  } finally {
    await client.end();
  }
}

interface Swarm {
  children: ChildProcess[];
  /** Sends to every worker and waits for each one's reply of `type`. */
  all<T extends SwarmReply>(
    request: SwarmRequest | ((index: number) => SwarmRequest),
    type: T['type'],
  ): Promise<T[]>;
  receipts: Map<string, CommandReceipt>;
}

function startSwarm(workers: number, agentsPerWorker: number): Swarm {
  const children = Array.from({ length: workers }, () =>
    startChild('./agent-swarm.ts', agentsPerWorker + 256),
  );
  const receipts = new Map<string, CommandReceipt>();
  for (const child of children) {
    child.on('message', (message: SwarmReply) => {
      if (message.type !== 'commands') return;
      for (const receipt of message.receipts) receipts.set(receipt.commandId, receipt);
    });
  }
  return {
    children,
    receipts,
    all: <T extends SwarmReply>(
      request: SwarmRequest | ((index: number) => SwarmRequest),
      type: T['type'],
    ) =>
      Promise.all(
        children.map((child, index) => {
          const reply = next<T>(child, type, `agent swarm ${index + 1}`);
          child.send(typeof request === 'function' ? request(index) : request);
          return reply;
        }),
      ),
  };
}

function hostStats(host: ChildProcess): Promise<HostStats> {
  const reply = next<HostStats>(host, 'stats', 'gateway host');
  host.send({ type: 'stats' } satisfies HostRequest);
  return reply;
}

interface CommandRun {
  queued: number;
  received: number;
  verified: number;
  /** queueCommand called → command frame at the agent, ms. */
  latency: Percentiles;
  /** queueCommand called → it resolved (committed), ms. */
  queueCall: Percentiles;
  failed: number;
}

/**
 * Queues `rate` probe commands per second for `seconds`, each to a random agent, without waiting
 * for the previous one (a fixed schedule, so a slow dispatch cannot hold the next one back), then
 * waits for the agents to report them.
 */
async function runCommands(
  handle: DatabaseHandle,
  agents: readonly (SwarmAgent & { siteId: string })[],
  swarm: Swarm,
  rate: number,
  seconds: number,
): Promise<CommandRun> {
  const issued = new Map<string, { start: number; committed: number }>();
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let index = 0; index < total; index += 1) {
    const dueAt = started + (index * 1000) / rate;
    const wait = dueAt - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const agent = agents[Math.floor(Math.random() * agents.length)]!;
    const start = performance.timeOrigin + performance.now();
    inFlight.push(
      queueCommand(handle.db, {
        agentId: agent.agentId,
        serial: agent.cameras[0]!.serial,
        verb: 'probe',
        params: {},
        requestedBy: null,
      }).then(
        ({ commandId }) => {
          issued.set(commandId, { start, committed: performance.timeOrigin + performance.now() });
        },
        () => {
          failed += 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 15_000;
  const arrived = () => [...issued.keys()].filter((id) => swarm.receipts.has(id)).length;
  while (arrived() < issued.size && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const latencies: number[] = [];
  let verified = 0;
  for (const [commandId, times] of issued) {
    const receipt = swarm.receipts.get(commandId);
    if (receipt === undefined) continue;
    latencies.push(receipt.at - times.start);
    if (receipt.verified) verified += 1;
  }
  return {
    queued: issued.size,
    received: latencies.length,
    verified,
    latency: percentiles(latencies),
    queueCall: percentiles([...issued.values()].map((times) => times.committed - times.start)),
    failed,
  };
}

/** The gateway pool's backends, by pid, with their CPU time so far. */
async function gatewayBackends(
  client: postgres.Sql,
  database: string,
): Promise<Map<number, number>> {
  const rows = await client<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = ${database} and application_name = ${GATEWAY_APP}`;
  return new Map(rows.map((row) => [row.pid, processCpuMicros(row.pid)]));
}

function backendCpuSince(before: Map<number, number>): number {
  let micros = 0;
  for (const [pid, cpu] of before) {
    const now = processCpuMicros(pid);
    if (now >= cpu) micros += now - cpu;
  }
  return micros;
}

interface Baseline {
  perMessageSightingsPerSecond: number;
  batchedSightingsPerSecond: number;
}

/**
 * The rate PostgreSQL alone sustains for ingest's transaction shape, on as many connections as
 * the gateway's pool: no WebSocket, no JSON, no validation, no ORM. Then the same upserts 1,000
 * sightings to a statement, for what batching across messages could reach.
 */
async function measureBaseline(
  url: string,
  agents: readonly (SwarmAgent & { siteId: string })[],
  options: GatewayScaleOptions,
): Promise<Baseline> {
  const client = postgres(url, { max: GATEWAY_POOL, onnotice: () => {} });
  const upsert = (
    sql: postgres.Sql | postgres.TransactionSql,
    agentId: string,
    siteId: string,
    cameras: readonly { serial: string; address: string }[],
  ) => {
    const seen = new Date();
    const serials = cameras.map((camera) => camera.serial);
    const addresses = cameras.map((camera) => camera.address);
    const urls = addresses.map((address) => `http://${address}/`);
    return sql`
      insert into cameras (serial, site_id, model, product_name, firmware, hardware_id, mac, address, url,
        source, access_state, agent_id, first_seen_at, last_seen_at, lost_at)
      select serial, ${siteId}, 'M3086-V', 'AXIS M3086-V Dome Camera', '11.11.73', '9A1.1', null, address, url,
        'scan', 'authenticated', ${agentId}, ${seen}, ${seen}, null
      from unnest(${serials}::text[], ${addresses}::text[], ${urls}::text[]) as input(serial, address, url)
      on conflict (serial) do update set
        model = coalesce(excluded.model, cameras.model),
        product_name = coalesce(excluded.product_name, cameras.product_name),
        firmware = coalesce(excluded.firmware, cameras.firmware),
        hardware_id = coalesce(excluded.hardware_id, cameras.hardware_id),
        mac = coalesce(excluded.mac, cameras.mac),
        access_state = coalesce(excluded.access_state, cameras.access_state),
        address = excluded.address, url = excluded.url, source = excluded.source,
        agent_id = excluded.agent_id, last_seen_at = excluded.last_seen_at, lost_at = null
      where cameras.site_id = excluded.site_id and cameras.last_seen_at <= excluded.last_seen_at
      returning serial`;
  };
  const addresses = (
    sql: postgres.Sql | postgres.TransactionSql,
    cameras: readonly { serial: string; address: string }[],
  ) => {
    const seen = new Date();
    return sql`
      insert into camera_addresses (serial, address, source, first_seen_at, last_seen_at)
      select serial, address, 'scan', ${seen}, ${seen}
      from unnest(${cameras.map((camera) => camera.serial)}::text[], ${cameras.map((camera) => camera.address)}::text[])
        as input(serial, address)
      on conflict (serial, address) do update set
        source = excluded.source,
        last_seen_at = greatest(camera_addresses.last_seen_at, excluded.last_seen_at)`;
  };
  try {
    let transactions = 0;
    const deadline = performance.now() + options.baselineSeconds * 1000;
    const started = performance.now();
    const worker = async (offset: number) => {
      for (let turn = offset; performance.now() < deadline; turn += GATEWAY_POOL) {
        const agent = agents[turn % agents.length]!;
        const start = (turn * options.upsertsPerDelta) % agent.cameras.length;
        const cameras = Array.from(
          { length: options.upsertsPerDelta },
          (_, index) => agent.cameras[(start + index) % agent.cameras.length]!,
        );
        await client.begin(async (tx) => {
          await tx`
            insert into agent_messages (agent_id, message_id, type)
            values (${agent.agentId}, ${randomUUID()}, 'inventory-delta')
            on conflict do nothing returning message_id`;
          await upsert(tx, agent.agentId, agent.siteId, cameras);
          await addresses(tx, cameras);
          await tx`select pg_notify('custody_fleet', ${JSON.stringify({ event: 'inventory', siteId: agent.siteId, agentId: agent.agentId })})`;
        });
        transactions += 1;
      }
    };
    await Promise.all(Array.from({ length: GATEWAY_POOL }, (_, index) => worker(index)));
    const perMessage =
      (transactions * options.upsertsPerDelta) / ((performance.now() - started) / 1000);

    // 1,000 sightings a statement, from agents of the same size: one site per statement part.
    let sightings = 0;
    const batchDeadline = performance.now() + options.baselineSeconds * 1000;
    const batchStarted = performance.now();
    const perBatch = Math.max(1, Math.floor(1_000 / options.camerasPerAgent));
    for (let turn = 0; performance.now() < batchDeadline; turn += perBatch) {
      const group = Array.from(
        { length: perBatch },
        (_, index) => agents[(turn + index) % agents.length]!,
      );
      await client.begin(async (tx) => {
        for (const agent of group) await upsert(tx, agent.agentId, agent.siteId, agent.cameras);
        await addresses(
          tx,
          group.flatMap((agent) => agent.cameras),
        );
      });
      sightings += group.length * options.camerasPerAgent;
    }
    return {
      perMessageSightingsPerSecond: perMessage,
      batchedSightingsPerSecond: sightings / ((performance.now() - batchStarted) / 1000),
    };
  } finally {
    await client.end();
  }
}

export interface GatewayScaleFigures {
  options: GatewayScaleOptions;
  server: string;
  /** Busy fraction of the machine just before the run: other work sharing its cores. */
  machineBusyBefore: number;
  connect: { welcomed: number; failed: number; seconds: number; handshake: Percentiles };
  memory: {
    before: HostStats;
    connected: HostStats;
    afterIngest: HostStats;
  };
  snapshot: { cameras: number; seconds: number; ack: Percentiles };
  idleCommands: CommandRun;
  loadCommands: CommandRun;
  /** Commands sent more than once: their first sending was not acknowledged in time. */
  resentCommands: number;
  ingest: {
    sent: number;
    deferred: number;
    /** Deltas committed while the load was offered. */
    committed: number;
    /** …and by the end of the drain. */
    committedInAll: number;
    seconds: number;
    ack: Percentiles;
    conflicts: number;
  };
  cpu: {
    gatewayMs: number;
    postgresMs: number;
    agentsMs: number;
    machineBusy: number;
    wallMs: number;
  };
  loopDelayIngest: HostStats['loopDelay'];
  closeMs: number;
  agentCloses: Record<string, number>;
  agentErrors: Record<string, number>;
  baseline: Baseline;
}

export async function runGatewayScale(options: GatewayScaleOptions): Promise<GatewayScaleFigures> {
  const agentsPerWorker = Math.ceil(options.agents / options.workers);
  const hardLimit = hardFdLimit();
  if (hardLimit < options.agents + 256) {
    throw new Error(
      `The hard limit on open files is ${hardLimit}; ${options.agents} connections need about ${options.agents + 256}. Raise it (ulimit -Hn, /etc/security/limits.conf) or pass fewer --agents.`,
    );
  }
  const machineBusyBefore = await sampleMachineBusy();
  const pg = await startBenchPostgres();
  let database: BenchDatabase | undefined;
  let host: ChildProcess | undefined;
  let swarm: Swarm | undefined;
  let queueHandle: DatabaseHandle | undefined;
  let monitor: postgres.Sql | undefined;
  try {
    const server = `${await describeServer(pg.url)} (${pg.origin})`;
    database = await createBenchDatabase(pg.url, 'bench_gateway');
    const { agents } = await seed(database.url, options);
    monitor = postgres(database.url, { max: 1, onnotice: () => {} });

    host = startChild(
      './gateway-host.ts',
      options.agents + 256,
      options.gatewayProfileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.gatewayProfileDir}`],
    );
    const hostReady = next<Extract<HostReply, { type: 'ready' }>>(host, 'ready', 'gateway host');
    const gatewayUrl = new URL(database.url);
    gatewayUrl.searchParams.set('application_name', GATEWAY_APP);
    host.send({
      type: 'start',
      databaseUrl: gatewayUrl.toString(),
      heartbeatIntervalMs: options.heartbeatSeconds * 1000,
      ingestConcurrency: options.ingestConcurrency,
    } satisfies HostRequest);
    const { gatewayUrl: wsUrl, commandSigningKey } = await hostReady;

    swarm = startSwarm(options.workers, agentsPerWorker);
    await swarm.all(
      (index) => ({
        type: 'start',
        gatewayUrl: wsUrl,
        commandSigningKey,
        agents: agents
          .slice(index * agentsPerWorker, (index + 1) * agentsPerWorker)
          .map(({ agentId, privateKeyPem, cameras }) => ({ agentId, privateKeyPem, cameras })),
      }),
      'ready',
    );
    const queueUrl = new URL(database.url);
    queueUrl.searchParams.set('application_name', QUEUE_APP);
    queueHandle = await createDb({ url: queueUrl.toString(), maxConnections: 4 });

    const before = await hostStats(host);
    const connectStarted = performance.now();
    const connected = await swarm.all<Extract<SwarmReply, { type: 'connected' }>>(
      { type: 'connect', concurrency: Math.ceil(options.connectConcurrency / options.workers) },
      'connected',
    );
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const afterConnect = await hostStats(host);

    const snapshotStarted = performance.now();
    const snapshots = await swarm.all<Extract<SwarmReply, { type: 'snapshot-done' }>>(
      { type: 'snapshot' },
      'snapshot-done',
    );
    const snapshotSeconds = (performance.now() - snapshotStarted) / 1000;
    const [cameraCount] = await monitor<
      { count: number }[]
    >`select count(*)::int as count from cameras`;

    const idleCommands = await runCommands(
      queueHandle,
      agents,
      swarm,
      options.commandRate,
      options.idleSeconds,
    );

    await hostStats(host); // resets the event-loop histogram for the ingest window
    const [deltasBefore] = await monitor<{ count: number }[]>`
      select count(*)::int as count from agent_messages where type = 'inventory-delta'`;
    const backends = await gatewayBackends(monitor, database.name);
    const workerCpuBefore = swarm.children.map((child) => processCpuMicros(child.pid ?? 0));
    const hostCpuBefore = processCpuMicros(host.pid ?? 0);
    const machineBefore = machineCpu();
    const ingestStarted = performance.now();
    const countDeltas = async () => {
      const [row] = await monitor!<{ count: number }[]>`
        select count(*)::int as count from agent_messages where type = 'inventory-delta'`;
      return (row?.count ?? 0) - (deltasBefore?.count ?? 0);
    };
    // What was committed while the load was offered, and the CPU it took, read as it ends.
    const window = (async () => {
      await sleep(options.deltaSeconds * 1000);
      const committed = await countDeltas();
      const wallMs = performance.now() - ingestStarted;
      const machineAfter = machineCpu();
      return {
        committed,
        cpu: {
          gatewayMs: (processCpuMicros(host.pid ?? 0) - hostCpuBefore) / 1000,
          postgresMs: backendCpuSince(backends) / 1000,
          agentsMs:
            swarm.children.reduce(
              (sum, child, index) =>
                sum + processCpuMicros(child.pid ?? 0) - workerCpuBefore[index]!,
              0,
            ) / 1000,
          machineBusy: busyBetween(machineBefore, machineAfter),
          wallMs,
        },
      };
    })();
    const deltaRun = swarm.all<Extract<SwarmReply, { type: 'deltas-done' }>>(
      {
        type: 'deltas',
        rate: options.deltaRate / options.workers,
        upserts: options.upsertsPerDelta,
        durationMs: options.deltaSeconds * 1000,
        maxUnacked: MAX_UNACKED_DELTAS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      },
      'deltas-done',
    );
    const loadCommands = await runCommands(
      queueHandle,
      agents,
      swarm,
      options.commandRate,
      options.deltaSeconds,
    );
    const { committed, cpu } = await window;
    const deltas = await deltaRun;
    const afterIngest = await hostStats(host);
    const committedInAll = await countDeltas();
    const [resent] = await monitor<{ count: number }[]>`
      select count(*)::int as count from commands where dispatch_count > 1`;
    const [conflicts] = await monitor<{ count: number }[]>`
      select count(*)::int as count from camera_site_conflicts`;
    const agentStats = await swarm.all<Extract<SwarmReply, { type: 'stats' }>>(
      { type: 'stats' },
      'stats',
    );

    const hostClosed = next<Extract<HostReply, { type: 'closed' }>>(host, 'closed', 'gateway host');
    host.send({ type: 'close' } satisfies HostRequest);
    const { closeMs } = await hostClosed;
    await Promise.all(swarm.children.map((child) => stopChild(child, { type: 'close' })));
    await monitor.end();
    monitor = undefined;
    await queueHandle.close();
    queueHandle = undefined;

    const baseline = await measureBaseline(database.url, agents, options);

    const merge = (records: Record<string, number>[]) => {
      const merged: Record<string, number> = {};
      for (const record of records)
        for (const [key, value] of Object.entries(record)) merged[key] = (merged[key] ?? 0) + value;
      return merged;
    };
    return {
      options,
      server,
      machineBusyBefore,
      connect: {
        welcomed: connected.reduce((sum, reply) => sum + reply.welcomed, 0),
        failed: connected.reduce((sum, reply) => sum + reply.failed, 0),
        seconds: connectSeconds,
        handshake: percentiles(connected.flatMap((reply) => reply.handshakeMs)),
      },
      memory: { before, connected: afterConnect, afterIngest },
      snapshot: {
        cameras: cameraCount?.count ?? 0,
        seconds: snapshotSeconds,
        ack: percentiles(snapshots.flatMap((reply) => reply.ackMs)),
      },
      idleCommands,
      loadCommands,
      resentCommands: resent?.count ?? 0,
      ingest: {
        sent: deltas.reduce((sum, reply) => sum + reply.sent, 0),
        deferred: deltas.reduce((sum, reply) => sum + reply.deferred, 0),
        committed,
        committedInAll,
        seconds: cpu.wallMs / 1000,
        ack: percentiles(deltas.flatMap((reply) => reply.ackMs)),
        conflicts: conflicts?.count ?? 0,
      },
      cpu,
      loopDelayIngest: afterIngest.loopDelay,
      closeMs,
      agentCloses: merge(agentStats.map((stats) => stats.closes)),
      agentErrors: merge(agentStats.map((stats) => stats.errors)),
      baseline,
    };
  } finally {
    await monitor?.end();
    await queueHandle?.close();
    if (host !== undefined) await stopChild(host, { type: 'close' });
    for (const child of swarm?.children ?? []) await stopChild(child, { type: 'close' });
    await database?.drop();
    await pg.stop();
  }
}

const MiB = 2 ** 20;
const number = (value: number, digits = 0) =>
  value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value: number) => `${number(value, value < 10 ? 1 : 0)} ms`;
const spread = (p: Percentiles) => `p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)}`;

export function formatFigures(figures: GatewayScaleFigures): string {
  const { options, connect, memory, snapshot, ingest, cpu, baseline } = figures;
  const perConnection = (memory.connected.rss - memory.before.rss) / Math.max(1, connect.welcomed);
  const sightingsPerSecond = (ingest.committed * options.upsertsPerDelta) / ingest.seconds;
  const cores = (cpuMs: number) => `${number(cpuMs / cpu.wallMs, 2)} cores`;
  const perDelta = (cpuMs: number) =>
    `${number((cpuMs * 1000) / Math.max(1, ingest.committed))} µs/delta`;
  const commands = (run: CommandRun) =>
    `${run.received}/${run.queued} received (${run.verified} signatures verified${run.failed > 0 ? `, ${run.failed} failed to queue` : ''}): queue → agent ${spread(run.latency)}; queueCommand itself p50 ${ms(run.queueCall.p50)}, p99 ${ms(run.queueCall.p99)}`;
  const list = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([key, value]) => `${key} ×${value}`)
      .join('; ') || 'none';
  return [
    `gateway scale: ${number(options.agents)} simulated agents in ${options.workers} processes, ${options.camerasPerAgent} cameras each, heartbeat ${options.heartbeatSeconds} s`,
    `  database           ${figures.server}`,
    `  machine            ${availableParallelism()} cores, ${number(figures.machineBusyBefore * 100)}% busy with other work just before the run`,
    `  connections held   ${number(memory.connected.connected)} of ${number(options.agents)} (${connect.failed} failed), all connected in ${number(connect.seconds, 1)} s (${number(connect.welcomed / connect.seconds)}/s, ${options.connectConcurrency} handshakes in flight)`,
    `  handshake          challenge → welcome ${spread(connect.handshake)}`,
    `  server memory      idle ${number(memory.before.rss / MiB)} MiB RSS; ${number(memory.connected.rss / MiB)} MiB with every agent connected (${number(perConnection / 1024, 1)} KiB per connection), heap ${number(memory.connected.heapUsed / MiB)} MiB used`,
    `                     after ingest ${number(memory.afterIngest.rss / MiB)} MiB RSS, heap ${number(memory.afterIngest.heapUsed / MiB)} MiB used of ${number(memory.afterIngest.heapTotal / MiB)}, peak RSS ${number(memory.afterIngest.maxRss / MiB)} MiB`,
    `  snapshot           ${number(snapshot.cameras)} cameras in PostgreSQL after one snapshot per agent, in ${number(snapshot.seconds, 1)} s (${number(snapshot.cameras / snapshot.seconds)} cameras/s); sent → acked ${spread(snapshot.ack)}`,
    `  commands, idle     ${commands(figures.idleCommands)}`,
    `  ingest             offered ${number(options.deltaRate)} deltas/s × ${options.upsertsPerDelta} sightings for ${options.deltaSeconds} s: ${number(ingest.sent)} sent, ${number(ingest.deferred)} deferred (agent had ${MAX_UNACKED_DELTAS} unacknowledged)`,
    `  persisted          ${number(ingest.committed)} deltas committed in PostgreSQL (agent_messages rows) during those ${number(ingest.seconds, 1)} s: ${number(ingest.committed / ingest.seconds)} deltas/s, ${number(sightingsPerSecond)} sightings/s (${ingest.conflicts} conflicts); ${number(ingest.committedInAll)} once drained`,
    `                     sent → acked (committed) ${spread(ingest.ack)}${ingest.ack.count < ingest.sent ? `; ${number(ingest.sent - ingest.ack.count)} still unacknowledged after a ${DRAIN_TIMEOUT_MS / 1000} s drain` : ''}`,
    `  commands, ingest   ${commands(figures.loadCommands)}`,
    `                     ${figures.resentCommands} of all commands were sent more than once (first sending unacknowledged for the retry interval)`,
    `  CPU during ingest  gateway ${cores(cpu.gatewayMs)} (${perDelta(cpu.gatewayMs)}), its PostgreSQL backends ${cores(cpu.postgresMs)} (${perDelta(cpu.postgresMs)}), simulated agents ${cores(cpu.agentsMs)}; machine ${number(cpu.machineBusy * 100)}% busy (all work on it)`,
    `  gateway loop delay during ingest p50 ${ms(figures.loopDelayIngest.p50)}, p99 ${ms(figures.loopDelayIngest.p99)}, max ${ms(figures.loopDelayIngest.max)}`,
    `  physical limit     PostgreSQL alone, ingest's transaction per delta on ${GATEWAY_POOL} connections: ${number(baseline.perMessageSightingsPerSecond)} sightings/s`,
    `  ratio to limit     ${number(sightingsPerSecond / baseline.perMessageSightingsPerSecond, 2)} (gateway sightings/s ÷ PostgreSQL alone)${sightingsPerSecond < options.deltaRate * options.upsertsPerDelta * 0.98 ? '' : '; the offered load was absorbed, raise --delta-rate to find the ceiling'}`,
    `  batched, for scale PostgreSQL alone, 1,000 sightings a statement: ${number(baseline.batchedSightingsPerSecond)} sightings/s`,
    `  shutdown           gateway.close() with every agent connected: ${number(figures.closeMs / 1000, 1)} s`,
    `  agents saw         closes: ${list(figures.agentCloses)}; errors: ${list(figures.agentErrors)}`,
    `  gateway logged     ${list(figures.memory.afterIngest.logged)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '5000' },
      cameras: { type: 'string', default: '20' },
      workers: { type: 'string', default: '2' },
      'connect-concurrency': { type: 'string', default: '200' },
      heartbeat: { type: 'string', default: '30' },
      'delta-rate': { type: 'string', default: '1000' },
      upserts: { type: 'string', default: '5' },
      'delta-seconds': { type: 'string', default: '15' },
      'command-rate': { type: 'string', default: '20' },
      'idle-seconds': { type: 'string', default: '5' },
      'baseline-seconds': { type: 'string', default: '3' },
      'ingest-concurrency': { type: 'string' },
      'gateway-cpu-prof-dir': { type: 'string' },
    },
  });
  const figures = await runGatewayScale({
    agents: Number(values.agents),
    camerasPerAgent: Number(values.cameras),
    workers: Number(values.workers),
    connectConcurrency: Number(values['connect-concurrency']),
    heartbeatSeconds: Number(values.heartbeat),
    deltaRate: Number(values['delta-rate']),
    upsertsPerDelta: Number(values.upserts),
    deltaSeconds: Number(values['delta-seconds']),
    commandRate: Number(values['command-rate']),
    idleSeconds: Number(values['idle-seconds']),
    baselineSeconds: Number(values['baseline-seconds']),
    ingestConcurrency:
      values['ingest-concurrency'] === undefined ? undefined : Number(values['ingest-concurrency']),
    gatewayProfileDir: values['gateway-cpu-prof-dir'],
  });
  console.log(formatFigures(figures));
}
