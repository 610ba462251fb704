import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { generateDevicePassword, type CredentialAccount } from '@custody/core';
import { createDb, rowsOf, schema, type DatabaseHandle } from '@custody/db';
import type { AnswerFault, FirmwareId } from '@custody/simulator';
import { buildAgentBundle } from '../../apps/agent/build.ts';
import { commandResultMessageId } from '../../apps/agent/src/link/agent-message.ts';
import {
  activateCredentialVersion,
  readActiveCredential,
  storeCredentialVersion,
} from '../../apps/web/src/server/services/vault/credential-store.ts';
import {
  createMasterKeyRing,
  generateMasterKey,
} from '../../apps/web/src/server/services/vault/master-keys.ts';
import { createVault, type Vault } from '../../apps/web/src/server/services/vault/vault.ts';
import { seedWorld, type World } from '../../apps/web/src/server/test-support/world.ts';
import { enrollAgentProcess, type AgentProcess } from '../integration/support/agent-process.ts';
import {
  createRotationInvariant,
  watchInvariant,
  type DeviceFingerprintReader,
} from '../integration/support/rotation-invariant.ts';
import {
  startRotationServer,
  type RotationServer,
} from '../integration/support/rotation-server.ts';
import {
  createBenchDatabase,
  describeServer,
  startBenchPostgres,
  type BenchDatabase,
  type BenchPostgres,
} from './bench-database.ts';
import { busyBetween, machineCpu, processCpuMicros, sampleMachineBusy } from './proc-cpu.ts';
import {
  measurePhysicalLimit,
  type PhysicalCamera,
  type PhysicalWave,
} from './rotation-physical-limit.ts';
import type { SimHostCamera, SimHostReply, SimHostRequest } from './rotation-sim-host.ts';

/*
 * Bulk rotation of the admin password of 1,000 simulated cameras (20 ms a request) spread over
 * 10 sites, each with its own agent: the real gateway and rotation engine in this process on
 * PostgreSQL (or PGlite), the real agent bundle in a process per site, the cameras in a process
 * of their own.
 *
 * 1. A clean run: wall time from the job's creation to its completion, and where the time went
 *    (command queued → sent → acknowledged → result; the gap between waves).
 * 2. The physical limit: the agent's own rotate-credential verb run straight against the same
 *    cameras, with the same concurrency per agent and the same waves (a wave starts once the
 *    previous one finished), without Custody. Target: Custody's wall time ≤ 1.3 × that.
 * 3. A run with faults on 10 % of the cameras (the change carried out and the answer dropped,
 *    power lost instead of answering, off when their turn comes) and one agent killed with
 *    SIGKILL mid-wave and restarted. The vault is compared with what every camera really holds
 *    all along; printed: cameras ever left without their working password in the vault (target
 *    0), and how many needed a retry.
 *
 *   pnpm --filter @custody/tests exec tsx bench/rotation.ts [--agents 10] [--cameras 100]
 *     [--latency-ms 20] [--canary 5] [--wave 50] [--max-commands 4] [--fault-rate 0.1]
 *     [--recheck-s 5] [--pglite] [--no-faults] [--verbose]
 *   (PostgreSQL: CUSTODY_BENCH_DATABASE_URL or DATABASE_URL, else a throwaway local cluster)
 */

const TARGET_RATIO = 1.3;
const INITIAL_PASSWORD = 'Bench-Initial-Root-Kestrel-2207';
const FIRMWARES: FirmwareId[] = ['10.12', '11.11', '12.x'];
const PWDGRP = '/axis-cgi/pwdgrp.cgi';
const ACCOUNT: CredentialAccount = 'admin';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '10' },
    cameras: { type: 'string', default: '100' },
    'latency-ms': { type: 'string', default: '20' },
    canary: { type: 'string', default: '5' },
    wave: { type: 'string', default: '50' },
    'max-commands': { type: 'string', default: '4' },
    'fault-rate': { type: 'string', default: '0.1' },
    'time-scale': { type: 'string', default: '10' },
    /** The engine's first wait before testing an unknown outcome again (production: 30 s). */
    'recheck-s': { type: 'string', default: '5' },
    pglite: { type: 'boolean', default: false },
    'no-faults': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const agentCount = Number(values.agents);
