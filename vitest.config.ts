import { defineConfig } from 'vitest/config';

// Integration and container tests share kernel state per file (namespaces, containers), never across files;
// two workers match the two cores here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    // The CLI's code cache (src/cli/boot.ts) stays in the checkout, not in this machine's /var/cache.
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TSFIREWALL_CACHE_DIR: new URL('.cache/v8', import.meta.url).pathname },
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
