/** `longhaul status | list | result | cancel`. */
import type { Client } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import type { Config } from '../config';
import { PIPELINES } from '../pipelines';
import { isoDate } from '../shared/dates';
import { progressQuery, type Progress } from '../shared/messages';
import { ACCOUNT_ATTRIBUTE, RANGE_END_ATTRIBUTE, RANGE_START_ATTRIBUTE, RUN_STATES } from '../shared/search-attributes';
import { uiLink } from './connect';

export interface StatusReport {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime?: string;
  /** What the run is (memo `summary`, written by the client at start). */
  summary?: string;
  /** How it ended (memo `outcome`, written by the workflow at its end). */
  outcome?: string;
  /** The source account's fingerprint and the data's date range (search attributes LonghaulAccount, …Range…). */
  account?: string;
  range?: string;
  progress?: Progress;
  /** Why there is no progress, when a running run's query went unanswered. */
  note?: string;
  url: string;
}

/** The one-line summary and outcome kept in a run's memo. */
export function memoLines(memo: Record<string, unknown> | undefined): { summary?: string; outcome?: string } {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { summary: text(memo?.summary), outcome: text(memo?.outcome) };
}

/** The run's source account and data range, from its search attributes (when set). */
function attributeTags(a: TypedSearchAttributes): { account?: string; range?: string } {
  const [start, end] = [a.get(RANGE_START_ATTRIBUTE), a.get(RANGE_END_ATTRIBUTE)].map((d) =>
    d ? d.toISOString().slice(0, 10) : undefined,
  );
  const account = a.get(ACCOUNT_ATTRIBUTE);
  return { ...(account ? { account } : {}), ...(start || end ? { range: `${start ?? '…'}..${end ?? '…'}` } : {}) };
}

export async function status(
  client: Client,
  config: Config,
  workflowId: string,
  queryWaitMs = 5000,
): Promise<StatusReport> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  // A query is answered by a worker: with none polling the run's task queue it would hang (the server
  // waits), so it is abandoned after queryWaitMs.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), queryWaitMs);
  const progress = await client
    .withAbortSignal(abort.signal, () => handle.query(progressQuery))
    .catch(() => undefined)
    .finally(() => clearTimeout(timer));
  const answer = abort.signal.aborted ? 'no answer' : 'answered';
  const running = d.status.name === 'RUNNING';
  return {
    workflowId,
    runId: d.runId,
    type: d.type,
    status: d.status.name,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    ...memoLines(d.memo),
    ...attributeTags(d.typedSearchAttributes),
    progress,
    ...(answer === 'no answer' && running
      ? {
          note: `no worker answered the progress query within ${queryWaitMs / 1000} s: is a worker polling task queue "${d.taskQueue}"?`,
        }
      : {}),
    url: uiLink(config, workflowId, d.runId),
  };
}

export interface ListOptions {
  pipeline?: string;
  state?: string;
  /** The source account's fingerprint (LonghaulAccount), as `longhaul status` shows it. */
  account?: string;
  /** Runs whose data range overlaps [from, to] (ISO dates, inclusive; either may be left open). */
  from?: string;
  to?: string;
  limit?: number;
}

const quoted = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query of `longhaul list`; throws a clear error for an unknown pipeline, state or date. */
export function listQuery(opts: ListOptions): string | undefined {
  const clauses: string[] = [];
  if (opts.pipeline) {
    if (!PIPELINES[opts.pipeline])
      throw new Error(`Unknown pipeline "${opts.pipeline}" (known: ${Object.keys(PIPELINES).join(', ')})`);
    clauses.push(`LonghaulPipeline = '${opts.pipeline}'`);
  }
  if (opts.state) {
    const statuses = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'];
    const status = statuses.find((x) => x.toLowerCase() === opts.state!.toLowerCase());
    const runState = (RUN_STATES as readonly string[]).find((x) => x === opts.state!.toLowerCase());
    // `waiting` is longhaul's own state (a run waiting for a slot, a quota reset, a report); the others are
    // Temporal's execution statuses.
    if (runState === 'waiting') clauses.push(`LonghaulState = 'waiting'`);
    else if (status) clauses.push(`ExecutionStatus = '${status}'`);
    else throw new Error(`Unknown state "${opts.state}" (one of waiting, ${statuses.join(', ')})`);
  }
  if (opts.account !== undefined) {
    if (!opts.account.trim()) throw new Error('--account: give the fingerprint `longhaul status` shows');
    clauses.push(`LonghaulAccount = ${quoted(opts.account.trim())}`);
  }
  for (const [flag, v] of [
    ['from', opts.from],
    ['to', opts.to],
  ] as const)
    if (v !== undefined && !isoDate.safeParse(v).success)
      throw new Error(`--${flag} "${v}": expected a date as YYYY-MM-DD`);
  if (opts.from && opts.to && opts.from > opts.to) throw new Error(`--from ${opts.from} is after --to ${opts.to}`);
  // Overlap of [RangeStart, RangeEnd] with [from, to]: a run without a range never matches a range filter.
  if (opts.from) clauses.push(`LonghaulRangeEnd >= '${opts.from}T00:00:00Z'`);
  if (opts.to) clauses.push(`LonghaulRangeStart <= '${opts.to}T23:59:59.999Z'`);
  return clauses.join(' AND ') || undefined;
}

export async function list(client: Client, opts: ListOptions) {
  const query = listQuery(opts);
  const rows: {
    workflowId: string;
    type: string;
    status: string;
    startTime: string;
    summary?: string;
    outcome?: string;
    account?: string;
    range?: string;
  }[] = [];
  for await (const w of client.workflow.list({ query })) {
    rows.push({
      workflowId: w.workflowId,
      type: w.type,
      status: w.status.name,
      startTime: w.startTime.toISOString(),
      ...memoLines(w.memo),
      ...attributeTags(w.typedSearchAttributes),
    });
    if (rows.length >= (opts.limit ?? 50)) break;
  }
  return rows;
}

export async function result(client: Client, workflowId: string): Promise<unknown> {
  return client.workflow.getHandle(workflowId).result();
}

export async function cancel(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).cancel();
}
