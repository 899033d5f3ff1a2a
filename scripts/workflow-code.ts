/**
 * The workflow code the saved histories were last checked against (test/histories/workflow-code.json): a hash
 * of every source file the workflow bundle is built from. The replay test fails when the code differs from it,
 * so that no workflow change lands without a look at determinism (docs/operations.md, "Upgrading longhaul with
 * runs in flight"). `npm run histories` (record the missing histories from real runs, replay all, write) and
 * `npm run histories:ack` (replay all, write) update it.
 *
 *   tsx scripts/workflow-code.ts --write    record the current code
 *   tsx scripts/workflow-code.ts --check    exit 1 listing what changed
 */
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsEntry } from '../src/workflow-entry';
import { WORKFLOW_CODE_FILE, compareWorkflowCode, workflowCodeOf } from '../test/helpers/workflow-code';

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== '--write' && mode !== '--check') {
    console.error('usage: tsx scripts/workflow-code.ts --write | --check');
    process.exit(2);
  }
  const silent = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsEntry(),
    logger: { log: silent, trace: silent, debug: silent, info: silent, warn: console.warn, error: console.error },
  });
  const current = workflowCodeOf(code);
  if (mode === '--write') {
    fs.writeFileSync(WORKFLOW_CODE_FILE, JSON.stringify(current, null, 2) + '\n');
    console.log(`${WORKFLOW_CODE_FILE}: ${Object.keys(current.files).length} workflow source files recorded`);
    return;
  }
  const problems = compareWorkflowCode(current);
  for (const p of problems) console.error(p);
  process.exit(problems.length ? 1 : 0);
}

void main();
