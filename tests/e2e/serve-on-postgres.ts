import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

// Creates a fresh database on the test server, then runs the web server against it.
const adminUrl = process.env.CUSTODY_E2E_POSTGRES_URL;
if (!adminUrl) throw new Error('CUSTODY_E2E_POSTGRES_URL is not set');
const name = `custody_e2e_${randomBytes(4).toString('hex')}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database "${name}"`);
await admin.end();
const url = new URL(adminUrl);
url.pathname = `/${name}`;

const server = spawn('pnpm', ['--filter', '@custody/web', 'start'], {
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: url.toString() },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.kill(signal));
}
server.on('exit', (code) => process.exit(code ?? 1));
