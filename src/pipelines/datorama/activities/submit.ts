/**
 * Submitting an action and checking an unanswered one (see calls.ts for the record both keep):
 * `datoramaSubmit` claims the action (PENDING_SUBMIT naming this attempt), calls once and records the
 * outcome; `datoramaReconcile` asks the API whether an unanswered call was applied and records the answer.
 */
import { chaosPoint } from '../../../kit/activity/chaos-points';
import { DatoramaAuthError, DatoramaError, DatoramaRateLimitedError } from '../connector/errors';
import { toActivityFailure } from '../../../kit/activity/http';
import { actionKeys, jobOfKey, type SubmitAction } from '../keys';
import type { DatoramaJob } from '../connector/schemas';
import type { DatoramaResponse } from '../connector/client';
import { fromArray } from '../../../sinks/warehouse';
import { ACTIONS_TABLE, CHANGES_TABLE, type ActionState } from './tables';
import {
  assertAttemptLive,
  attemptOwner,
  jobRef,
  observedOf,
  type CallContext,
  type CallKit,
  type JobRef,
  type SubmitOutcome,
} from './call-kit';

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** How long after its claim a rerun's check may still answer "cannot tell yet" (a PENDING job); then: not applied. */
const MAYBE_MAX_MS = 6 * 60 * 60_000;

/** A job created this long before a claim has started before it: a start after the claim is a restart. */
const QUEUE_MS = 60 * 60_000;

/** How a check reads a rerun's trace: applied, not applied, or maybe (a job that may still be restarting). */
interface RerunTrace {
  verdict: 'applied' | 'not-applied' | 'maybe';
  why?: string;
  jobs: JobRef[];
  res: DatoramaResponse<unknown>;
  /** Platform calls made (a rerun's: the job's stat, and the stream's jobs when the stat shows no restart). */
  calls: number;
}

