import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase } from '@custody/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_HEADER } from '../../apps/web/src/server/auth/client-address.ts';
import type { Auth } from '../../apps/web/src/server/auth/create-auth.ts';
import { startAuth } from '../../apps/web/src/server/auth/start-auth.ts';
import {
  prepareDemo,
  type DemoRun,
  type PreparedDemo,
} from '../../apps/web/src/server/demo/start-demo.ts';
import {
  loadCommandSigningKey,
  silentGatewayLogger,
  startAgentGateway,
  type CommandSigner,
} from '../../apps/web/src/server/gateway/index.ts';
import { loadActor } from '../../apps/web/src/server/services/actor.ts';
import {
  DEMO_INTEGRATOR_NAME,
  DEMO_OWNER_NAME,
} from '../../apps/web/src/server/services/demo-users.ts';
import { listSites } from '../../apps/web/src/server/services/sites.ts';

// What `npm start` runs with CUSTODY_DEMO=1, with server.ts's own functions: the demo users
// (startAuth), the demo site and its grant (prepareDemo), then the simulated site and a real
// agent in child processes, enrolled against a real gateway on PGlite. The cameras sit on
// 127.93.0.0/26, away from a demo that may be running on this machine.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADDRESS_BASE = '127.93.0.1';
const ORIGIN = 'http://custody.test:3000';
const ROLES = ['integrator-admin', 'technician', 'owner-approver', 'auditor'];

interface Started {
  database: DatabaseHandle;
  auth: Auth;
  bannerLines: string[];
  url: string;
  close(): Promise<void>;
}

let signer: CommandSigner;
let keyDir: string;
let demoDir: string;
/** What the demo reported, shown when a wait times out. */
const demoLog: string[] = [];
/** Run in reverse order after the suite; stopping or closing twice is harmless. */
const cleanup: (() => Promise<void>)[] = [];

/** The gateway as server.ts mounts it, on a plain HTTP server, and the auth start-up. */
async function startServer(database: DatabaseHandle, port = 0): Promise<Started> {
  const { auth, bannerLines } = await startAuth({
    db: database.db,
    origins: [ORIGIN],
    secret: 'demo-test-secret-'.repeat(3),
    adminEmail: 'admin@custody.local',
    demoUsers: true,
  });
  const gateway = await startAgentGateway({
    database,
    signer,
    heartbeatIntervalMs: 1_000,
    log: silentGatewayLogger,
  });
  const server: Server = createServer((request, response) => {
    if (!gateway.handleRequest(request, response)) response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    database,
    auth,
    bannerLines,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      if (!server.listening) return;
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The demo users' e-mail addresses and passwords, read from the banner as a newcomer would. */
function printedCredentials(lines: readonly string[]) {
  return lines.flatMap((line) => {
    const match = /^\s+(\S+)\s+(demo-\S+@custody\.local)\s+(\S+)\s+\(/.exec(line);
    return match ? [{ role: match[1] ?? '', email: match[2] ?? '', password: match[3] ?? '' }] : [];
  });
}

function signIn(auth: Auth, email: string, password: string): Promise<Response> {
  return auth.handler(
    new Request(`${ORIGIN}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: ORIGIN,
        [CLIENT_ADDRESS_HEADER]: '192.0.2.10',
      },
      body: JSON.stringify({ email, password }),
    }),
  );
}

async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  description: string,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${description}. The demo said:\n${demoLog.join('\n')}`,
      );
    }
    await sleep(200);
  }
}

function prepare(started: Started) {
  return prepareDemo({
    db: started.database.db,
    repoRoot: REPO_ROOT,
    demoDir,
    cameraPort: 0,
    addressBase: ADDRESS_BASE,
  });
}

function start(demo: PreparedDemo, started: Started): DemoRun {
  const run = demo.start({ url: started.url }, (line) => demoLog.push(line));
  cleanup.push(() => run.stop());
  return run;
}

async function camerasOf(started: Started, siteId: string) {
  const rows = await started.database.db.select().from(schema.cameras);
  return rows.filter((row) => row.siteId === siteId && row.lostAt === null);
}

async function demoRows(started: Started) {
  const { db } = started.database;
  const orgs = (await db.select().from(schema.organisations)).filter((org) =>
    [DEMO_INTEGRATOR_NAME, DEMO_OWNER_NAME].includes(org.name),
  );
  return {
    orgs: orgs.map((org) => org.id).sort(),
    sites: (await db.select().from(schema.sites)).map((site) => site.id),
    grants: (await db.select().from(schema.siteGrants)).map((grant) => grant.id),
    agents: (await db.select().from(schema.agents)).map((agent) => ({
      id: agent.id,
      revoked: agent.revokedAt !== null,
    })),
  };
}

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'custody-demo-key-'));
  demoDir = await mkdtemp(join(tmpdir(), 'custody-demo-'));
  signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
});

afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await rm(demoDir, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

// Child processes start through tsx: generous limits for a busy machine.
describe('the demo npm start runs', { timeout: 60_000 }, () => {
  let first: Started;
  let firstDemo: PreparedDemo;
  let firstRun: DemoRun;
  let firstAgentId: string;
  let siteId: string;

  it('prints demo users for every role who can sign in and see the demo site through its grant', async () => {
    const database = await createTestDatabase();
    cleanup.push(() => database.close());
    first = await startServer(database);
    cleanup.push(() => first.close());
    const credentials = printedCredentials(first.bannerLines);
    expect(credentials.map((c) => c.role).sort()).toEqual([...ROLES].sort());

    firstDemo = await prepare(first);
    siteId = firstDemo.site.id;
    expect(firstDemo.site).toMatchObject({
      name: 'Demo site: Harbour warehouse',
      ownerName: DEMO_OWNER_NAME,
      integratorName: DEMO_INTEGRATOR_NAME,
      created: true,
      granted: true,
    });
    expect(firstDemo.bannerLines.join('\n')).toContain('CUSTODY_DEMO=0 npm start');

    for (const { email, password } of credentials) {
      const response = await signIn(first.auth, email, password);
      expect(response.status, email).toBe(200);
      expect(response.headers.getSetCookie().join(';')).toContain('custody.session_token=');
      const user = (await database.db.select().from(schema.users)).find(
        (row) => row.email === email,
      );
      const actor = await loadActor(database.db, user!.id, null);
      const sites = await listSites(database.db, actor!);
      expect(
        sites.map((site) => site.id),
        email,
      ).toEqual([siteId]);
    }
    const wrong = await signIn(first.auth, credentials[0]!.email, 'not the printed password');
    expect(wrong.status).toBe(401);
  });

  it('enrolls the local agent, and the simulated cameras appear in the fleet with mixed firmware', async () => {
    firstRun = start(firstDemo, first);
    const ready = await firstRun.ready;
    expect(ready.enrolled).toBe(true);
    firstAgentId = ready.agentId;
    const cameras = await eventually(async () => {
      const rows = await camerasOf(first, siteId);
      return rows.length === 12 && rows.filter((row) => row.firmware !== null).length >= 9
        ? rows
        : undefined;
    }, 'the twelve demo cameras, the ten-and-newer ones identified');
    for (const camera of cameras) {
      expect(camera).toMatchObject({ agentId: firstAgentId, source: 'scan' });
      expect(camera.address).toMatch(/^127\.93\.0\.\d+$/);
    }
    const majors = new Set(cameras.flatMap((camera) => camera.firmware?.split('.')[0] ?? []));
    expect([...majors].sort()).toEqual(['10', '11', '12']);
    // The inherited 5.51, the factory-defaulted 10.12 and the 9.80 whose button is broken.
    expect(cameras.map((camera) => camera.serial)).toEqual(
      expect.arrayContaining(['00408CFB6888', 'ACCC8E5E0A10', 'ACCC8E2B9F80']),
    );
    const factoryDefault = cameras.find((camera) => camera.serial === 'ACCC8E5E0A10');
    expect(factoryDefault?.accessState).toBe('needs-setup');
  });

  it('finds everything again on a second start: no new organisation, site, grant or agent', async () => {
    const before = await demoRows(first);
    await firstRun.stop();
    await first.close();
    // A restart serves on the same address (PORT); on another one the agent enrolls again.
    const again = await startServer(first.database, Number(new URL(first.url).port));
    cleanup.push(() => again.close());
    const credentials = printedCredentials(again.bannerLines);
    expect(credentials).toHaveLength(4);
    const demo = await prepare(again);
    expect(demo.site).toMatchObject({ id: siteId, created: false, granted: true });
    const run = start(demo, again);
    expect(await run.ready).toEqual({ agentId: firstAgentId, enrolled: false });
    expect(await demoRows(again)).toEqual(before);
    await eventually(async () => {
      const agent = (await again.database.db.select().from(schema.agents)).find(
        (row) => row.id === firstAgentId,
      );
      return agent?.status === 'online';
    }, 'the same agent online again');
    const signedIn = await signIn(again.auth, credentials[0]!.email, credentials[0]!.password);
    expect(signedIn.status).toBe(200);
    await run.stop();
    await again.close();
  });

  it('enrolls the agent again when the database was wiped', async () => {
    const database = await createTestDatabase();
    cleanup.push(() => database.close());
    const fresh = await startServer(database);
    cleanup.push(() => fresh.close());
    const demo = await prepare(fresh);
    const ready = await start(demo, fresh).ready;
    expect(ready.enrolled).toBe(true);
    expect(ready.agentId).not.toBe(firstAgentId);
    await eventually(async () => {
      const rows = await camerasOf(fresh, demo.site.id);
      return rows.length === 12 && rows.every((row) => row.agentId === ready.agentId);
    }, 'the demo cameras, reported by the new agent');
  });
});
