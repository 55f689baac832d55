import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real processes (and later real containers): give them room, and run files in forks so a
    // crashing child cannot take the runner with it.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
