import { createServer, type RequestListener } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { createDb } from '@custody/db';
import { readEnv } from './src/env.ts';
import { setRuntime } from './src/server/runtime.ts';

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
setRuntime({ database, startedAt: new Date() });

const app = next({ dev, dir, hostname: env.HOST, port: env.PORT });
await app.prepare();
const handle = app.getRequestHandler();
handleRequest = (req, res) => {
  void handle(req, res);
};

// Next's own upgrade handler serves HMR in development.
const upgrade = app.getUpgradeHandler();
server.on('upgrade', (req, socket, head) => {
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
      '  sign in:  no accounts exist yet; every page is open to this machine',
      '  stop:     Ctrl+C',
      '',
    ].join('\n'),
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Custody`);
  const timer = setTimeout(() => process.exit(1), 10_000);
  timer.unref();
  server.closeIdleConnections();
  await new Promise<void>((done) => server.close(() => done()));
  await app.close();
  await database.close();
  setRuntime(undefined);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