const camerasPerAgent = Number(values.cameras);
const latencyMs = Number(values['latency-ms']);
const canarySize = Number(values.canary);
const waveSize = Number(values.wave);
const maxCommands = Number(values['max-commands']);
const faultRate = Number(values['fault-rate']);
const timeScale = Number(values['time-scale']);
const total = agentCount * camerasPerAgent;

const number = (value: number, digits = 0) =>
  value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const seconds = (ms: number) => `${number(ms / 1000, 2)} s`;

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? NaN;
}
const spread = (values: readonly number[]) =>
  values.length === 0
    ? 'n/a'
    : `p50 ${number(percentile(values, 0.5))} ms, p90 ${number(percentile(values, 0.9))} ms, max ${number(Math.max(...values))} ms`;

// The simulator host

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface SimHost {
  child: ChildProcess;
  /** Sends a request (numbered here) and resolves with its reply of `type`. */
  request<T extends SimHostReply>(request: WithoutId<SimHostRequest>, type: T['type']): Promise<T>;
  devices: DeviceFingerprintReader;
}

function startSimHost(): SimHost {
  const child = fork(fileURLToPath(new URL('./rotation-sim-host.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const request = <T extends SimHostReply>(
    unnumbered: WithoutId<SimHostRequest>,
    type: T['type'],
  ) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const message = { ...unnumbered, id } as SimHostRequest;
      const onMessage = (reply: SimHostReply) => {
        if (reply.type === 'error') {
          cleanup();
          reject(new Error(`simulator host: ${reply.message}`));
        } else if (reply.type === type && (!('id' in reply) || reply.id === id)) {
          cleanup();
          resolve(reply as T);
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`simulator host exited with ${code}`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(message);
    });
  return {
    child,
    request,
    devices: async (accounts) => {
      const reply = await request<Extract<SimHostReply, { type: 'fingerprints' }>>(
        { type: 'fingerprints', accounts: [...accounts] },
        'fingerprints',
      );
      return new Map(reply.entries);
    },
  };
}

// Seeding

async function seedSites(db: DatabaseHandle['db'], world: World, count: number) {
  const rows = await db
    .insert(schema.sites)
    .values(
      Array.from({ length: count }, (_, index) => ({
        ownerOrgId: world.orgs.owner.id,
        name: `Bench site ${String(index + 1).padStart(2, '0')}`,
      })),
    )
    .returning();
  await db.insert(schema.siteGrants).values(
    rows.map((site) => ({
      siteId: site.id,
      integratorOrgId: world.orgs.integrator.id,
      grantedBy: world.people.ownerApprover.id,
    })),
  );
  return rows;
}

/** Documents each camera's admin password as its active vault version, a few at a time. */
async function vaultPasswords(
  db: DatabaseHandle['db'],
  vault: Vault,
  world: World,
  passwords: ReadonlyMap<string, string>,
): Promise<void> {
  const entries = [...passwords.entries()];
  const workers = Array.from({ length: 8 }, async (_, worker) => {
    for (let index = worker; index < entries.length; index += 8) {
      const [serial, password] = entries[index]!;
      const stored = await storeCredentialVersion(db, vault, {
        serial,
        account: ACCOUNT,
        username: 'root',
        password,
        createdBy: world.people.integratorAdmin.id,
      });
      await activateCredentialVersion(db, stored.id);
    }
  });
  await Promise.all(workers);
}

// Running a job

interface Settled {
  wallMs: number;
  status: string;
  items: (typeof schema.rotationItems.$inferSelect)[];
}

/** Throws when an agent exited without being told to: the run would only wait on it. */
function checkAgents(agents: readonly AgentProcess[]): void {
  for (const [index, agent] of agents.entries()) {
    if (agent.unexpectedExits.length > 0) {
      throw new Error(
        `agent ${index + 1} exited on its own (${agent.unexpectedExits.join(', ')}); its log ends:\n${agent.log().slice(-2_000)}`,
      );
    }
  }
}

async function waitSettled(
  db: DatabaseHandle['db'],
  jobId: string,
  startedAt: number,
  timeoutMs: number,
  onPoll?: (items: (typeof schema.rotationItems.$inferSelect)[]) => Promise<void> | void,
): Promise<Settled> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    checkAgents(agents);
    const job = await db.query.rotationJobs.findFirst({ where: (t, { eq }) => eq(t.id, jobId) });
    const done = job !== undefined && job.status !== 'running' && job.status !== 'paused';
    if (done || onPoll) {
      const items = await db.query.rotationItems.findMany({
        where: (t, { eq }) => eq(t.jobId, jobId),
      });
      await onPoll?.(items);
      const open = items.filter((item) => ['queued', 'changing', 'checking'].includes(item.status));
      if (done && open.length === 0) {
        return { wallMs: Date.now() - startedAt, status: job.status, items };
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`rotation ${jobId} did not settle within ${timeoutMs / 1000} s`);
    }
    await sleep(onPoll ? 200 : 20);
  }
}

