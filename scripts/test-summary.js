#!/usr/bin/env node
// Prints the plain closing line `N passed, N failed[, N skipped]` from vitest's JSON report.
const fs = require('node:fs');
const file = process.argv[2] ?? 'test-results/results.json';
if (!fs.existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`no test report at ${file}: the test run did not complete`);
  process.exit(1);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const failed =
  r.numFailedTests +
  (r.numRuntimeErrorTestSuites ?? 0) +
  (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || r.numPassedTests === 0 ? 1 : 0);
