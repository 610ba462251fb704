import { createServer, type RequestListener } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { createDb } from '@custody/db';
import { safeErrorMessage } from '@custody/db/errors';
import { readEnv } from './src/env.ts';
import {
  consoleGatewayLogger,
  loadCommandSigningKey,
  startAgentGateway,
} from './src/server/gateway/index.ts';
import { stampClientAddress } from './src/server/auth/client-address.ts';
import { resolvePublicOrigins } from './src/server/auth/public-origins.ts';
import { startAuth } from './src/server/auth/start-auth.ts';
import { prepareDemo, type DemoRun } from './src/server/demo/start-demo.ts';
import { setRuntime } from './src/server/runtime.ts';
import { startCaseEngine } from './src/server/services/cases/case-engine.ts';
import { startAuditScheduler } from './src/server/services/fleet-audit/audit-snapshots.ts';
import { startRotationEngine } from './src/server/services/rotation/rotation-engine.ts';
import { startRotationFeed } from './src/server/services/rotation/rotation-feed.ts';
import { MasterKeyError } from './src/server/services/vault/master-keys.ts';
import { startVault } from './src/server/services/vault/start-vault.ts';
import { createVaultSecretsResolver } from './src/server/services/vault/vault-secrets-resolver.ts';

const dev = process.argv.includes('--dev');
const env = readEnv();
const dir = fileURLToPath(new URL('.', import.meta.url));
const dataDir = resolve(process.cwd(), env.CUSTODY_DATA_DIR);

// The port is taken before the data directory is opened: a second Custody on the same machine
// stops here with a clear message instead of opening the same PGlite directory twice.
let handleRequest: RequestListener = (_req, res) => {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '2' });
  res.end('Custody is starting\n');
};
const server = createServer((req, res) => handleRequest(req, res));
await new Promise<void>((resolvePort, rejectPort) => {
  server.once('error', rejectPort);
  server.listen(env.PORT, env.HOST, () => {
    server.off('error', rejectPort);
    resolvePort();
  });
}).catch((error: unknown) => {
  if ((error as { code?: unknown }).code === 'EADDRINUSE') {
    console.error(
      `Custody cannot start: ${env.HOST}:${env.PORT} is already in use (is Custody already running?). ` +
        'Stop the other process, or choose another port with PORT=3001.',
    );
    process.exit(1);
  }
  throw error;
});

const database = await createDb(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir });
await database.migrate();
const info = await database.info();

const listening = server.address();
const origins = resolvePublicOrigins({
  configured: env.CUSTODY_PUBLIC_URL,
  host: env.HOST,
  port: typeof listening === 'object' && listening ? listening.port : env.PORT,
});
// Creates the first admin on an empty database; its one-time password is only in these lines.
const { bannerLines: signInLines } = await startAuth({
  db: database.db,
  origins,
  secret: env.CUSTODY_AUTH_SECRET,
  adminEmail: env.CUSTODY_ADMIN_EMAIL,
  demoUsers: env.CUSTODY_DEMO_USERS || env.CUSTODY_DEMO,
});
// The demo's site and grant are in the database before the banner names them; its simulated
// cameras and agent start after the banner, so the web is usable while they come up.
const demo = env.CUSTODY_DEMO
  ? await prepareDemo({
      db: database.db,
      repoRoot: resolve(dir, '..', '..'),
      demoDir: resolve(process.cwd(), env.CUSTODY_DEMO_DIR),
    }).catch((error: unknown) => {
      console.error(
        `demo: Custody runs without the demo, which could not be prepared: ${safeErrorMessage(error)}`,
      );
      return undefined;
    })
  : undefined;