/** Where a run's time went, from the commands table (server clock, same machine). */
async function phases(db: DatabaseHandle['db'], since: Date, serials: ReadonlySet<string>) {
  const rows = (await db.select().from(schema.commands)).filter(
    (row) => row.serial !== null && serials.has(row.serial) && row.queuedAt >= since,
  );
  const between = (from: Date | null, to: Date | null) =>
    from === null || to === null ? undefined : to.getTime() - from.getTime();
  const collect = (pick: (row: (typeof rows)[number]) => number | undefined) =>
    rows.map(pick).filter((value): value is number => value !== undefined);
  const firstQueued = Math.min(...rows.map((row) => row.queuedAt.getTime()));
  return {
    commands: rows.length,
    byVerb: rows.reduce<Record<string, number>>((counts, row) => {
      counts[row.verb] = (counts[row.verb] ?? 0) + 1;
      return counts;
    }, {}),
    firstQueuedMs: firstQueued - since.getTime(),
    queuedToSent: collect((row) => between(row.queuedAt, row.dispatchedAt)),
    sentToAcked: collect((row) => between(row.dispatchedAt, row.ackedAt)),
    ackedToResult: collect((row) => between(row.ackedAt, row.completedAt)),
    queuedToResult: collect((row) => between(row.queuedAt, row.completedAt)),
    rows,
  };
}

/** Per wave: first command queued, last result in, and the gap before the next wave's first. */
function waveTimeline(
  items: Settled['items'],
  rows: Awaited<ReturnType<typeof phases>>['rows'],
  since: Date,
) {
  const waveOf = new Map(items.map((item) => [item.serial, item.wave]));
  const waves = new Map<number, { first: number; last: number; count: number }>();
  for (const row of rows) {
    const wave = waveOf.get(row.serial ?? '');
    if (wave === undefined || row.completedAt === null) continue;
    const entry = waves.get(wave) ?? { first: Infinity, last: 0, count: 0 };
    entry.first = Math.min(entry.first, row.queuedAt.getTime() - since.getTime());
    entry.last = Math.max(entry.last, row.completedAt.getTime() - since.getTime());
    entry.count += 1;
    waves.set(wave, entry);
  }
  const ordered = [...waves.entries()].sort(([a], [b]) => a - b);
  return ordered.map(([wave, entry], index) => ({
    wave,
    ...entry,
    gapAfter:
      index + 1 < ordered.length ? (ordered[index + 1]?.[1].first ?? NaN) - entry.last : undefined,
  }));
}

/** The job's waves as the engine planned them: per wave, per site (agent), in serial order. */
function plannedWaves(
  items: Settled['items'],
  siteIndex: ReadonlyMap<string, number>,
  cameraOf: ReadonlyMap<string, SimHostCamera>,
  passwordOf: (serial: string) => { admin: string; next: string },
): PhysicalWave[] {
  const waves: PhysicalWave[] = [];
  for (const item of [...items].sort((a, b) => a.wave - b.wave || (a.serial < b.serial ? -1 : 1))) {
    const wave = (waves[item.wave] ??= Array.from({ length: agentCount }, () => []));
    const site = siteIndex.get(item.siteId) ?? 0;
    const camera = cameraOf.get(item.serial);
    if (camera === undefined) throw new Error(`no camera ${item.serial}`);
    const { admin, next } = passwordOf(item.serial);
    wave[site]?.push({
      serial: item.serial,
      url: camera.url,
      admin: { username: 'root', password: admin },
      next,
    } satisfies PhysicalCamera);
  }
  return waves.filter((wave) => wave !== undefined);
}

