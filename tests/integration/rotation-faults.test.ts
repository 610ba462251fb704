import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb, rowsOf, schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import {
  createSimulator,
  type FirmwareId,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentBundle } from '../../apps/agent/build.ts';
import {
  activateCredentialVersion,
  storeCredentialVersion,
} from '../../apps/web/src/server/services/vault/credential-store.ts';
import {
  createMasterKeyRing,
  generateMasterKey,
} from '../../apps/web/src/server/services/vault/master-keys.ts';
import { openCredentialRow } from '../../apps/web/src/server/services/vault/credential-store.ts';
import { createVault, type Vault } from '../../apps/web/src/server/services/vault/vault.ts';
import { seedWorld, type World } from '../../apps/web/src/server/test-support/world.ts';
import { enrollAgentProcess, type AgentProcess } from './support/agent-process.ts';
import { eventually } from './support/case-site.ts';
import {
  createRotationInvariant,
  simulatorFingerprints,
  watchInvariant,
  type RotationInvariant,
} from './support/rotation-invariant.ts';
import { startRotationServer, type RotationServer } from './support/rotation-server.ts';
import { fastSimulator, freePort } from './support/simulated-site.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

// Bulk rotation with faults injected while it runs: the real gateway and rotation engine on a
// real database, the real agent as its own process, simulated cameras over real sockets. The
// agent is killed with SIGKILL in the middle of a wave and started again; cameras carry out the
// password change and then drop the answer, or lose power instead of answering; one camera is
// off when its turn comes; on PostgreSQL the server also loses its database for a few seconds
// (a TCP relay between them is cut). PGlite runs inside the server process, so there is no honest
// way to take it away from the server alone: that fault is covered on PostgreSQL only.
//
// Throughout, a sampler compares what every camera really holds with the vault: no camera may
// ever work with a password that is neither its active nor a pending version.

const url = providedDatabaseUrl();
const engine = url ? 'postgresql' : 'pglite';
const SITE_BASE = url ? '127.112.0.1' : '127.111.0.1';
const CAMERA_COUNT = 20;
const FIRMWARES: FirmwareId[] = ['10.12', '11.11', '12.x'];
/** Each request takes this long (real ms), so a wave is long enough to be interrupted. */
const LATENCY_MS = 40;

const PWDGRP = '/axis-cgi/pwdgrp.cgi';
/** Simulated ms: at ×100 a camera that lost power mid-change is back about 4 s later. */
const POWER_BACK_MS = 300_000;

let database: DatabaseHandle;
let webDatabase: DatabaseHandle;
let proxy: TcpProxy | undefined;
let world: World;
let vault: Vault;
let server: RotationServer;
let simulator: Simulator;
let agent: AgentProcess;
let workDir: string;
const cameras: SimulatedCamera[] = [];
/** Every password a camera ever had here, to be searched for in what Custody stored and logged. */
const initialPasswords: string[] = [];

