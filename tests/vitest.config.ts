import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'integration',
    // Cross-package suites over real sockets: VAPIX client against the simulator, agent CLI,
    // discovery inside network namespaces, and a small run of the benchmark harness.
    include: ['integration/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
