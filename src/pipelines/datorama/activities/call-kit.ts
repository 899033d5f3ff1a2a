/**
 * What every Datorama platform-call activity shares: the call context a workflow passes (run, op, limiter,
 * permit time), the client guarded so that only a live attempt calls (src/kit/activity/heartbeat.ts), the
 * action records and the job log, the answer to a 429 (the limiter holds everyone until the reset) and the
 * one translation of an API error into the activity's failure.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Deps } from '../../../activities/deps';
import { createDatoramaClient, type DatoramaResponse, type RateLimitInfo } from '../connector/client';
import { DatoramaAuthError, DatoramaRateLimitedError } from '../connector/errors';
import { assertAttemptLive as assertLive } from '../../../kit/activity/heartbeat';
import { toActivityFailure } from '../../../kit/activity/http';
import { actionKey, type SubmitAction } from '../keys';
import type { DatoramaJob } from '../connector/schemas';
import { limiterBlockSignal, type ObservedLimits } from '../shared';
import type { Row } from '../../../sinks/warehouse';
import { DatoramaRecords, type ActionState } from './tables';

export interface CallContext {
  runKey: string;
  runId: string;
  op: string;
  limiterId: string;
  /** Workflow time of the permit: the call happens after it (the API's clock and ours agree). */
  grantedAt: number;
}

export interface JobRef {
  id: number;
  /** Undefined: the answer did not say (a job of a multi-stream process answer without `dataStreamId`). */
  stream?: number;
  start?: string;
  end?: string;
  status?: string;
}

export interface SubmitOutcome {
  kind: 'done' | 'failed' | 'uncertain' | 'skipped' | 'not-submitted';
  /** Whether a platform call was made (a recorded outcome is returned without one). */
  called: boolean;
  /** How many platform calls were made, when more than one (a rerun's check reads the job, then its stream). */
  calls?: number;
  /** The action keys this outcome is about. */
  keys: string[];
  jobs: JobRef[];
  httpStatus?: number;
  message?: string;
  observed?: ObservedLimits;
}

/** A job-log row before the run's columns (run_key, run_id, op, at) are added. */
export type LogRow = Omit<Row, 'run_key' | 'run_id' | 'op' | 'at'>;

export const observedOf = (l: RateLimitInfo): ObservedLimits => ({
  minuteRemaining: l.minuteRemaining,
  minuteReset: l.minuteReset,
  dayLimit: l.dayLimit,
  dayRemaining: l.dayRemaining,
  dayReset: l.dayReset,
});

export const jobRef = (j: DatoramaJob, stream: number | undefined): JobRef => ({
  id: j.id,
  stream: j.dataStreamId ?? stream,
  start: j.dataStartDate ?? undefined,
  end: j.dataEndDate ?? undefined,
  status: j.status,
});

/** The unique owner of the running attempt: workflow run, activity ID and attempt number. */
export function attemptOwner(): string {
  const i = Context.current().info;
  return `${i.workflowExecution?.runId ?? '-'}/${i.activityId}#${i.attempt}`;
}

/** Before a platform call: this attempt must still own it (src/kit/activity/heartbeat.ts). */
export const assertAttemptLive = () => assertLive('Datorama call');

export type CallKit = ReturnType<typeof createCallKit>;