/**
 * When each command's verb started and finished on its agent, from the agents' own log lines
 * (`<ISO time> info command started|finished commandId=… ms=…`).
 */
function agentMarks(logs: readonly string[]) {
  const started = new Map<string, number>();
  const finished = new Map<string, { at: number; ms: number }>();
  const line =
    /^(\S+) info command (started|finished) .*?commandId=([0-9a-f-]{36})(?:.* ms=(\d+))?/;
  for (const log of logs) {
    for (const text of log.split('\n')) {
      const match = line.exec(text);
      if (match === null) continue;
      const at = Date.parse(match[1] ?? '');
      const id = match[3] ?? '';
      if (match[2] === 'started') started.set(id, at);
      else finished.set(id, { at, ms: Number(match[4]) });
    }
  }
  return { started, finished };
}

interface CpuMark {
  at: number;
  server: number;
  agents: number;
  cameras: number;
  postgres: Map<number, number>;
  machine: ReturnType<typeof machineCpu>;
}

/** CPU time so far (µs) of this process (server), the agents, the simulators and PostgreSQL. */
async function cpuMark(
  agentPids: readonly (number | undefined)[],
  simPid: number | undefined,
  backends: () => Promise<number[]>,
): Promise<CpuMark> {
  const own = process.cpuUsage();
  const sumOf = (pids: readonly (number | undefined)[]) =>
    pids.reduce<number>((sum, pid) => sum + (pid === undefined ? 0 : processCpuMicros(pid)), 0);
  return {
    at: performance.now(),
    server: own.user + own.system,
    agents: sumOf(agentPids),
    cameras: sumOf([simPid]),
    postgres: new Map((await backends()).map((pid) => [pid, processCpuMicros(pid)])),
    machine: machineCpu(),
  };
}

function describeCpu(from: CpuMark, to: CpuMark): string {
  const wall = (to.at - from.at) * 1000;
  const cores = (micros: number) => `${number(micros / wall, 2)}`;
  let postgres = 0;
  for (const [pid, micros] of to.postgres) postgres += micros - (from.postgres.get(pid) ?? 0);
  return `CPU in cores: server ${cores(to.server - from.server)}, agents ${cores(to.agents - from.agents)}, simulated cameras ${cores(to.cameras - from.cameras)}, PostgreSQL ${cores(postgres)}; machine ${number(busyBetween(from.machine, to.machine) * 100)}% busy`;
}

// Main

const machineBusyBefore = await sampleMachineBusy();
let pg: BenchPostgres | undefined;
let benchDatabase: BenchDatabase | undefined;
let database: DatabaseHandle | undefined;
let checkDatabase: DatabaseHandle | undefined;
let server: RotationServer | undefined;
let simHost: SimHost | undefined;
const agents: AgentProcess[] = [];
const workDir = await mkdtemp(join(tmpdir(), 'custody-bench-rotation-'));

