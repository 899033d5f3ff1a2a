import { defineConfig } from 'vitest/config';

// Three projects: unit tests run in parallel; workflow tests share one time-skipping test server (time
// skipping is global to it, so they run one file at a time); integration tests share one dev server.
// test/global-setup.ts starts both servers once and bundles the workflow code once.
//
// Quarantined (not in `npm test`, run with `npm run test:quarantine`): files that are not yet reliable on
// the shared time-skipping server. Each one is listed with its reason in docs/ and its issue stays open.
// The Datorama rate-limit tests left it once their stall of the shared server was found and fixed
// (docs/datorama.md, "Time-skipping tests"), the report semaphore tests by moving to the dev server.
const QUARANTINE: string[] = [
  // Empty. The report semaphore's terminate tests left it for the dev server (test/integration/
  // dailymotion-semaphore.test.ts): terminating a workflow amid an activity leaks the time-skipping server's
  // clock lock (sdk-java#1138), so tests that kill workflows mid-run belong on the dev server.
];
const quarantine = process.env.LONGHAUL_QUARANTINE === '1';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/results.json' }]],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    passWithNoTests: quarantine, // the quarantine may be empty
    projects: quarantine
      ? [
          {
            extends: true,
            test: { name: 'quarantine', include: QUARANTINE, fileParallelism: false, testTimeout: 600_000 },
          },
        ]
      : [
          { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
          {
            extends: true,
            test: {
              name: 'workflows',
              include: ['test/workflows/**/*.test.ts'],
              exclude: QUARANTINE,
              fileParallelism: false,
            },
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
          // Chaos suite (docs/chaos.md): bounded in `npm test`, full with `npm run test:chaos`.
          {
            extends: true,
            test: {
              name: 'chaos',
              include: ['test/chaos/**/*.test.ts'],
              fileParallelism: false,
              testTimeout: 600_000,
            },
          },
        ],
  },
});
