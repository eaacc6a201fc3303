import { defineConfig } from 'vitest/config';

// Integration and container tests share kernel state per file (namespaces, containers), never across files;
// two workers match the two cores here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
