import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'db',
    include: ['src/**/*.test.ts'],
    // The first test in a worker pays for a cold PGlite and the migration (seconds on
    // two cores); every later test clones the migrated template.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
