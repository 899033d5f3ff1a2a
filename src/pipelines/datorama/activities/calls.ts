/**
 * The Datorama platform-call activities, run by the worker of the `datorama` task queue (its server-side
 * activity rate limit is the backstop of the durable limiter). Each makes at most ONE platform call.
 * `datoramaSubmit` (process, rerun, rerun-all, patch) records the action as PENDING_SUBMIT before the
 * call and its outcome after; an attempt that finds an unanswered PENDING_SUBMIT does not call again but
 * reports the action uncertain, and `datoramaReconcile` then looks (one call) whether it was applied.
 * The PENDING_SUBMIT row is this attempt's claim: it names its owner (workflow run, activity ID, attempt)
 * and is read back after it is written; the call happens only if every claim read back is this attempt's,
 * and only while the attempt is neither cancelled nor past (or near) its start-to-close deadline — a
 * timed-out attempt that still runs (a slow warehouse) never calls after its successor started.
 * Every call activity heartbeats while it runs, and checks the attempt is still live right before any
 * HTTP call (`guardedClient`).
 * A 429 → the limiter is told to hold everyone, and the activity fails with `nextRetryDelay` = the reset
 * the headers give.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { chaosPoint } from '../../../kit/activity/chaos-points';
import type { Deps } from '../../../activities/deps';
import { createDatoramaClient, type DatoramaResponse, type RateLimitInfo } from '../connector/client';
import { DatoramaAuthError, DatoramaError, DatoramaRateLimitedError } from '../connector/errors';
import { assertAttemptLive as assertLive, heartbeating } from '../../../kit/activity/heartbeat';
import { toActivityFailure } from '../../../kit/activity/http';
import { actionKey, actionKeys, jobOfKey, type SubmitAction } from '../keys';
import type { DatoramaJob } from '../connector/schemas';
import { limiterBlockSignal, type ObservedLimits } from '../shared';
import { fromArray, type Row } from '../../../sinks/warehouse';
import {
  CHANGES_TABLE,
  DatoramaRecords,
  isoTime,
  JOBS_TABLE,
  STREAMS_TABLE,
  WORKSPACES_TABLE,
  type ActionState,
} from './tables';

export type { SubmitAction };

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
  stream: number;
  start?: string;
  end?: string;
  status?: string;
}

export interface SubmitOutcome {
  kind: 'done' | 'failed' | 'uncertain' | 'skipped' | 'not-submitted';
  /** Whether a platform call was made (a recorded outcome is returned without one). */
  called: boolean;
  /** The action keys this outcome is about. */
  keys: string[];
  jobs: JobRef[];
  httpStatus?: number;
  message?: string;
  observed?: ObservedLimits;
}

const observedOf = (l: RateLimitInfo): ObservedLimits => ({
  minuteRemaining: l.minuteRemaining,
  minuteReset: l.minuteReset,
  dayLimit: l.dayLimit,
  dayRemaining: l.dayRemaining,
  dayReset: l.dayReset,
});

const jobRef = (j: DatoramaJob, stream: number): JobRef => ({
  id: j.id,
  stream: j.dataStreamId ?? stream,
  start: j.dataStartDate ?? undefined,
  end: j.dataEndDate ?? undefined,
  status: j.status,
});

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The unique owner of the running attempt: workflow run, activity ID and attempt number. */
export function attemptOwner(): string {
  const i = Context.current().info;
  return `${i.workflowExecution?.runId ?? '-'}/${i.activityId}#${i.attempt}`;
}

/** Before a platform call: this attempt must still own it (src/kit/activity/heartbeat.ts). */
export const assertAttemptLive = () => assertLive('Datorama call');

/** Runs a call activity's body heartbeating every few seconds (the server's cancellation reaches it soon). */
async function heartbeatingCall<T>(fn: () => Promise<T>): Promise<T> {
  return heartbeating(fn, { maxEveryMs: 5_000 });
}

