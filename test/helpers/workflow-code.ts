/**
 * The workflow code's fingerprint: every project source file a workflow bundle contains (webpack names them
 * `./src/….ts` in the bundle), each with 16 hex of its SHA-256. test/histories/workflow-code.json holds the one
 * the saved histories were last replayed against (scripts/workflow-code.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORIES_DIR } from './histories';

const ROOT = path.resolve(__dirname, '..', '..');
export const WORKFLOW_CODE_FILE = path.join(HISTORIES_DIR, 'workflow-code.json');

export interface WorkflowCode {
  files: Record<string, string>;
}

/** The project files in a bundle's code, each with its content hash. */
export function workflowCodeOf(bundleCode: string): WorkflowCode {
  const names = [...new Set([...bundleCode.matchAll(/"\.\/(src\/[^"]+\.ts)"/g)].map((m) => m[1]))].sort();
  if (!names.length) throw new Error('no ./src/ module in the workflow bundle: did the bundler change its naming?');
  return {
    files: Object.fromEntries(
      names.map((n) => [
        n,
        crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(ROOT, n)))
          .digest('hex')
          .slice(0, 16),
      ]),
    ),
  };
}

/** What differs between `current` and the recorded code, as lines; empty when they match. */
export function compareWorkflowCode(current: WorkflowCode, recordedFile = WORKFLOW_CODE_FILE): string[] {
  const recorded: WorkflowCode = fs.existsSync(recordedFile)
    ? (JSON.parse(fs.readFileSync(recordedFile, 'utf8')) as WorkflowCode)
    : { files: {} };
  const lines: string[] = [];
  for (const [f, h] of Object.entries(current.files))
    if (!(f in recorded.files)) lines.push(`added to the workflow code: ${f}`);
    else if (recorded.files[f] !== h) lines.push(`changed: ${f}`);
  for (const f of Object.keys(recorded.files))
    if (!(f in current.files)) lines.push(`no longer in the workflow code: ${f}`);
  if (!lines.length) return [];
  return [
    'The workflow code differs from the code the saved histories were last replayed against:',
    ...lines.map((l) => `  ${l}`),
    'Runs in flight replay their histories against the new code (Auto-Upgrade types, and every type without',
    'Worker Versioning). A change to what a workflow commands must be guarded with patched(); then:',
    '  npm run histories       records histories of new workflow types or paths from real runs, replays them all,',
    '                          and records the code',
    '  npm run histories:ack   replays the saved histories and records the code (nothing new to record)',
  ];
}
