/**
 * Workflow helpers shared by every pipeline: input validation as a non-retryable failure, progress (with the
 * Web UI's "current details" and the outcome memo), and activities whose calls carry a summary for the Web
 * UI timeline.
 */
import {
  ApplicationFailure,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { formatDuration } from '../shared/durations';
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
  private outcome?: string;
  private note?: string;
  private readonly searchable = workflowInfo().typedSearchAttributes.get(PIPELINE_ATTRIBUTE) !== undefined;

  constructor(pipeline: string, unit: string, total = 0) {
    const now = new Date().toISOString();
    this.state = { pipeline, phase: 'starting', done: 0, total, unit, counters: {}, startedAt: now, updatedAt: now };
    setHandler(progressQuery, () => this.state);
    this.setRunState('running');
    this.showDetails();
  }
  set(patch: Partial<Omit<Progress, 'counters'>>): void {
    Object.assign(this.state, patch, { updatedAt: new Date().toISOString() });
    if (!('waiting' in patch)) delete this.state.waiting;
    const phase = this.state.phase;
    this.setRunState(
      phase === 'done' ? 'done' : phase === 'failed' ? 'failed' : this.state.waiting ? 'waiting' : 'running',
    );
    this.showDetails();
  }
  /**
   * Records the run's outcome in one line in its memo (`outcome`), next to the `summary` the client wrote at
   * start: `longhaul status` / `list` and the Web UI show it. Guarded by a patch marker: histories recorded
   * before the memo existed replay without it.
   */
  finish(outcome: string): void {
    this.outcome = outcome;
    this.showDetails();
    if (patched('longhaul-outcome-memo')) upsertMemo({ outcome });
  }
  /**
   * A passing line under the progress in the Web UI's current details (e.g. "waiting for a call permit"),
   * or none. Only the metadata query shows it: no command, no search attribute, nothing in the history.
   */
  detail(line?: string): void {
    if (line === this.note) return;
    this.note = line;
    this.showDetails();
  }
  /** The Web UI's "current details" (workflow metadata query): the progress as a few Markdown lines. */
  private showDetails(): void {
    const details = progressDetails(this.state, workflowNow(), this.outcome);
    setCurrentDetails(this.note && !this.outcome ? `${details}\n\n${this.note}` : details);
  }
  private setRunState(s: RunState): void {
    if (!this.searchable || s === this.runState) return;
    this.runState = s;
    upsertSearchAttributes([{ key: STATE_ATTRIBUTE, value: s }]);
  }
  add(counter: string, n = 1): void {
    this.state.counters[counter] = (this.state.counters[counter] ?? 0) + n;
    this.state.updatedAt = new Date().toISOString();
    this.showDetails();
  }
}

/** A run's progress as the few Markdown lines the Web UI shows under "Current details". Pure. */
export function progressDetails(p: Progress, nowMs: number, outcome?: string): string {
  // "2 of 4", not "2/4": the Web UI's Markdown typesets a slash between numbers as a fraction.
  // One line each for what, why waiting, outcome: the UI's box shows about three lines.
  const counters = Object.entries(p.counters).map(([k, v]) => ` · ${k} ${thousands(v)}`);
  const lines = [`**${p.phase}** — ${p.done} of ${p.total} ${p.unit}${counters.join('')}`];
  if (p.waiting)
    lines.push(`waiting: ${p.waiting.reason}${p.waiting.until ? ` until ${untilText(p.waiting.until, nowMs)}` : ''}`);
  if (outcome) lines.push(`outcome: ${outcome}`);
  return lines.join('\n\n');
}

/** 1234567 → "1,234,567" (no Intl: the same text on every worker). */
export function thousands(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

/** "2026-01-02T08:00:00.000Z (in 5h12m)". */
export function untilText(iso: string, nowMs: number): string {
  const ms = Date.parse(iso) - nowMs;
  return `${iso} (${ms > 0 ? `in ${formatDuration(ms)}` : 'now'})`;
}

/** The tail of an account or key fingerprint for summaries: "fp-12ab34ab12" → "…ab12". */
export const tail = (id: string): string => `…${id.slice(-4)}`;

/**
 * Activities whose each call carries a one-line summary, shown on the Web UI timeline instead of the bare
 * activity type: `api('poll report 3 of window 2026-01-01..2026-01-30').reportStatus(token)`. The summary
 * is user metadata on the ScheduleActivityTask command (it does not change the command order, so histories
 * recorded without it still replay).
 */
export function describedActivities<A>(options: ActivityOptions): (summary: string) => ActivityInterfaceFor<A> {
  return (summary) => proxyActivities<A>({ ...options, summary });
}

/**
 * Workflow time in epoch ms. Inside a workflow, `Date` is Temporal's deterministic clock (the time of
 * the current workflow task, identical on replay); every workflow reads time through this one helper.
 */
export function workflowNow(): number {
  return new Date().getTime();
}

export const runId = () => workflowInfo().runId;