let cleaning: Promise<void> | undefined;
/** Stops every process and drops the database: at the end, or on Ctrl+C. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await server?.close();
    if (simHost && simHost.child.exitCode === null) {
      const exited = new Promise((resolve) => simHost?.child.once('exit', resolve));
      simHost.child.send({ type: 'close' } satisfies SimHostRequest);
      await exited;
    }
    if (checkDatabase !== database) await checkDatabase?.close();
    await database?.close();
    await benchDatabase?.drop();
    await pg?.stop();
    await rm(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  let serverLine: string;
  if (values.pglite) {
    database = await createDb();
    await database.migrate();
    checkDatabase = database;
    serverLine = 'PGlite (in process)';
  } else {
    pg = await startBenchPostgres();
    benchDatabase = await createBenchDatabase(pg.url, 'custody_bench_rotation');
    database = await createDb({ url: benchDatabase.url });
    // The invariant sampler's own connections, so that it does not queue behind the server.
    checkDatabase = await createDb({ url: benchDatabase.url, maxConnections: 2 });
    serverLine = `${await describeServer(pg.url)} (${pg.origin})`;
  }
  const db = database.db;
  const world = await seedWorld(db);
  const sites = await seedSites(db, world, agentCount);
  const siteIndex = new Map(sites.map((site, index) => [site.id, index]));
  const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
  server = await startRotationServer({
    database,
    vault,
    // As in production: the sweep only catches lost wake-ups.
    sweepIntervalMs: 15_000,
    heartbeatIntervalMs: 15_000,
    tuning: {
      recheck: { baseMs: Number(values['recheck-s']) * 1000, maxMs: 600_000 },
    },
  });

  simHost = startSimHost();
  const ready = await simHost.request<Extract<SimHostReply, { type: 'ready' }>>(
    {
      type: 'start',
      sites: sites.map((_, index) => ({
        addressBase: `127.130.${index}.1`,
        count: camerasPerAgent,
      })),
      latencyMs,
      timeScale,
      rebootMs: 30_000,
      readyDelayMs: 1_000,
      password: INITIAL_PASSWORD,
      firmwares: FIRMWARES,
    },
    'ready',
  );
  const cameraOf = new Map(
    ready.sites.flatMap((site) => site.cameras.map((camera) => [camera.serial, camera] as const)),
  );
  const serials = [...cameraOf.keys()];
  const serialSet = new Set(serials);

  const bundle = await buildAgentBundle(join(workDir, 'dist', 'agent.mjs'));
  for (const [index, site] of sites.entries()) {
    const agent = await enrollAgentProcess({
      bundle,
      serverUrl: server.url,
      db,
      siteId: site.id,
      createdBy: world.people.integratorAdmin.id,
      dir: join(workDir, `agent-${index}`),
      name: `bench agent ${index + 1}`,
      cidr: `127.130.${index}.0/25`,
      port: ready.sites[index]?.port ?? 0,
      env: {
        CUSTODY_AGENT_MAX_COMMANDS: String(maxCommands),
        // Production's intervals and probe timeout: no discovery round while measuring.
        CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '300',
        CUSTODY_AGENT_REFRESH_INTERVAL_S: '900',
        CUSTODY_AGENT_PROBE_TIMEOUT_S: '5',
        // `command started` / `command finished` lines time each verb on the agent.
        CUSTODY_AGENT_LOG_LEVEL: 'info',
      },
    });
    agent.start();
    agents.push(agent);
  }
  const inventoryStarted = Date.now();
  for (;;) {
    checkAgents(agents);
    const rows = await db.select().from(schema.cameras);
    const reported = rows.filter(
      (row) => serialSet.has(row.serial) && row.agentId !== null && row.firmware !== null,
    ).length;
    if (reported >= total) break;
    if (Date.now() - inventoryStarted > 660_000) {
      throw new Error(`only ${reported} of ${total} cameras reached the inventory`);
    }
    await sleep(500);
  }
  await vaultPasswords(
    db,
    vault,
    world,
    new Map(serials.map((serial) => [serial, INITIAL_PASSWORD])),
  );
  const admin = server.as(world.actors.integratorAdmin);
  const siteIds = sites.map((site) => site.id);

  console.log(
    `bulk rotation: ${number(total)} simulated cameras (${agentCount} sites × ${camerasPerAgent}, one agent each, ${maxCommands} commands at once per agent), ${latencyMs} ms per request, canary ${canarySize}, waves of ${waveSize}`,
  );
  console.log(`  database           ${serverLine}`);
  console.log(
    `  machine            ${availableParallelism()} cores, ${number(machineBusyBefore * 100)}% busy with other work just before the run`,
  );
  console.log(
    `  inventory          ${number(total)} cameras reported by ${agentCount} agents in ${seconds(Date.now() - inventoryStarted)}`,
  );

  // 1. The clean run.
  const sampler = checkDatabase;
  const backends = async () =>
    sampler === database
      ? []
      : rowsOf<{ pid: number }>(
          await sampler.db.execute(
            'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
          ),
        ).map((row) => row.pid);
  const mark = () =>
    cpuMark(
      agents.map((agent) => agent.pid),
      simHost?.child.pid,
      backends,
    );
  const cleanCpu = await mark();
  const cleanSince = new Date();
  const cleanStarted = Date.now();
  const clean = await admin.rotation.create({
    siteIds,
    account: ACCOUNT,
    canarySize,
    waveSize,
    maxFailures: 0,
  });
  const cleanRun = await waitSettled(db, clean.jobId, cleanStarted, 600_000);
  const cleanCpuLine = describeCpu(cleanCpu, await mark());
  const cleanRotated = cleanRun.items.filter((item) => item.status === 'rotated').length;
  const cleanPhases = await phases(db, cleanSince, serialSet);
  const timeline = waveTimeline(cleanRun.items, cleanPhases.rows, cleanSince);
  const cleanJob = await db.query.rotationJobs.findFirst({
    where: (t, { eq }) => eq(t.id, clean.jobId),
  });
  const marks = agentMarks(agents.map((agent) => agent.log()));
  const perCommand = {
    sentToStarted: [] as number[],
    verb: [] as number[],
    finishedToResult: [] as number[],
    finishedToIngest: [] as number[],
  };
  // When the gateway began applying each result (its transaction's start).
  const received = new Map(
    (
      await db
        .select({
          messageId: schema.agentMessages.messageId,
          receivedAt: schema.agentMessages.receivedAt,
        })
        .from(schema.agentMessages)
    ).map((row) => [row.messageId, row.receivedAt.getTime()]),
  );
  for (const row of cleanPhases.rows) {
    const ingestStarted = received.get(commandResultMessageId(row.id));
    const started = marks.started.get(row.id);
    const finished = marks.finished.get(row.id);
    if (started !== undefined && row.dispatchedAt !== null) {
      perCommand.sentToStarted.push(started - row.dispatchedAt.getTime());
    }
    if (finished !== undefined) {
      perCommand.verb.push(finished.ms);
      if (row.completedAt !== null) {
        perCommand.finishedToResult.push(row.completedAt.getTime() - finished.at);
      }
      if (ingestStarted !== undefined)
        perCommand.finishedToIngest.push(ingestStarted - finished.at);
    }
  }
  console.log(
    `  clean run          ${seconds(cleanRun.wallMs)} wall, job ${cleanRun.status}: ${number(cleanRotated)} rotated of ${number(clean.cameras)} (canary + ${clean.waves} waves, ${clean.skipped.length} skipped)`,
  );
  console.log(`    ${cleanCpuLine}`);
  console.log();
  console.log(
    `    commands         ${cleanPhases.commands} (${Object.entries(cleanPhases.byVerb)
      .map(([verb, count]) => `${verb} ×${count}`)
      .join(', ')})`,
  );
  console.log(`    queued → sent    ${spread(cleanPhases.queuedToSent)} (server: dispatch)`);
  console.log(
    `    sent → started   ${spread(perCommand.sentToStarted)} (agent: verify, journal, ack, wait for a slot)`,
  );
  console.log(`    verb             ${spread(perCommand.verb)} (agent: the VAPIX requests)`);
  console.log(
    `    verb → result    ${spread(perCommand.finishedToResult)} (agent: store, outbox, send; gateway: its ingest transaction begins ${spread(perCommand.finishedToIngest)} after the verb)`,
  );

  // 2. The physical limit, over the same waves, from the passwords the cameras now hold.
  const current = new Map<string, { admin: string; next: string }>();
  for (const serial of serials) {
    const active = await readActiveCredential(db, vault, serial, ACCOUNT);
    if (active === null) throw new Error(`camera ${serial} has no active credential`);
    current.set(serial, {
      admin: active.password,
      next: generateDevicePassword({ policy: 'complex', random: randomBytes }),
    });
  }
  const waves = plannedWaves(cleanRun.items, siteIndex, cameraOf, (serial) => current.get(serial)!);
  const physicalCpu = await mark();
  const physical = await measurePhysicalLimit(waves, {
    agents: agentCount,
    maxConcurrent: maxCommands,
  });
  const physicalCpuLine = describeCpu(physicalCpu, await mark());
  const ratio = cleanRun.wallMs / physical.wallMs;
  console.log(
    `  physical limit     ${seconds(physical.wallMs)}: the agent's rotate-credential verb straight against the cameras, ${maxCommands} at once per site, the same ${waves.length} waves one after the other, no Custody (${physical.rotated} rotated${
      physical.failed.length > 0
        ? `, ${physical.failed.length} failed: ${physical.failed
            .slice(0, 3)
            .map((f) => `${f.serial} ${f.code}`)
            .join(', ')}`
        : ''
    })`,
  );
  console.log(`    verb             ${spread(physical.verbMs)}`);
  console.log(`    ${physicalCpuLine} (the limit's requests are made by the server process here)`);
  console.log(
    `  ratio to limit     ${number(ratio, 2)} (target ≤ ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`,
  );
  // Custody's wall time = start + Σ wave spans + Σ gaps between waves + end; the limit's is Σ
  // its wave spans. What each part adds over the limit:
  const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
  const spans = timeline.map((wave) => wave.last - wave.first);
  const gaps = timeline.flatMap((wave) => (wave.gapAfter === undefined ? [] : [wave.gapAfter]));
  const lastResult = Math.max(...timeline.map((wave) => wave.last));
  const endMs =
    cleanJob?.finishedAt == null
      ? NaN
      : cleanJob.finishedAt.getTime() - cleanSince.getTime() - lastResult;
  const excess = spans.map((span, index) => span - (physical.waveMs[index] ?? 0));
  console.log(
    `    where it went    create → first command queued ${number(cleanPhases.firstQueuedMs)} ms; inside waves +${seconds(sum(excess))} over the limit (per wave ${spread(excess)}); between waves ${seconds(sum(gaps))} (${spread(gaps)}); last result → job completed ${number(endMs)} ms`,
  );
  if (values.verbose) {
    for (const [index, wave] of timeline.entries()) {
      console.log(
        `      wave ${String(wave.wave).padStart(3)}: ${wave.count} commands, ${number(wave.first)} → ${number(wave.last)} ms (limit ${number(physical.waveMs[index] ?? NaN)} ms)${wave.gapAfter === undefined ? '' : `, then ${number(wave.gapAfter)} ms to the next`}`,
      );
    }
  }
  // The cameras now hold the physical run's passwords: documented as a technician would.
  await vaultPasswords(
    db,
    vault,
    world,
    new Map([...current.entries()].map(([serial, { next }]) => [serial, next])),
  );

  // 3. Faults.
  let faultsMet = true;
  if (!values['no-faults']) {
    const invariant = createRotationInvariant({
      db: checkDatabase.db,
      vault,
      account: ACCOUNT,
      serials,
      devices: simHost.devices,
    });
    const before = await invariant.settled();
    if (before.notVaulted.length > 0 || before.activeNotWorking.length > 0) {
      throw new Error(`the vault does not match the cameras before the faulted run`);
    }
    // A spread-out 10 %: every tenth camera, in turn dropping the answer, losing power instead
    // of answering, or off before its turn.
    const faulted = serials.filter((_, index) => index % Math.round(1 / faultRate) === 3);
    const dropping = faulted.filter((_, index) => index % 5 < 2);
    const powerLoss = faulted.filter((_, index) => index % 5 >= 2 && index % 5 < 4);
    const offline = faulted.filter((_, index) => index % 5 === 4);
    const fault = (effect: AnswerFault['effect']): AnswerFault => ({
      path: PWDGRP,
      action: 'update',
      effect,
      ...(effect === 'power-off' ? { powerOnAfterMs: 60_000 } : {}),
    });
    await simHost.request(
      { type: 'answer-fault', serials: dropping, fault: fault('drop') },
      'done',
    );
    await simHost.request(
      { type: 'answer-fault', serials: powerLoss, fault: fault('power-off') },
      'done',
    );
    await simHost.request({ type: 'power', serials: offline, on: false }, 'done');

    const watch = watchInvariant(invariant, 500);
    const faultCpu = machineCpu();
    const faultStarted = Date.now();
    const job = await admin.rotation.create({
      siteIds,
      account: ACCOUNT,
      canarySize,
      waveSize,
      maxFailures: total,
    });
    // One agent dies in the middle of a wave, with commands running, and restarts 3 s later.
    const victimSite = Math.floor(agentCount / 2);
    let killedAt: number | undefined;
    const firstPass = await waitSettled(db, job.jobId, faultStarted, 900_000, async (items) => {
      if (killedAt !== undefined) return;
      // After the canary, while the victim's site has changes out.
      const changing = items.filter(
        (item) =>
          item.wave >= 1 && item.status === 'changing' && siteIndex.get(item.siteId) === victimSite,
      );
      if (changing.length >= Math.min(2, maxCommands)) {
        killedAt = Date.now() - faultStarted;
        const victim = agents[victimSite]!;
        await victim.kill();
        setTimeout(() => victim.start(), 3_000);
      }
    });
    const afterFirst = await invariant.settled();
    const needingRetry = firstPass.items.filter((item) => item.status === 'failed');
    await simHost.request({ type: 'power', serials: offline, on: true }, 'done');
    await sleep((30_000 + 1_000) / timeScale + 500);
    const retryStarted = Date.now();
    await admin.rotation.retryFailures({ jobId: job.jobId });
    const secondPass = await waitSettled(db, job.jobId, retryStarted, 600_000);
    const faultBusy = busyBetween(faultCpu, machineCpu());
    const last = await watch.stop();
    const final = await invariant.settled();
    const unvaulted = new Set(watch.violations.map((violation) => violation.serial));
    const faultPhases = await phases(db, new Date(faultStarted), serialSet);
    const codeCount = (code: string) =>
      faultPhases.rows.filter((row) => (row.error as { code?: string } | null)?.code === code)
        .length;
    const stillFailed = secondPass.items.filter((item) => item.status !== 'rotated').length;
    console.log(
      `  faulted run        ${number(faulted.length)} cameras faulted (${dropping.length} drop the answer after the change, ${powerLoss.length} lose power instead of answering, ${offline.length} off before their turn), agent ${victimSite + 1} killed ${killedAt === undefined ? 'never (no wave caught it busy)' : `${seconds(killedAt)} in`} and restarted 3 s later`,
    );
    console.log(
      `    first pass       ${seconds(firstPass.wallMs)}, job ${firstPass.status}: ${firstPass.items.filter((item) => item.status === 'rotated').length} rotated, ${needingRetry.length} failed (needed a retry); ${faultPhases.byVerb['test-credential'] ?? 0} checks of an unknown outcome; the kill cut ${codeCount('interrupted')} changes short and left ${codeCount('not-run')} unstarted`,
    );
    console.log(
      `    retry            ${seconds(secondPass.wallMs)}, job ${secondPass.status}: ${secondPass.items.filter((item) => item.status === 'rotated').length} rotated, ${stillFailed} not; machine ${number(faultBusy * 100)}% busy over both passes`,
    );
    console.log(
      `    invariant        ${watch.samples} samples of all ${number(total)} cameras (last at ${last === undefined ? 'n/a' : new Date(last.at).toISOString()}): cameras ever without their working password in the vault: ${unvaulted.size} (target 0); worst sample ${watch.worstNotVaulted}`,
    );
    console.log(
      `    after settling   first pass: ${afterFirst.notVaulted.length} unvaulted, ${afterFirst.activeNotWorking.length} not on their active version, ${afterFirst.pendingLeft.length} with a pending version left; after the retry: ${final.notVaulted.length}, ${final.activeNotWorking.length}, ${final.pendingLeft.length}`,
    );
    faultsMet =
      unvaulted.size === 0 &&
      afterFirst.notVaulted.length === 0 &&
      afterFirst.activeNotWorking.length === 0 &&
      final.notVaulted.length === 0 &&
      final.activeNotWorking.length === 0;
  }
  process.exitCode = ratio <= TARGET_RATIO && faultsMet ? 0 : 1;
} finally {
  await cleanUp();
}
