import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase } from '@custody/db/testing';
import {
  createSimulator,
  type AddCameraOptions,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import { runCli } from '../../../apps/agent/src/run-cli.ts';
import { createMemoryIo } from '../../../apps/agent/src/testing/memory-io.ts';
import {
  createEnrollmentToken,
  loadCommandSigningKey,
  silentGatewayLogger,
  startAgentGateway,
  type AgentGateway,
} from '../../../apps/web/src/server/gateway/index.ts';
import { createCaller } from '../../../apps/web/src/server/api/root.ts';
import { createInnerTRPCContext } from '../../../apps/web/src/server/api/trpc.ts';
import {
  startCaseEngine,
  type CaseEngine,
} from '../../../apps/web/src/server/services/cases/case-engine.ts';
import {
  getCase,
  type CaseRecord,
} from '../../../apps/web/src/server/services/cases/case-store.ts';
import {
  createMasterKeyRing,
  generateMasterKey,
} from '../../../apps/web/src/server/services/vault/master-keys.ts';
import { createVault, type Vault } from '../../../apps/web/src/server/services/vault/vault.ts';
import { createVaultSecretsResolver } from '../../../apps/web/src/server/services/vault/vault-secrets-resolver.ts';
import { seedWorld, type World } from '../../../apps/web/src/server/test-support/world.ts';
import { fastSimulator, freePort } from './simulated-site.ts';

/*
 * A whole recommissioning site for case tests and the approval-to-verified benchmark: a
 * database with the seeded two-tenant world, the real agent gateway on HTTP, the case engine,
 * a vault, a simulated site on a range of loopback addresses, and the real agent (its CLI `run`,
 * in process) enrolled for the world's granted site and scanning that range.
 */

export interface CaseSiteOptions {
  /** First address of the site's range, e.g. 127.95.0.1; the range is its /27. */
  addressBase: string;
  databaseUrl?: string | undefined;
  /** Simulated time runs this much faster than real time (default 100). */
  timeScale?: number;
  /** Simulated reboot downtime (default 5 s). */
  rebootMs?: number;
  readyDelayMs?: number;
  /** The case engine's reconciliation sweep (default 1 s, so a lost wake-up costs a test little). */
  sweepIntervalMs?: number;
}

export interface CaseSite {
  database: DatabaseHandle;
  world: World;
  vault: Vault;
  gateway: AgentGateway;
  engine: CaseEngine;
  simulator: Simulator;
  agentId: string;
  cameraPort: number;
  /** tRPC as a world user, with the vault in the context. */
  as(name: keyof World['actors']): ReturnType<typeof createCaller>;
  addCamera(options: AddCameraOptions): Promise<SimulatedCamera>;
  /** Resolves once the agent has reported the camera (with its identity) to the server. */
  waitForCamera(serial: string): Promise<void>;
  waitForCase(
    caseId: string,
    check: (record: CaseRecord) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<CaseRecord>;
  close(): Promise<void>;
}

export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  description: string,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}.`);
    await sleep(intervalMs);
  }
}

function cidrOf(base: string): string {
  const parts = base.split('.').map(Number);
  const last = parts[3] ?? 1;
  return `${parts.slice(0, 3).join('.')}.${last - (last % 32)}/27`;
}

export async function startCaseSite(options: CaseSiteOptions): Promise<CaseSite> {
  const database = await createTestDatabase({ url: options.databaseUrl });
  const world = await seedWorld(database.db);
  const siteId = world.sites.grantedSite.id;
  const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
  const keyDir = await mkdtemp(join(tmpdir(), 'custody-case-key-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'custody-case-agent-'));
  const signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
  const gateway = await startAgentGateway({
    database,
    signer,
    resolveSecrets: createVaultSecretsResolver(database.db, vault),
    heartbeatIntervalMs: 1_000,
    sweepIntervalMs: 500,
    log: silentGatewayLogger,
  });
  const server: Server = createServer((request, response) => {
    if (gateway.handleRequest(request, response)) return;
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const engine = await startCaseEngine({
    database,
    vault,
    sweepIntervalMs: options.sweepIntervalMs ?? 1_000,
    log: { warn: () => undefined },
  });

  const cameraPort = await freePort(options.addressBase);
  const simulator = await createSimulator({
    ...fastSimulator(options.addressBase),
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(options.rebootMs === undefined ? {} : { rebootMs: options.rebootMs }),
    ...(options.readyDelayMs === undefined ? {} : { readyDelayMs: options.readyDelayMs }),
    ports: { http: cameraPort },
  });

  const env = {
    HOME: dataDir,
    CUSTODY_AGENT_DATA_DIR: dataDir,
    CUSTODY_AGENT_CIDRS: cidrOf(options.addressBase),
    CUSTODY_AGENT_PORTS: String(cameraPort),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '30',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
    CUSTODY_AGENT_STOP_GRACE_S: '1',
  };
  const { token } = await createEnrollmentToken(database.db, {
    siteId,
    createdBy: world.people.integratorAdmin.id,
    ttlMs: 60_000,
  });
  const enrollIo = createMemoryIo({ env: { ...env, ENROLL_TOKEN: token } });
  const enrolled = await runCli(
    ['enroll', '--server', serverUrl, '--token-env', 'ENROLL_TOKEN', '--name', 'site agent'],
    enrollIo,
  );
  if (enrolled !== 0) throw new Error(`agent enroll failed: ${enrollIo.err()}`);
  const agentId = /agent ([0-9a-f-]{36})/.exec(enrollIo.out())?.[1] ?? '';
  const controller = new AbortController();
  const agentIo = createMemoryIo({ env, signal: controller.signal });
  const agentExit = runCli(['run'], agentIo);

  const as = (name: keyof World['actors']) =>
    createCaller(createInnerTRPCContext({ db: database.db, actor: world.actors[name], vault }));

  return {
    database,
    world,
    vault,
    gateway,
    engine,
    simulator,
    agentId,
    cameraPort,
    as,
    addCamera: (cameraOptions) => simulator.addCamera(cameraOptions),
    async waitForCamera(serial) {
      await eventually(async () => {
        const rows = await database.db
          .select({
            serial: schema.cameras.serial,
            agentId: schema.cameras.agentId,
            firmware: schema.cameras.firmware,
          })
          .from(schema.cameras);
        const row = rows.find((candidate) => candidate.serial === serial);
        return row?.agentId === agentId && row.firmware !== null;
      }, `camera ${serial} in the inventory`);
    },
    async waitForCase(caseId, check, description, timeoutMs = 60_000) {
      try {
        return await eventually(
          async () => {
            const record = await getCase(database.db, caseId);
            return record !== null && check(record) ? record : undefined;
          },
          description,
          timeoutMs,
        );
      } catch (error) {
        // Say where the case stood and what its commands did (their errors carry no secret).
        const record = await getCase(database.db, caseId);
        const rows = await database.db.select().from(schema.commands);
        const commands = rows
          .filter((row) => row.caseId === caseId)
          .map((row) => `${row.verb}: ${row.status} ${JSON.stringify(row.error ?? row.progress)}`);
        throw new Error(
          `${(error as Error).message} The case is ${JSON.stringify(record?.state)}; commands: ${commands.join(' | ')}`,
          { cause: error },
        );
      }
    },
    async close() {
      controller.abort();
      await agentExit;
      await engine.close();
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await simulator.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}