export function createCallKit({ config, warehouse }: Pick<Deps, 'config' | 'warehouse'>) {
  const raw = createDatoramaClient(config);
  const records = new DatoramaRecords(warehouse);
  /** The client, checking before each HTTP call that the running attempt is still live. */
  const client = new Proxy(raw, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => {
        assertAttemptLive();
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });

  /** A 429 holds every caller until the reset, then this activity is retried after it. */
  async function rateLimited(err: DatoramaRateLimitedError, ctx: CallContext): Promise<never> {
    try {
      await Context.current().client.workflow.getHandle(ctx.limiterId).signal(limiterBlockSignal, {
        until: err.resetAt,
        scope: err.scope,
      });
    } catch {
      // the limiter is between runs: the retry delay below still holds this call back
    }
    const delayMs = Math.max(1_000, err.resetAt - ctx.grantedAt + 1_000);
    throw ApplicationFailure.create({
      message: `${err.message} (${err.scope} limit; reset at ${new Date(err.resetAt).toISOString()})`,
      type: 'DatoramaRateLimited',
      nextRetryDelay: delayMs,
      details: [{ resetAt: err.resetAt, scope: err.scope }],
    });
  }

  /**
   * The failures every call answers alike: a 429 (the limiter is told, the retry waits for the reset) and a
   * refused token (no retry helps: the run fails). Returns for any other error; the caller decides.
   */
  async function commonFailure(err: unknown, ctx: CallContext): Promise<void> {
    if (err instanceof DatoramaRateLimitedError) return rateLimited(err, ctx);
    if (err instanceof DatoramaAuthError) throw toActivityFailure(err);
  }

  function logRows(ctx: CallContext, rows: LogRow[]): Row[] {
    const at = new Date().toISOString();
    return rows.map((r) => ({
      run_key: ctx.runKey,
      run_id: ctx.runId,
      op: ctx.op,
      at,
      ...r,
      // An action is SUBMITTED once per run: its row key leaves out the call's time, so recording it again
      // (a call logged, then the worker killed before the action's state was saved, then found applied by
      // the retry's check) merges onto the same row. Other events (FAILED, UNCERTAIN, …) keep one row a call.
      row_key:
        r.status === 'SUBMITTED'
          ? `${String(r.action_key)}|${String(r.job_id ?? '')}|SUBMITTED`
          : `${String(r.action_key)}|${String(r.job_id ?? '')}|${ctx.grantedAt}`,
    }));
  }

  /** Job-log rows and final action states for a call that was answered (or found applied). */
  async function settle(
    ctx: CallContext,
    action: SubmitAction,
    keys: { key: string; stream: number }[],
    state: ActionState,
    http: number | undefined,
    jobs: JobRef[],
    message?: string,
  ): Promise<void> {
    const rows: LogRow[] = [];
    for (const k of keys) {
      const mine =
        action.kind === 'rerun'
          ? jobs.filter((j) => actionKey.rerun(j.stream ?? k.stream, j.id) === k.key)
          : jobs.filter((j) => j.stream === k.stream);
      // Jobs the answer did not name a stream for (a multi-stream process): said on every stream's row, never
      // given to one stream by guess.
      const unnamed = jobs.filter((j) => j.stream === undefined);
      const status = state === 'SUBMITTED' ? 'SUBMITTED' : state === 'FAILED' ? 'FAILED' : 'UNCERTAIN';
      const base = {
        action_key: k.key,
        stream_id: k.stream,
        status,
        http_status: http,
        message,
        start_date: action.kind === 'process' ? action.start : undefined,
        end_date: action.kind === 'process' ? action.end : undefined,
      };
      if (mine.length === 0)
        rows.push(
          unnamed.length
            ? {
                ...base,
                message:
                  (base.message ? `${base.message}; ` : '') +
                  `${unnamed.length} job(s) of this call, for ${keys.length} streams, name no stream: ` +
                  `${unnamed
                    .slice(0, 20)
                    .map((j) => j.id)
                    .join(', ')}${unnamed.length > 20 ? ', …' : ''}`,
              }
            : base,
        );
      for (const j of mine) rows.push({ ...base, job_id: j.id, start_date: j.start, end_date: j.end });
    }
    await records.log(logRows(ctx, rows));
    await records.setActions(
      ctx.runKey,
      ctx.runId,
      ctx.op,
      keys.map((k) => ({ key: k.key, stream: k.stream, state, attemptAt: ctx.grantedAt, http, message })),
    );
  }

  /** The one platform call that applies an action. */
  async function call(action: SubmitAction): Promise<DatoramaResponse<DatoramaJob[] | Record<string, unknown>>> {
    switch (action.kind) {
      case 'process':
        return action.streams.length === 1
          ? client.processStream(action.streams[0], action.start, action.end)
          : client.processStreams(action.streams, action.start, action.end);
      case 'rerun':
        return client.rerunJobs(action.stream, action.jobs);
      case 'rerun-all':
        return client.rerunAll(action.stream);
      case 'patch':
        return client.patchStream(action.stream, action.fields);
    }
  }

  return { client, records, warehouse, rateLimited, commonFailure, logRows, settle, call };
}
