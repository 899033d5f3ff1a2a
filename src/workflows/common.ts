/** Workflow helpers shared by every pipeline: input validation as a non-retryable failure, progress. */
import { ApplicationFailure, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { progressQuery, type Progress } from '../shared/messages';
import { PIPELINE_ATTRIBUTE, STATE_ATTRIBUTE, type RunState } from '../shared/search-attributes';
import { formatIssues } from '../shared/validation';

/** Validates the workflow input again inside the workflow: bad input fails the run at once, never retried. */
export function validateInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const res = schema.safeParse(input);
  if (!res.success) {
    throw ApplicationFailure.nonRetryable(`Invalid input: ${formatIssues(res.error)}`, 'InvalidInput');
  }
  return res.data;
}

/**
 * Holds a run's progress and answers the shared `progress` query. For runs started by the `longhaul` client
 * (which sets the LonghaulPipeline search attribute), it also keeps the LonghaulState search attribute
 * current (running / waiting / done / failed), for filtering in the Web UI and `longhaul list --state`.
 */
export class ProgressTracker {
  readonly state: Progress;
  private runState?: RunState;
  private readonly searchable = workflowInfo().typedSearchAttributes.get(PIPELINE_ATTRIBUTE) !== undefined;

  constructor(pipeline: string, unit: string, total = 0) {
    const now = new Date().toISOString();
    this.state = { pipeline, phase: 'starting', done: 0, total, unit, counters: {}, startedAt: now, updatedAt: now };
    setHandler(progressQuery, () => this.state);
    this.setRunState('running');
  }
  set(patch: Partial<Omit<Progress, 'counters'>>): void {
    Object.assign(this.state, patch, { updatedAt: new Date().toISOString() });
    if (!('waiting' in patch)) delete this.state.waiting;
    const phase = this.state.phase;
    this.setRunState(
      phase === 'done' ? 'done' : phase === 'failed' ? 'failed' : this.state.waiting ? 'waiting' : 'running',
    );
  }
  private setRunState(s: RunState): void {
    if (!this.searchable || s === this.runState) return;
    this.runState = s;
    upsertSearchAttributes([{ key: STATE_ATTRIBUTE, value: s }]);
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
