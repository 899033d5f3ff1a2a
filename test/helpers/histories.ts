/**
 * Event histories of integration runs, kept under test/histories/ so the replay test can prove that the
 * current workflow code still replays them (determinism). Refresh with LONGHAUL_SAVE_HISTORIES=1 npm test.
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

/** Saves the run's history as test/histories/<name>.json when LONGHAUL_SAVE_HISTORIES=1. */
export async function maybeSaveHistory(address: string, workflowId: string, name: string): Promise<void> {
  if (process.env.LONGHAUL_SAVE_HISTORIES !== '1') return;
  const cli = tool('temporal');
  if (!cli) throw new Error('saving histories needs the temporal CLI (scripts/setup.sh)');
  const { stdout } = await promisify(execFile)(
    cli,
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', address],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), stdout);
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