// After the database: PGlite initialises its data directory, which is also where the key lives
// by default. Processes sharing one PostgreSQL share the key through CUSTODY_COMMAND_KEY_FILE.
const signer = await loadCommandSigningKey(
  env.CUSTODY_COMMAND_KEY_FILE
    ? resolve(process.cwd(), env.CUSTODY_COMMAND_KEY_FILE)
    : join(dataDir, 'command-signing-key.pem'),
  consoleGatewayLogger,
);
// The vault's master keys: CUSTODY_MASTER_KEY, or a key file created at first start beside the
// database. Processes sharing one PostgreSQL must hold the same keys.
const vaultService = await startVault({
  db: database.db,
  masterKey: env.CUSTODY_MASTER_KEY,
  keyFile: env.CUSTODY_MASTER_KEY_FILE
    ? resolve(process.cwd(), env.CUSTODY_MASTER_KEY_FILE)
    : join(dataDir, 'master-keys.json'),
}).catch((error: unknown) => {
  // Told without the values of a failed query: they can be wrapped keys.
  console.error(
    `Custody cannot start: ${error instanceof MasterKeyError ? error.message : safeErrorMessage(error)}`,
  );
  process.exit(1);
});
const { vault } = vaultService;
const publicUrl = env.CUSTODY_PUBLIC_URL?.[0];
const gateway = await startAgentGateway({
  database,
  signer,
  resolveSecrets: createVaultSecretsResolver(database.db, vault),
  publicUrl: publicUrl === undefined ? undefined : new URL(publicUrl),
  publicOrigins: env.CUSTODY_PUBLIC_URL,
  trustProxy: env.CUSTODY_TRUST_PROXY,
  heartbeatIntervalMs: env.CUSTODY_AGENT_HEARTBEAT_S * 1000,
  messageRetentionDays: env.CUSTODY_AGENT_MESSAGE_RETENTION_DAYS,
});

// Advances recommissioning cases from command results, in this and every other process.
const caseEngine = await startCaseEngine({ database, vault });
// Runs bulk password rotations from command results, likewise; the feed serves live progress.
const rotationEngine = await startRotationEngine({ database, vault });
const rotationFeed = await startRotationFeed(database);
// Takes the fleet audit's scheduled snapshots; each is taken once whatever the process count.
const auditScheduler = startAuditScheduler({ db: database.db });

setRuntime({ database, gateway, vault, rotationFeed, startedAt: new Date() });

const app = next({ dev, dir, hostname: env.HOST, port: env.PORT });
await app.prepare();
const handle = app.getRequestHandler();
// Agent enrollment is served by the gateway, before Next, so the agent side is one module.
handleRequest = (req, res) => {
  stampClientAddress(req, env.CUSTODY_TRUST_PROXY);
  if (gateway.handleRequest(req, res)) return;
  void handle(req, res);
};

// /agent/v1 is the agent gateway; every other upgrade is Next's own (HMR in development).
const upgrade = app.getUpgradeHandler();
server.on('upgrade', (req, socket, head) => {
  if (gateway.handleUpgrade(req, socket, head)) return;
  void upgrade(req, socket, head);
});

{
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const where =
    info.engine === 'pglite'
      ? `PGlite (PostgreSQL ${info.serverVersion}) in ${dataDir}`
      : `PostgreSQL ${info.serverVersion}`;
  console.log(
    [
      '',
      `Custody is running at http://${env.HOST}:${port}`,
      `  database: ${where}, migrations ${info.migrationsApplied}/${info.migrationsKnown}`,
      `  health:   http://${env.HOST}:${port}/health`,
      `  agents:   ws://${env.HOST}:${port}/agent/v1 (commands signed with ${signer.file})`,
      `  vault:    master key ${vault.keys.active().id} from ${vault.keys.source}`,
      ...signInLines,
      ...(demo?.bannerLines ?? []),
      '  stop:     Ctrl+C',
      '',
    ].join('\n'),
  );
}

let demoRun: DemoRun | undefined;
if (demo) {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  // The agent dials the address the server listens on; a wildcard one is reached on loopback.
  const host = ['0.0.0.0', '::', ''].includes(env.HOST) ? '127.0.0.1' : env.HOST;
  demoRun = demo.start(
    {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      publicUrl: publicUrl === undefined ? undefined : new URL(publicUrl),
    },
    (line) => console.log(line),
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Custody`);
  const timer = setTimeout(() => process.exit(1), 10_000);
  timer.unref();
  await demoRun?.stop();
  // Agents are told the server is going away (1001) and reconnect to another process or later.
  await gateway.close();
  await caseEngine.close();
  await auditScheduler.close();
  await rotationEngine.close();
  await rotationFeed.close();
  await vaultService.close();
  server.closeIdleConnections();
  await new Promise<void>((done) => server.close(() => done()));
  await app.close();
  await database.close();
  setRuntime(undefined);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