function withDatabase(serverUrl: string, name: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function itemsOf(jobId: string) {
  const rows = await database.db.select().from(schema.rotationItems);
  return rows.filter((row) => row.jobId === jobId);
}

async function jobOf(jobId: string) {
  const rows = await database.db.select().from(schema.rotationJobs);
  return rows.find((row) => row.id === jobId);
}

/** Resolves once no item of the job is queued, changing or checking, and the job is done. */
async function settled(jobId: string, timeoutMs = 90_000) {
  try {
    return await eventually(
      async () => {
        const job = await jobOf(jobId);
        const items = await itemsOf(jobId);
        const open = items.filter((item) =>
          ['queued', 'changing', 'checking'].includes(item.status),
        );
        return job !== undefined && job.status !== 'running' && open.length === 0
          ? { job, items }
          : undefined;
      },
      'the rotation to settle',
      timeoutMs,
      100,
    );
  } catch (error) {
    const items = await itemsOf(jobId);
    const job = await jobOf(jobId);
    const states = items.map((item) => `${item.serial}:${item.status}`).join(' ');
    throw new Error(`${(error as Error).message} Job ${job?.status}; items ${states}`, {
      cause: error,
    });
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'custody-rotation-faults-'));
  database = await createTestDatabase({ url });
  if (url) {
    // The test database's name, to reach the same database through the relay.
    const [row] = rowsOf<{ name: string }>(
      await database.db.execute('select current_database() as name'),
    );
    const parsed = new URL(url);
    proxy = await startTcpProxy({ host: parsed.hostname, port: Number(parsed.port || 5432) });
    webDatabase = await createDb({
      url: proxy.through(withDatabase(url, row?.name ?? '')),
      maxConnections: 6,
    });
  } else {
    webDatabase = database;
  }
  world = await seedWorld(database.db);
  vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
  // Unknown outcomes are tested again after 1 s rather than 30 s: the same path, sooner.
  server = await startRotationServer({
    database: webDatabase,
    vault,
    tuning: { recheck: { baseMs: 1_000, maxMs: 4_000 } },
  });

  const bundle = await buildAgentBundle(join(workDir, 'dist', 'agent.mjs'));
  const port = await freePort(SITE_BASE);
  simulator = await createSimulator({
    ...fastSimulator(SITE_BASE),
    ports: { http: port },
    latencyMs: LATENCY_MS,
  });
  for (let index = 0; index < CAMERA_COUNT; index += 1) {
    const password = `Initial-${index}-Heron-${4100 + index}`;
    initialPasswords.push(password);
    cameras.push(
      await simulator.addCamera({
        firmware: FIRMWARES[index % FIRMWARES.length] ?? '11.11',
        https: false,
        rtsp: false,
        users: [{ username: 'root', password, role: 'admin' }],
      }),
    );
  }
  const base = SITE_BASE.split('.').slice(0, 3).join('.');
  agent = await enrollAgentProcess({
    bundle,
    serverUrl: server.url,
    db: database.db,
    siteId: world.sites.grantedSite.id,
    createdBy: world.people.integratorAdmin.id,
    dir: join(workDir, 'agent'),
    name: 'rotation site agent',
    cidr: `${base}.0/27`,
    port,
  });
  agent.start();
  await eventually(
    async () => {
      const rows = await database.db.select().from(schema.cameras);
      const reported = rows.filter((row) => row.agentId === agent.agentId && row.firmware);
      return reported.length >= CAMERA_COUNT;
    },
    'every camera in the inventory',
    60_000,
  );
  // The credentials a technician documented: each camera's admin password, active in the vault.
  for (const [index, camera] of cameras.entries()) {
    const stored = await storeCredentialVersion(database.db, vault, {
      serial: camera.serial,
      account: 'admin',
      username: 'root',
      password: initialPasswords[index] ?? '',
      createdBy: world.people.integratorAdmin.id,
    });
    await activateCredentialVersion(database.db, stored.id);
  }
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await server?.close();
  await simulator?.close();
  if (webDatabase !== database) await webDatabase?.close();
  await proxy?.close();
  await database?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 30_000);

function invariantFor(serials: readonly string[]): RotationInvariant {
  return createRotationInvariant({
    db: database.db,
    vault,
    account: 'admin',
    serials,
    devices: simulatorFingerprints((serial) => simulator.getCamera(serial)),
  });
}

