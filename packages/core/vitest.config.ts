import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'core',
    include: ['src/**/*.test.ts'],
    // Core is pure (no globals, no mocks, no I/O), so test files can share one module graph;
    // re-importing zod for each of the many small files would otherwise dominate the run time.
    isolate: false,
  },
});
