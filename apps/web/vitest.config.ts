import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    alias: { '~': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  test: {
    name: 'web',
    include: ['src/**/*.test.ts'],
    setupFiles: ['./src/server/test-support/cheap-password-hashing.ts'],
    // The first database test in a worker pays for a cold PGlite and the migrations.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
