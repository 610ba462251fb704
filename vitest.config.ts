import { defineConfig, type TestProjectConfiguration } from 'vitest/config';

// The test command runs every project on PGlite, then again with the projects that touch
// the database pointed at a real PostgreSQL server (CUSTODY_TEST_DATABASE_URL).
const postgresUrl = process.env.CUSTODY_TEST_DATABASE_URL;
const DATABASE_PROJECTS = ['packages/db', 'apps/web'];

const projects: TestProjectConfiguration[] = [
  'packages/core',
  'packages/vapix',
  'packages/simulator',
  'packages/db',
  'apps/agent',
  'apps/web',
  'tests',
];

if (postgresUrl) {
  for (const root of DATABASE_PROJECTS) {
    projects.push({
      extends: `./${root}/vitest.config.ts`,
      test: {
        root,
        name: `${root.split('/')[1]}@postgresql`,
        provide: { databaseUrl: postgresUrl },
        // *.pglite.test.ts cover the embedded engine only (data directories, cloning).
        exclude: ['**/node_modules/**', '**/*.pglite.test.ts'],
      },
    });
  }
  // Of the cross-app suites, only the web gateway's and bulk rotation's touch the database. Not
  // `extends`: that would add this include to the integration project's instead of replacing it.
  projects.push({
    test: {
      root: 'tests',
      name: 'integration@postgresql',
      provide: { databaseUrl: postgresUrl },
      include: ['integration/web-gateway*.test.ts', 'integration/rotation*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}

export default defineConfig({
  test: {
    projects,
    coverage: {
      provider: 'v8',
      include: ['packages/core/src/**/*.ts'],
      exclude: ['**/*.test.ts'],
      thresholds: { lines: 90 },
      reporter: ['text-summary'],
    },
  },
});