export function createDatoramaSubmitActivities({
  client,
  records,
  warehouse,
  rateLimited,
  commonFailure,
  logRows,
  settle,
  call,
}: CallKit) {
  /** The call's action, its keys, and what the records say of each key for this workflow ID. */
  async function recorded(args: CallContext & { action: SubmitAction }) {
    const all = actionKeys(args.action);
    const known = await records.actions(
      args.runKey,
      args.runId,
      all.map((k) => k.key),
    );
    return { action: args.action, all, known };
  }

  /**
   * Whether any run recorded a process of this stream from a minute before `since` on: the jobs it made explain
   * new jobs of the stream, which then are no trace of a rerun (a rerun that makes new jobs looks the same).
   */
  async function processedSince(stream: number, since: number): Promise<boolean> {
    await warehouse.ensureTable(ACTIONS_TABLE);
    const rows = await warehouse.select<{ n: number }>(ACTIONS_TABLE, {
      where: { stream_id: stream, action_key: { prefix: 'p:' }, attempt_at: { gte: since - 60_000 } },
      aggregates: { n: { count: true } },
    });
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /**
   * The trace of an unanswered rerun (one job) or rerun-all (every job of the stream created before the claim),
   * read so that none of the API behaviours we infer is relied on (docs/datorama.md, "Assumptions"): a job rerun
   * in place moves its updateTime — or, if it does not, its startTime (for a job created over QUEUE_MS before
   * the claim, whose first start that cannot be); a rerun that makes new jobs leaves one with the same dates,
   * created since the claim, that no recorded process explains. Every job must show one (a rerun-all restarts
   * them all: one alone may be another run's doing). A job that shows none but is PENDING may be restarting
   * without showing it yet: `maybe`, and the workflow looks again later. Anything else: not applied.
   */
  async function rerunTrace(
    action: Extract<SubmitAction, { kind: 'rerun' | 'rerun-all' }>,
    since: number,
  ): Promise<RerunTrace> {
    const stream = action.stream;
    const old = (j: DatoramaJob) => (j.createTime ?? 0) < since - QUEUE_MS;
    const restarted = (j: DatoramaJob) => (j.updateTime ?? 0) >= since || (old(j) && (j.startTime ?? 0) >= since);
    const queued = (j: DatoramaJob) => old(j) && j.status === 'PENDING' && !j.startTime;
    let res: DatoramaResponse<unknown>;
    let targets: DatoramaJob[];
    let listed: DatoramaJob[] | undefined;
    let calls = 1;
    if (action.kind === 'rerun') {
      // One job's stat (the workflow checks a rerun one job at a time): it also gives the job's dates for the log.
      const r = await client.getStat(action.jobs[0]);
      res = r;
      targets = [r.data];
      if (restarted(r.data))
        return {
          verdict: 'applied',
          jobs: action.jobs.map((id, i) => (i === 0 ? jobRef(r.data, stream) : { id, stream })),
          res,
          calls,
        };
    } else {
      const r = await client.streamStats(stream, 1, 1000);
      res = r;
      listed = r.data;
      targets = r.data.filter((j) => (j.createTime ?? 0) < since);
      // A rerun-all of a stream without jobs leaves no trace: whether it reached the platform cannot be told,
      // so it is sent again (rerunning no job changes nothing; counting it done could log a call never made).
      if (!targets.length) return { verdict: 'not-applied', jobs: [], res, calls };
      if (targets.every(restarted))
        return { verdict: 'applied', jobs: targets.map((j) => jobRef(j, stream)), res, calls };
    }
    if (!listed) {
      const r = await client.streamStats(stream, 1, 1000);
      calls++;
      res = r;
      listed = r.data;
    }
    const fresh = listed.filter((j) => (j.createTime ?? 0) >= since);
    const twin = (t: DatoramaJob) =>
      fresh.find((f) => f.dataStartDate === t.dataStartDate && f.dataEndDate === t.dataEndDate);
    const twins = targets.map(twin);
    if (
      twins.some(Boolean) &&
      targets.every((t, i) => restarted(t) || twins[i]) &&
      !(await processedSince(stream, since))
    )
      return {
        verdict: 'applied',
        jobs: targets.map((t, i) => jobRef(twins[i] ?? t, stream)),
        res,
        calls,
      };
    // "Cannot tell yet" has an end: a job still PENDING hours after the claim is stuck, not restarting — and a
    // claim left standing would make every later run of the same key wait on it.
    if (Date.now() - since > MAYBE_MAX_MS) return { verdict: 'not-applied', jobs: [], res, calls };
    if (targets.some(queued) && targets.every((t, i) => restarted(t) || twins[i] || queued(t)))
      return {
        verdict: 'maybe',
        why: `${targets.filter(queued).length} job(s) PENDING with no sign of a restart yet: checked again later`,
        jobs: [],
        res,
        calls,
      };
    return { verdict: 'not-applied', jobs: [], res, calls };
  }

  return {
    /** Submits one call's actions (see the file header for the record it keeps). */
    async datoramaSubmit(args: CallContext & { action: SubmitAction }): Promise<SubmitOutcome> {
      const { action, all, known } = await recorded(args);
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
            : (res.data as DatoramaJob[]).map((j) =>
                // A job of a multi-stream answer without dataStreamId belongs to one of them: which, it does not say.
                jobRef(
                  j,
                  act.kind === 'process' ? (act.streams.length === 1 ? act.streams[0] : undefined) : act.stream,
                ),
              );
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
     * (created or rerun since the attempt) or its fields (patch). Records SUBMITTED or NOT_SUBMITTED. A rerun's
     * check may take two (the job's stat, then its stream's jobs): the workflow holds two permits for it, and
     * the outcome's `calls` says how many were made.
     */
    async datoramaReconcile(args: CallContext & { action: SubmitAction }): Promise<SubmitOutcome> {
      const { action, all, known } = await recorded(args);
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
        let calls = 1;
        /** What the check found, after `calls` calls whose last answer was `res`. */
        const checked = ({ kind, ...found }: Pick<SubmitOutcome, 'kind' | 'jobs' | 'httpStatus' | 'message'>) => ({
          kind,
          called: true,
          ...(calls > 1 ? { calls } : {}),
          keys: keys.map((k) => k.key),
          ...found,
          observed: observedOf(res.limits),
        });
        if (action.kind === 'patch') {
          res = await client.getStream(action.stream);
          const s = res.data as Record<string, unknown>;
          applied = Object.entries(action.fields).every(([k, v]) => sameValue(s[k], v));
        } else if (action.kind === 'rerun' || action.kind === 'rerun-all') {
          const seen = await rerunTrace(action, since);
          res = seen.res;
          calls = seen.calls;
          if (seen.verdict === 'maybe') {
            // A job that may be restarting but shows it nowhere yet: the claim stays; the workflow checks again
            // after a durable wait, rather than submit a second rerun or count one that did not happen.
            return checked({ kind: 'uncertain', jobs: [], message: seen.why });
          }
          applied = seen.verdict === 'applied';
          jobs = seen.jobs;
        } else {
          const stream = action.streams[0];
          const r = await client.streamStats(stream, 1, 100);
          res = r;
          const found = r.data.filter(
            (j) =>
              (j.createTime ?? 0) >= since &&
              (j.dataStartDate ?? '') >= action.start &&
              (j.dataEndDate ?? '9999') <= action.end,
          );
          applied = found.length > 0;
          jobs = found.map((j) => jobRef(j, stream));
        }
        if (applied) {
          await settle(args, action, keys, 'SUBMITTED', res.status, jobs, 'found applied after an unanswered call');
          return checked({ kind: 'done', jobs, httpStatus: res.status });
        }
        await records.setActions(
          args.runKey,
          args.runId,
          args.op,
          keys.map((k) => ({ key: k.key, stream: k.stream, state: 'NOT_SUBMITTED', message: 'checked: not applied' })),
        );
        chaosPoint('datorama.reconcile.after-record');
        return checked({ kind: 'not-submitted', jobs: [] });
      } catch (err) {
        await commonFailure(err, args);
        throw err;
      }
    },
  };
}
