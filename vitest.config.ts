import { defineConfig } from 'vitest/config';

// Three projects: unit tests run in parallel; workflow tests share one time-skipping test server (time
// skipping is global to it, so they run one file at a time); integration tests share one dev server.
// test/global-setup.ts starts both servers once and bundles the workflow code once.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/results.json' }]],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'workflows', include: ['test/workflows/**/*.test.ts'], fileParallelism: false },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
        },
      },
    ],
  },
});
