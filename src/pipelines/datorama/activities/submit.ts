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
import { CHANGES_TABLE, type ActionState } from './tables';
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
          // A rerun keeps its jobs and bumps their updateTime. A job created since the attempt (another run
          // processing the stream meanwhile) is no trace of it unless it was updated after its creation: taking
          // it for one counted a rerun-all never called as applied (full chaos suite, shared run: truth ×0).
          const rerunSince = (j: DatoramaJob) =>
            (j.updateTime ?? 0) >= since && ((j.createTime ?? 0) < since || (j.updateTime ?? 0) > (j.createTime ?? 0));
          const found = r.data.filter((j) =>
            action.kind === 'process'
              ? (j.createTime ?? 0) >= since &&
                (j.dataStartDate ?? '') >= action.start &&
                (j.dataEndDate ?? '9999') <= action.end
              : rerunSince(j),
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
        await commonFailure(err, args);
        throw err;
      }
    },
  };
}