export function createDatoramaCallActivities({ config, warehouse }: Pick<Deps, 'config' | 'warehouse'>) {
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

  function logRows(ctx: CallContext, rows: Omit<Row, 'run_key' | 'run_id' | 'op' | 'at'>[]): Row[] {
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
    const rows: Omit<Row, 'run_key' | 'run_id' | 'op' | 'at'>[] = [];
    for (const k of keys) {
      const mine =
        action.kind === 'rerun'
          ? jobs.filter((j) => actionKey.rerun(j.stream, j.id) === k.key)
          : jobs.filter((j) => j.stream === k.stream);
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
      if (mine.length === 0) rows.push(base);
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

  const activities = {
    /** Submits one call's actions (see the file header for the record it keeps). */
    async datoramaSubmit(args: CallContext & { action: SubmitAction }): Promise<SubmitOutcome> {
      const { action } = args;
      const all = actionKeys(action);
      const known = await records.actions(
        args.runKey,
        args.runId,
        all.map((k) => k.key),
      );
      const uncertain = all.filter((k) => known.get(k.key)?.state === 'PENDING_SUBMIT');
      if (uncertain.length)
        return {
          kind: 'uncertain',
          called: false,
          keys: uncertain.map((k) => k.key),
          jobs: [],
          message: 'unanswered earlier call',
        };
      const todo = all.filter((k) => known.get(k.key)?.state !== 'SUBMITTED');
      if (!todo.length) {
        // Submitted already: by an earlier attempt of this very call (its answer was lost), or an earlier run.
        const mine = all.every((k) => known.get(k.key)?.run_id === args.runId);
        return { kind: mine ? 'done' : 'skipped', called: false, keys: all.map((k) => k.key), jobs: [] };
      }
      const act: SubmitAction =
        action.kind === 'process'
          ? { ...action, streams: todo.map((k) => k.stream) }
          : action.kind === 'rerun'
            ? { ...action, jobs: todo.map((k) => jobOfKey(k.key)) }
            : action;
      const keys = todo.map((k) => k.key);
      // The claim: PENDING_SUBMIT naming this attempt, written, then read back. Another attempt's claim read
      // back (it wrote after us, or its write landed late) → no call: the workflow checks with the API.
      const claim = `claimed by ${attemptOwner()}`;
      await records.setActions(
        args.runKey,
        args.runId,
        args.op,
        todo.map((k) => ({
          key: k.key,
          stream: k.stream,
          state: 'PENDING_SUBMIT',
          attemptAt: args.grantedAt,
          message: claim,
        })),
      );
      const back = await records.actions(args.runKey, args.runId, keys);
      if (!todo.every((k) => back.get(k.key)?.state === 'PENDING_SUBMIT' && back.get(k.key)?.message === claim))
        return { kind: 'uncertain', called: false, keys, jobs: [], message: 'claimed by another attempt' };
      if (act.kind === 'patch')
        await warehouse.load(
          CHANGES_TABLE,
          fromArray([
            {
              run_id: args.runId,
              run_key: args.runKey,
              stream_id: act.stream,
              previous: JSON.stringify(act.previous),
              applied: JSON.stringify(act.fields),
              at: new Date().toISOString(),
            },
          ]),
        );
      try {
        assertAttemptLive();
        chaosPoint('datorama.call.after-claim');
        const res = await call(act);
        chaosPoint('datorama.call.after-call');
        const jobs =
          act.kind === 'patch'
            ? []
            : (res.data as DatoramaJob[]).map((j) => jobRef(j, act.kind === 'process' ? act.streams[0] : act.stream));
        await settle(args, act, todo, 'SUBMITTED', res.status, jobs);
        return { kind: 'done', called: true, keys, jobs, httpStatus: res.status, observed: observedOf(res.limits) };
      } catch (err) {
        if (err instanceof DatoramaRateLimitedError) {
          await records.setActions(
            args.runKey,
            args.runId,
            args.op,
            todo.map((k) => ({ key: k.key, stream: k.stream, state: 'NOT_SUBMITTED', http: 429 })),
          );
          return rateLimited(err, args);
        }
        if (err instanceof DatoramaAuthError) {
          await records.setActions(
            args.runKey,
            args.runId,
            args.op,
            todo.map((k) => ({ key: k.key, stream: k.stream, state: 'NOT_SUBMITTED', http: err.status })),
          );
          throw toActivityFailure(err);
        }
        if (err instanceof DatoramaError && err.ambiguous) {
          // Maybe applied, maybe not: keep PENDING_SUBMIT; the workflow checks before submitting again.
          await records.log(
            logRows(
              args,
              todo.map((k) => ({
                action_key: k.key,
                stream_id: k.stream,
                status: 'UNCERTAIN',
                http_status: err.status,
                message: err.message,
                start_date: act.kind === 'process' ? act.start : undefined,
                end_date: act.kind === 'process' ? act.end : undefined,
              })),
            ),
          );
          return { kind: 'uncertain', called: true, keys, jobs: [], httpStatus: err.status, message: err.message };
        }
        if (err instanceof DatoramaError) {
          await settle(args, act, todo, 'FAILED', err.status, [], err.message);
          return { kind: 'failed', called: true, keys, jobs: [], httpStatus: err.status, message: err.message };
        }
        throw err;
      }
    },

    /**
     * One call to find out whether an unanswered submit of ONE stream's action was applied: its jobs
     * (created or rerun since the attempt) or its fields (patch). Records SUBMITTED or NOT_SUBMITTED.
     */
    async datoramaReconcile(args: CallContext & { action: SubmitAction }): Promise<SubmitOutcome> {
      const { action } = args;
      const all = actionKeys(action);
      const known = await records.actions(
        args.runKey,
        args.runId,
        all.map((k) => k.key),
      );
      const keys = all.filter((k) => known.get(k.key)?.state === 'PENDING_SUBMIT');
      if (!keys.length) {
        const ofRun = (state: ActionState) =>
          all.filter((k) => known.get(k.key)?.state === state && known.get(k.key)?.run_id === args.runId);
        // Settled meanwhile by another attempt of this run (whose claim made ours stand back): count it.
        const done = ofRun('SUBMITTED');
        if (done.length) return { kind: 'done', called: false, keys: done.map((k) => k.key), jobs: [] };
        // Checked already by an earlier attempt of this check, whose answer was lost (the worker died after
        // recording "not applied"): the same answer again, so the workflow submits it — not "nothing to do".
        const notApplied = ofRun('NOT_SUBMITTED');
        if (notApplied.length)
          return { kind: 'not-submitted', called: false, keys: notApplied.map((k) => k.key), jobs: [] };
        // Submitted by an earlier run (the same run key): nothing to do, counted as skipped. Any other key (no
        // record of this run at all) is handed back to the submit, which decides from the records.
        const earlier = all.filter((k) => known.get(k.key)?.state === 'SUBMITTED');
        if (earlier.length) return { kind: 'skipped', called: false, keys: earlier.map((k) => k.key), jobs: [] };
        return { kind: 'not-submitted', called: false, keys: all.map((k) => k.key), jobs: [] };
      }
      const since = Math.min(...keys.map((k) => known.get(k.key)!.attempt_at ?? 0));
      try {
        let applied: boolean;
        let jobs: JobRef[] = [];
        let res: DatoramaResponse<unknown>;
        if (action.kind === 'patch') {
          res = await client.getStream(action.stream);
          const s = res.data as Record<string, unknown>;
          applied = Object.entries(action.fields).every(([k, v]) => sameValue(s[k], v));
        } else if (action.kind === 'rerun') {
          // A rerun call is applied as a whole: its first job's stat tells. The workflow checks one job at a
          // time, so that stat also gives the job's dates (an older run's batch check lacks the others' dates).
          const r = await client.getStat(action.jobs[0]);
          res = r;
          applied = (r.data.updateTime ?? 0) >= since;
          if (applied)
            jobs = action.jobs.map((id, i) =>
              i === 0 ? jobRef(r.data, action.stream) : { id, stream: action.stream },
            );
        } else {
          const stream = action.kind === 'process' ? action.streams[0] : action.stream;
          const r = await client.streamStats(stream, 1, action.kind === 'process' ? 100 : 1000);
          res = r;
          const found = r.data.filter((j) =>
            action.kind === 'process'
              ? (j.createTime ?? 0) >= since &&
                (j.dataStartDate ?? '') >= action.start &&
                (j.dataEndDate ?? '9999') <= action.end
              : (j.updateTime ?? 0) >= since,
          );
          // Only a trace counts. A rerun-all of a stream without jobs leaves none: whether the unanswered call
          // reached the platform cannot be told, so it is sent again — a second rerun of no job changes
          // nothing, whereas counting it done would record SUBMITTED a call that may never have been made
          // (the worker killed between the claim and the call: the platform never reran the stream).
          applied = found.length > 0;
          jobs = found.map((j) => jobRef(j, stream));
        }
        if (applied) {
          await settle(args, action, keys, 'SUBMITTED', res.status, jobs, 'found applied after an unanswered call');
          return {
            kind: 'done',
            called: true,
            keys: keys.map((k) => k.key),
            jobs,
            httpStatus: res.status,
            observed: observedOf(res.limits),
          };
        }
        await records.setActions(
          args.runKey,
          args.runId,
          args.op,
          keys.map((k) => ({ key: k.key, stream: k.stream, state: 'NOT_SUBMITTED', message: 'checked: not applied' })),
        );
        chaosPoint('datorama.reconcile.after-record');
        return {
          kind: 'not-submitted',
          called: true,
          keys: keys.map((k) => k.key),
          jobs: [],
          observed: observedOf(res.limits),
        };
      } catch (err) {
        if (err instanceof DatoramaRateLimitedError) return rateLimited(err, args);
        if (err instanceof DatoramaAuthError) throw toActivityFailure(err);
        throw err;
      }
    },

    /** GET a stream: the current values of `fields` (what a rename/patch records to undo). */
    async datoramaReadStream(
      args: CallContext & { stream: number; fields: string[] },
    ): Promise<{ found: boolean; values: Record<string, unknown>; httpStatus: number; observed?: ObservedLimits }> {
      try {
        const res = await client.getStream(args.stream);
        const s = res.data as Record<string, unknown>;
        return {
          found: true,
          values: Object.fromEntries(args.fields.map((f) => [f, s[f] ?? null])),
          httpStatus: res.status,
          observed: observedOf(res.limits),
        };
      } catch (err) {
        if (err instanceof DatoramaRateLimitedError) return rateLimited(err, args);
        if (err instanceof DatoramaAuthError) throw toActivityFailure(err);
        if (err instanceof DatoramaError && !err.ambiguous && err.status)
          return { found: false, values: {}, httpStatus: err.status };
        throw err;
      }
    },

    /** Bulk status of some streams of a workspace: jobs still PENDING or IN_PROGRESS (workspace throttle). */
    async datoramaRunningJobs(
      args: CallContext & { workspaceId: number; streams: number[] },
    ): Promise<{ running: number; observed?: ObservedLimits }> {
      try {
        const res = await client.streamsStatus(args.workspaceId, args.streams);
        const running = res.data.reduce(
          (n, s) => n + (s.processStatsCounts?.IN_PROGRESS ?? 0) + (s.processStatsCounts?.PENDING ?? 0),
          0,
        );
        return { running, observed: observedOf(res.limits) };
      } catch (err) {
        if (err instanceof DatoramaRateLimitedError) return rateLimited(err, args);
        throw err;
      }
    },

    /**
     * One collect call: the workspace list, the streams of a workspace, or one page of a stream's jobs.
     * Rows are merged on id into the warehouse; the result says what the next calls are.
     */
    async datoramaCollectCall(
      args: CallContext &
        (
          | { what: 'workspaces' }
          | { what: 'streams'; workspaceId: number }
          | { what: 'jobs'; streamId: number; page: number; pageSize: number }
        ),
    ): Promise<{
      rows: number;
      workspaces?: number[];
      streams?: { id: number; workspaceId: number; jobs: number }[];
      lastPage?: boolean;
      httpStatus: number;
      observed?: ObservedLimits;
    }> {
      const now = new Date().toISOString();
      const logCall = (http: number, rows: number) =>
        records.log(
          logRows(args, [
            {
              action_key:
                args.what === 'workspaces'
                  ? actionKey.collectWorkspaces()
                  : args.what === 'streams'
                    ? actionKey.collectStreams(args.workspaceId)
                    : actionKey.collectPage(args.streamId, args.page),
              stream_id: args.what === 'jobs' ? args.streamId : undefined,
              status: 'COLLECTED',
              http_status: http,
              message: `${rows} ${args.what}`,
            },
          ]),
        );
      try {
        if (args.what === 'workspaces') {
          const res = await client.listWorkspaces();
          await warehouse.load(
            WORKSPACES_TABLE,
            fromArray(
              res.data.map((w) => ({
                id: w.id,
                name: w.name,
                create_time: isoTime(w.createTime),
                update_time: isoTime(w.updateTime),
                raw: JSON.stringify(w),
                collected_at: now,
              })),
            ),
          );
          await logCall(res.status, res.data.length);
          return {
            rows: res.data.length,
            workspaces: res.data.map((w) => w.id),
            httpStatus: res.status,
            observed: observedOf(res.limits),
          };
        }
        if (args.what === 'streams') {
          const res = await client.listStreams(args.workspaceId);
          await warehouse.load(
            STREAMS_TABLE,
            fromArray(
              res.data.map((s) => ({
                id: s.id,
                workspace_id: s.workspaceId,
                name: s.name,
                data_source_name: s.dataSourceName,
                enabled: s.enabled,
                last_run_status: s.lastRunStatus,
                last_data_date: s.lastDataDate,
                last_rows_processed: s.lastRowsProcessed,
                process_stats_counts: JSON.stringify(s.processStatsCounts ?? null),
                raw: JSON.stringify(s),
                collected_at: now,
              })),
            ),
          );
          await logCall(res.status, res.data.length);
          return {
            rows: res.data.length,
            streams: res.data.map((s) => ({
              id: s.id,
              workspaceId: s.workspaceId,
              jobs: Object.values(s.processStatsCounts ?? {}).reduce((a, b) => a + b, 0),
            })),
            httpStatus: res.status,
            observed: observedOf(res.limits),
          };
        }
        const res = await client.streamStats(args.streamId, args.page, args.pageSize);
        await warehouse.load(
          JOBS_TABLE,
          fromArray(
            res.data.map((j) => ({
              id: j.id,
              stream_id: j.dataStreamId ?? args.streamId,
              status: j.status,
              data_start_date: j.dataStartDate,
              data_end_date: j.dataEndDate,
              create_time: isoTime(j.createTime),
              update_time: isoTime(j.updateTime),
              rows_processed: j.rowsProcessed,
              process_log: j.processLog,
              raw: JSON.stringify(j),
              collected_at: now,
            })),
          ),
        );
        await logCall(res.status, res.data.length);
        return {
          rows: res.data.length,
          lastPage: res.data.length < args.pageSize,
          httpStatus: res.status,
          observed: observedOf(res.limits),
        };
      } catch (err) {
        if (err instanceof DatoramaRateLimitedError) return rateLimited(err, args);
        if (err instanceof DatoramaAuthError) throw toActivityFailure(err);
        if (err instanceof DatoramaError && !err.ambiguous)
          throw ApplicationFailure.nonRetryable(err.message, 'DatoramaRefused');
        throw err;
      }
    },
  };
  // Every call activity heartbeats while it runs (they are scheduled with a heartbeat timeout).
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...a: unknown[]) => heartbeatingCall(() => (fn as (...x: unknown[]) => Promise<unknown>)(...a)),
    ]),
  ) as typeof activities;
}

export type DatoramaCallActivities = ReturnType<typeof createDatoramaCallActivities>;
