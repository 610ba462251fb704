import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'vapix',
    include: ['src/**/*.test.ts'],
  },
});
