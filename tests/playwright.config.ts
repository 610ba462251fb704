import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

// The browser suite drives the real server twice: on the embedded PGlite database and on a
// PostgreSQL server. `npm test` provides Chromium and the server; running it without them is
// an error rather than a silently smaller suite.
const chromium = process.env.CHROMIUM_PATH;
const postgresUrl = process.env.CUSTODY_E2E_POSTGRES_URL;
if (!chromium || !postgresUrl) {
  throw new Error(
    'The browser suite needs CHROMIUM_PATH and CUSTODY_E2E_POSTGRES_URL; run it through `npm test`.',
  );
}

const PGLITE_PORT = 3201;
const POSTGRES_PORT = 3202;
const pgliteDataDir = mkdtempSync(join(tmpdir(), 'custody-e2e-'));

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  reporter: [['list'], ['json']],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'pglite', use: { baseURL: `http://127.0.0.1:${PGLITE_PORT}` } },
    {
      name: 'postgresql',
      use: { baseURL: `http://127.0.0.1:${POSTGRES_PORT}` },
      // Rotation and the worked example's case workflow on PostgreSQL are covered by the
      // integration suites (web-gateway-cases), the fleet audit's queries by the web suite on
      // PostgreSQL; CI time goes elsewhere.
      testIgnore: ['**/rotation.spec.ts', '**/fleet-audit.spec.ts', '**/worked-example.spec.ts'],
    },
  ],
  webServer: [
    {
      command: 'pnpm --filter @custody/web start',
      url: `http://127.0.0.1:${PGLITE_PORT}/api/health`,
      env: { HOST: '127.0.0.1', PORT: String(PGLITE_PORT), CUSTODY_DATA_DIR: pgliteDataDir },
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: 'tsx e2e/serve-on-postgres.ts',
      url: `http://127.0.0.1:${POSTGRES_PORT}/api/health`,
      env: {
        HOST: '127.0.0.1',
        PORT: String(POSTGRES_PORT),
        CUSTODY_E2E_POSTGRES_URL: postgresUrl,
      },
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
  ],
});
