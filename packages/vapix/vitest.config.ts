import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'vapix',
    include: ['src/**/*.test.ts'],
    // Test files keep no module-level state (each builds its own budget, limiter and servers),
    // so one module graph per worker is safe and saves re-importing undici, zod and fast-check
    // for every file on a small shared machine.
    isolate: false,
  },
});
