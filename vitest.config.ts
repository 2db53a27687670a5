import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/hermetic-env.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two test files at once even on two cores (vitest's default there is one): most tests wait on PostgreSQL, PM2
    // and child processes rather than compute, and every file uses its own ports, folders, databases and PM2 home
    maxWorkers: 2,
  },
});
