/**
 * Event histories of integration runs, kept under test/histories/ so the replay test can prove that the
 * current workflow code still replays them (determinism). LONGHAUL_SAVE_HISTORIES=new npm test adds the missing
 * ones; =1 refreshes them all (and so drops the proof that older recorded histories replay).
 * Saved with the temporal CLI (`workflow show --output json`: the proto JSON that historyFromJSON reads).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { tool } from '../../src/dev/servers';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'histories');

/**
 * Whether to save `name`: LONGHAUL_SAVE_HISTORIES=1 saves (and replaces) every history; `new` saves only those
 * not saved yet — a saved history recorded by older code is what proves the current code still replays it.
 */
function wanted(name: string): boolean {
  const mode = process.env.LONGHAUL_SAVE_HISTORIES;
  if (mode === '1') return true;
  return mode === 'new' && !fs.existsSync(path.join(HISTORIES_DIR, `${name}.json`));
}

function temporalCli(): string {
  const cli = tool('temporal');
  if (!cli) throw new Error('saving histories needs the temporal CLI (scripts/setup.sh)');
  return cli;
}

/** Saves the run's history as test/histories/<name>.json (LONGHAUL_SAVE_HISTORIES=1, or =new if not there). */
export async function maybeSaveHistory(address: string, workflowId: string, name: string): Promise<void> {
  if (!wanted(name)) return;
  const { stdout } = await promisify(execFile)(
    temporalCli(),
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', address],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), stdout);
}

/**
 * Saves the history of the latest workflow of `workflowType` that `query` also matches (e.g. the entity
 * workflows and children a run started: the report semaphore, a Dailymotion window, the Datorama limiter).
 */
export async function maybeSaveHistoryOfType(
  address: string,
  workflowType: string,
  name: string,
  query = '',
): Promise<void> {
  if (!wanted(name)) return;
  const { stdout } = await promisify(execFile)(
    temporalCli(),
    [
      ...['workflow', 'list', '--address', address, '--output', 'json', '--limit', '1'],
      ...['--query', `WorkflowType="${workflowType}"${query ? ` AND ${query}` : ''}`],
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const [latest] = JSON.parse(stdout || '[]') as { execution: { workflowId: string } }[];
  if (!latest) throw new Error(`no ${workflowType} workflow to save as ${name}`);
  await maybeSaveHistory(address, latest.execution.workflowId, name);
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const text = (p: temporal.api.common.v1.IPayload | null | undefined): string | undefined =>
  p ? defaultPayloadConverter.fromPayload<string>(p) : undefined;

/** The summaries of a history's activity, timer and child-workflow events, in order, as "kind: summary". */
export function summaries(events: HistoryEvent[]): string[] {
  const kinds: [keyof HistoryEvent, string][] = [
    ['activityTaskScheduledEventAttributes', 'activity'],
    ['timerStartedEventAttributes', 'timer'],
    ['startChildWorkflowExecutionInitiatedEventAttributes', 'child'],
  ];
  return events.flatMap((e) => {
    const kind = kinds.find(([attr]) => e[attr]);
    const summary = text(e.userMetadata?.summary);
    return kind ? [`${kind[1]}: ${summary ?? '(none)'}`] : [];
  });
}