describe(`bulk rotation under injected faults on ${engine}`, () => {
  it('has an invariant checker that notices a camera working with a password the vault does not hold', async () => {
    const camera = cameras[0]!;
    const check = invariantFor([camera.serial]);
    expect((await check.sample()).notVaulted).toEqual([]);
    // Someone changes the password behind Custody's back, and changes it back.
    const documented = camera.passwordOf('root')!;
    camera.users.get('root')!.password = 'Behind-The-Back-7731';
    expect((await check.sample()).notVaulted).toEqual([camera.serial]);
    camera.users.get('root')!.password = documented;
    expect(await check.settled()).toMatchObject({ notVaulted: [], activeNotWorking: [] });
  });

  it('never leaves a camera without its working password in the vault, and a retry finishes the rest', async () => {
    const serials = cameras.map((camera) => camera.serial);
    const invariant = invariantFor(serials);
    const watch = watchInvariant(invariant, 20);
    const admin = server.as(world.actors.integratorAdmin);

    const created = await admin.rotation.create({
      siteIds: [world.sites.grantedSite.id],
      account: 'admin',
      canarySize: 2,
      waveSize: 6,
      maxFailures: CAMERA_COUNT,
    });
    expect(created.cameras).toBe(CAMERA_COUNT);
    expect(created.waves).toBe(3);
    const { jobId } = created;

    // Faults on cameras of the last two waves, armed while the canary runs: cameras that carry
    // the change out and then never answer, or lose power instead of answering, and one that
    // is off when its turn comes (nothing can be changed on it, and nothing must be lost).
    const planned = await itemsOf(jobId);
    const byWave = (wave: number) =>
      cameras.filter((camera) =>
        planned.some((item) => item.serial === camera.serial && item.wave === wave),
      );
    const [w2, w3] = [byWave(2), byWave(3)];
    const dropping = [w2[0]!, w2[3]!, w3[1]!];
    const powerLoss = [w2[1]!, w3[4]!];
    const offline = w3[2]!;
    for (const camera of dropping) {
      camera.control.setAnswerFault({ path: PWDGRP, action: 'update', effect: 'drop' });
    }
    for (const camera of powerLoss) {
      camera.control.setAnswerFault({
        path: PWDGRP,
        action: 'update',
        effect: 'power-off',
        powerOnAfterMs: POWER_BACK_MS,
      });
    }
    offline.control.powerOff();
    expect(await jobOf(jobId)).toMatchObject({ currentWave: 0 });

    // The agent dies in the middle of the first wave after the canary, while it changes
    // passwords, and is started again.
    const wave1 = new Set(byWave(1).map((camera) => camera.serial));
    await eventually(async () => {
      const rows = await database.db.select().from(schema.commands);
      // Acknowledged and not finished: the agent has it, running or next for a slot (a change
      // this quick reports no progress, which the agent holds back for a command's first second).
      return rows.some(
        (row) =>
          row.verb === 'rotate-credential' &&
          wave1.has(row.serial ?? '') &&
          row.status === 'acknowledged',
      );
    }, 'a password change running in wave 1');
    await agent.kill();
    await sleep(1_500);
    agent.start();

    if (proxy) {
      // The database goes away mid-wave for a few seconds, then comes back.
      await eventually(
        async () =>
          (await itemsOf(jobId)).some((item) => item.wave >= 2 && item.status === 'changing'),
        'a change in flight in wave 2',
      );
      const complaints = () => server.logged.filter((line) => !line.startsWith('info')).length;
      const before = complaints();
      proxy.cut();
      await sleep(3_000);
      proxy.restore();
      // The server did feel it: its sweeps and the engine failed meanwhile, and said so.
      expect(proxy.reset).toBeGreaterThan(0);
      expect(complaints()).toBeGreaterThan(before);
    }

    const first = await settled(jobId);
    const firstSample = await invariant.settled();
    const rotated = first.items.filter((item) => item.status === 'rotated');
    const failed = first.items.filter((item) => item.status === 'failed');
    expect(rotated.length + failed.length).toBe(CAMERA_COUNT);
    expect(failed.map((item) => item.serial)).toContain(offline.serial);
    // Failed means the camera still works with its active (old) version; rotated, with the new.
    expect(firstSample.notVaulted).toEqual([]);
    expect(firstSample.activeNotWorking).toEqual([]);
    expect(firstSample.pendingLeft).toEqual([]);
    for (const item of rotated) {
      const index = cameras.findIndex((camera) => camera.serial === item.serial);
      expect(cameras[index]!.passwordOf('root')).not.toBe(initialPasswords[index]);
    }
    const commands = await database.db.select().from(schema.commands);
    const checked = new Set(
      commands.filter((row) => row.verb === 'test-credential').map((row) => row.serial),
    );
    // The kill cut changes short: the agent reported them interrupted after its restart, and
    // the vault was told which password each camera held by a check of both.
    const interrupted = commands.filter(
      (row) =>
        row.verb === 'rotate-credential' &&
        (row.error as { code?: string } | null)?.code === 'interrupted',
    );
    expect(interrupted.length).toBeGreaterThan(0);
    for (const row of interrupted) expect(checked).toContain(row.serial);
    // Every camera whose answer was lost went through a check as well, and took the password.
    for (const camera of [...dropping, ...powerLoss]) {
      expect(checked).toContain(camera.serial);
      expect(camera.stats.answersLost).toBe(1);
    }

    // Retrying the failures finishes the rest once the camera is back.
    offline.control.powerOn();
    await offline.waitForPhase('ready', 10_000);
    await admin.rotation.retryFailures({ jobId });
    const second = await settled(jobId);
    expect(second.items.filter((item) => item.status === 'rotated')).toHaveLength(CAMERA_COUNT);
    expect(second.job.status).toBe('completed');

    const last = await watch.stop();
    const final = await invariant.settled();
    expect(final).toMatchObject({ notVaulted: [], activeNotWorking: [], pendingLeft: [] });
    expect(final.onActive).toBe(CAMERA_COUNT);
    expect(last?.cameras).toBe(CAMERA_COUNT);
    expect(watch.samples).toBeGreaterThan(20);
    expect(watch.violations).toEqual([]);
    expect(watch.failedSamples).toBe(0);
    expect(watch.worstNotVaulted).toBe(0);
    for (const [index, camera] of cameras.entries()) {
      expect(camera.passwordOf('root')).not.toBe(initialPasswords[index]);
    }
  }, 180_000);

  it('kept every password out of commands, rotation items, the audit log and the logs', async () => {
    const rows = await database.db.select().from(schema.credentials);
    const vaulted = await Promise.all(
      rows.map(async (row) => (await openCredentialRow(vault, row)).password),
    );
    const secrets = [...new Set([...initialPasswords, ...vaulted])];
    expect(secrets.length).toBeGreaterThan(CAMERA_COUNT);
    const stored = JSON.stringify([
      await database.db.select().from(schema.commands),
      await database.db.select().from(schema.rotationItems),
      await database.db.select().from(schema.rotationJobs),
      await database.db.select().from(schema.auditEvents),
      await database.db.select().from(schema.agentMessages),
    ]);
    const logs = `${server.logged.join('\n')}\n${agent.log()}`;
    expect(logs).toMatch(/link connected/);
    for (const secret of secrets) {
      expect(stored).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
