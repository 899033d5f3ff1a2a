/** History budgets: the size of each run of a continue-as-new chain, checked against Temporal's thresholds. */
import { expect } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';

/** Temporal's warning thresholds per run (its hard limits are 5× these: 51,200 events, 50 MB). */
export const BUDGET = { events: 10_240, bytes: 10 * 1024 * 1024 };

export interface RunSize {
  events: number;
  bytes: number;
}

/** Every run of a workflow's continue-as-new chain, from its first, with its history's events and bytes. */
export async function chainSizes(
  env: TestWorkflowEnvironment,
  workflowId: string,
  firstRunId: string,
): Promise<RunSize[]> {
  const out: RunSize[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const h = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    out.push({ events: h.events?.length ?? 0, bytes: temporal.api.history.v1.History.encode(h).finish().length });
    runId = h.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

/** Every run within the budget, and at least `minRuns` of them (it continued as new before the budget). */
export function expectWithinBudget(what: string, runs: RunSize[], minRuns: number): void {
  const max = { events: Math.max(...runs.map((r) => r.events)), bytes: Math.max(...runs.map((r) => r.bytes)) };
  console.log(
    `[history budget] ${what}: ${runs.length} runs, largest ${max.events} events / ${(max.bytes / 1024).toFixed(0)} KiB ` +
      `(budget ${BUDGET.events} / ${BUDGET.bytes / 1024} KiB); runs: ${runs.map((r) => r.events).join(', ')} events`,
  );
  expect(runs.length).toBeGreaterThanOrEqual(minRuns);
  for (const r of runs) {
    expect(r.events).toBeLessThanOrEqual(BUDGET.events);
    expect(r.bytes).toBeLessThanOrEqual(BUDGET.bytes);
  }
}
