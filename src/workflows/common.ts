/** Workflow helpers shared by every pipeline: input validation as a non-retryable failure, progress. */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { progressQuery, type Progress } from '../shared/messages';
import { formatIssues } from '../shared/validation';

/** Validates the workflow input again inside the workflow: bad input fails the run at once, never retried. */
export function validateInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const res = schema.safeParse(input);
  if (!res.success) {
    throw ApplicationFailure.nonRetryable(`Invalid input: ${formatIssues(res.error)}`, 'InvalidInput');
  }
  return res.data;
}

/** Holds a run's progress and answers the shared `progress` query. */
export class ProgressTracker {
  readonly state: Progress;
  constructor(pipeline: string, unit: string, total = 0) {
    const now = new Date().toISOString();
    this.state = { pipeline, phase: 'starting', done: 0, total, unit, counters: {}, startedAt: now, updatedAt: now };
    setHandler(progressQuery, () => this.state);
  }
  set(patch: Partial<Omit<Progress, 'counters'>>): void {
    Object.assign(this.state, patch, { updatedAt: new Date().toISOString() });
    if (!('waiting' in patch)) delete this.state.waiting;
  }
  add(counter: string, n = 1): void {
    this.state.counters[counter] = (this.state.counters[counter] ?? 0) + n;
    this.state.updatedAt = new Date().toISOString();
  }
}

/**
 * Workflow time in epoch ms. Inside a workflow, `Date` is Temporal's deterministic clock (the time of
 * the current workflow task, identical on replay); every workflow reads time through this one helper.
 */
export function workflowNow(): number {
  return new Date().getTime();
}

export const runId = () => workflowInfo().runId;
