/** `longhaul status | list | result | cancel`. */
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { PIPELINES } from '../pipelines';
import { progressQuery, type Progress } from '../shared/messages';
import { RUN_STATES } from '../shared/search-attributes';
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
    progress,
    ...(answer === 'no answer' && running
      ? {
          note: `no worker answered the progress query within ${queryWaitMs / 1000} s: is a worker polling task queue "${d.taskQueue}"?`,
        }
      : {}),
    url: uiLink(config, workflowId, d.runId),
  };
}

export async function list(client: Client, opts: { pipeline?: string; state?: string; limit?: number }) {
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
  const rows: {
    workflowId: string;
    type: string;
    status: string;
    startTime: string;
    summary?: string;
    outcome?: string;
  }[] = [];
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') || undefined })) {
    rows.push({
      workflowId: w.workflowId,
      type: w.type,
      status: w.status.name,
      startTime: w.startTime.toISOString(),
      ...memoLines(w.memo),
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
