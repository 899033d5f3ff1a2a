/**
 * The check after an unanswered Datorama call (`datoramaReconcile`) never counts as applied an action it has
 * no trace of. Chaos finding (bounded suite, datorama-rerun, kills): the worker died after a rerun-all's
 * claim was written and before the call; the stream had no jobs, the check counted "no jobs" as applied, and
 * the run logged the rerun-all SUBMITTED while the platform never received it (sandbox truth: ×0).
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatoramaCallActivities, type CallContext } from '../../src/pipelines/datorama/activities/calls';
import type { SubmitOutcome } from '../../src/pipelines/datorama/activities/call-kit';
import { STALE_MARGIN_MS } from '../../src/kit/activity/heartbeat';
import { DatoramaRecords, JOB_LOG_TABLE } from '../../src/pipelines/datorama/activities/tables';
import type { DatoramaSandbox } from '../../src/pipelines/datorama/sandbox';
import type { DatoramaAssumptionSwitches } from '../../src/pipelines/datorama/sandbox/server';
import { datoramaSandboxPerTest } from '../helpers/datorama';
import { testDeps } from '../helpers/temporal';

const TIMEOUT_MS = 30_000;
const execution = { workflowId: 'dato-reconcile', runId: 'run-1' };
/** An attempt of the call activity, scheduled `ago` ms before now (its start-to-close timeout is 30 s). */
const attempt = (activityId: string, n: number, ago = 0) =>
  new MockActivityEnvironment({
    activityId,
    attempt: n,
    workflowExecution: execution,
    startToCloseTimeoutMs: TIMEOUT_MS,
    currentAttemptScheduledTimestampMs: Date.now() - ago,
  } as never);

describe('datoramaReconcile', () => {
  const start = datoramaSandboxPerTest();
  let sandbox: DatoramaSandbox | undefined;

  async function setup(assumptions?: DatoramaAssumptionSwitches) {
    const started = await start({ streams: 12, maxJobs: 3, seed: 7, assumptions });
    sandbox = started.sandbox;
    const deps = testDeps(started.env);
    const jobs = (id: number) => started.sandbox.data.jobs.filter((j) => j.dataStreamId === id).length;
    const streams = started.sandbox.data.streams.filter((s) => s.enabled).map((s) => s.id);
    const empty = streams.find((s) => jobs(s) === 0)!;
    const full = streams.find((s) => jobs(s) > 0)!;
    expect(empty).toBeDefined();
    const ctx = (grantedAt = Date.now()): CallContext => ({
      runKey: execution.workflowId,
      runId: execution.runId,
      op: 'rerun-all',
      limiterId: 'no-limiter',
      grantedAt,
    });
    const applied = (stream: number) =>
      started.sandbox.truth('applied').filter((r) => r.data.action === 'rerun-all' && r.data.stream === stream).length;
    return { deps, acts: createDatoramaCallActivities(deps), empty, full, ctx, applied, env: started.env };
  }

  it('a claim written, no call made (a stream without jobs): not applied, and the next submit calls once', async () => {
    const { deps, acts, empty, ctx, applied } = await setup();
    const action = { kind: 'rerun-all' as const, stream: empty };
    // Attempt 1 writes its claim and stops before the call (here: too close to its deadline to call; in the
    // chaos run: SIGKILLed between the claim and the call). Nothing reached the platform.
    const dead = await attempt('1', 1, TIMEOUT_MS - STALE_MARGIN_MS + 1_000)
      .run(acts.datoramaSubmit, { ...ctx(), action })
      .catch((e: unknown) => e);
    expect(String(dead)).toMatch(/Datorama call: not done, attempt 1 is past .* start-to-close timeout/);
    const state = await new DatoramaRecords(deps.warehouse).actions(execution.workflowId, execution.runId);
    expect(state.get(`ra:${empty}`)?.state).toBe('PENDING_SUBMIT');
    expect(applied(empty)).toBe(0);
    // Attempt 2 finds the unanswered claim: no call, the workflow checks.
    const retry = await attempt('1', 2).run(acts.datoramaSubmit, { ...ctx(), action });
    expect(retry).toMatchObject({ kind: 'uncertain', called: false });
    const check = await attempt('2', 1).run(acts.datoramaReconcile, { ...ctx(), action });
    // Nothing shows it was applied: it was not (counting it done loses the rerun-all: the chaos ×0).
    expect(check).toMatchObject({ kind: 'not-submitted', called: true });
    const again = await attempt('3', 1).run(acts.datoramaSubmit, { ...ctx(), action });
    expect(again).toMatchObject({ kind: 'done', called: true });
    expect(applied(empty)).toBe(1);
    expect(sandbox!.calls('rerun-all')).toHaveLength(1);
  });

  it('a call applied and left unanswered (a stream with jobs): the check finds its reruns, no second call', async () => {
    const { deps, acts, full, ctx, applied } = await setup();
    const action = { kind: 'rerun-all' as const, stream: full };
    const grantedAt = Date.now() - 1_000;
    await attempt('1', 1).run(acts.datoramaSubmit, { ...ctx(grantedAt), action });
    // Its outcome never recorded (the worker killed right after the call): the claim still stands.
    await new DatoramaRecords(deps.warehouse).setActions(execution.workflowId, execution.runId, 'rerun-all', [
      { key: `ra:${full}`, stream: full, state: 'PENDING_SUBMIT', attemptAt: grantedAt, message: 'claimed by x/1#1' },
    ]);
    const check = await attempt('2', 1).run(acts.datoramaReconcile, { ...ctx(), action });
    expect(check).toMatchObject({ kind: 'done', called: true });
    expect(applied(full)).toBe(1);
    expect(sandbox!.calls('rerun-all')).toHaveLength(1);
  });

  // Chaos finding (full suite, shared run: datorama-process and datorama-rerun-all on the same streams, killed 10×):
  // a rerun-all claimed, never called (killed), then checked — the job another run's process created meanwhile
  // was taken for its trace; the run logged it SUBMITTED and the platform never reran the stream (truth ×0).
  it('a rerun-all never called, while another run processes the stream: the new job is no trace of it', async () => {
    const { deps, acts, full, ctx, applied, env } = await setup();
    const action = { kind: 'rerun-all' as const, stream: full };
    const grantedAt = Date.now() - 1_000;
    // The claim stands (the worker killed between the claim and the call): nothing reached the platform.
    await new DatoramaRecords(deps.warehouse).setActions(execution.workflowId, execution.runId, 'rerun-all', [
      { key: `ra:${full}`, stream: full, state: 'PENDING_SUBMIT', attemptAt: grantedAt, message: 'claimed by x/1#1' },
    ]);
    // Meanwhile another run processes the same stream: a new job, created (and updated) after the claim.
    const res = await fetch(`${env.DATORAMA_BASE_URL}/data-streams/${full}/process`, {
      method: 'POST',
      headers: { Authorization: env.DATORAMA_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ startDate: '2025-03-11', endDate: '2025-03-20' }),
    });
    expect(res.status).toBe(200);
    const check = await attempt('2', 1).run(acts.datoramaReconcile, { ...ctx(), action });
    expect(check).toMatchObject({ kind: 'not-submitted', called: true });
    const again = await attempt('3', 1).run(acts.datoramaSubmit, { ...ctx(), action });
    expect(again).toMatchObject({ kind: 'done', called: true });
    expect(applied(full)).toBe(1);
  });

  // Chaos finding (datorama-rerun-jobs, killed at datorama.call.after-call): a rerun learned by a check was
  // logged without the job's dates, where the run that got the answer logs them.
  it("a per-job rerun applied and left unanswered: the check logs the job's dates, as the answer would", async () => {
    const { deps, acts, full, ctx, env } = await setup();
    const job = sandbox!.data.jobs.find((j) => j.dataStreamId === full)!;
    const action = { kind: 'rerun' as const, stream: full, jobs: [job.id] };
    const key = `r:${full}:${job.id}`;
    const grantedAt = Date.now() - 1_000;
    // The call reached the platform; its answer never reached the run (nothing logged, the claim stands).
    const res = await fetch(`${env.DATORAMA_BASE_URL}/data-streams/api/${full}/rerun`, {
      method: 'POST',
      headers: { Authorization: env.DATORAMA_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify([job.id]),
    });
    expect(res.status).toBe(200);
    await new DatoramaRecords(deps.warehouse).setActions(execution.workflowId, execution.runId, 'rerun', [
      { key, stream: full, state: 'PENDING_SUBMIT', attemptAt: grantedAt, message: 'claimed by x/1#1' },
    ]);
    const check = await attempt('2', 1).run(acts.datoramaReconcile, { ...ctx(), op: 'rerun', action });
    expect(check).toMatchObject({
      kind: 'done',
      called: true,
      jobs: [{ id: job.id, start: job.dataStartDate, end: job.dataEndDate }],
    });
    const logged = await deps.warehouse.select<Record<string, unknown>>(JOB_LOG_TABLE, {
      where: { action_key: key, status: 'SUBMITTED' },
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ job_id: job.id, start_date: job.dataStartDate, end_date: job.dataEndDate });
    expect(sandbox!.calls('rerun')).toHaveLength(1);
  });

  // Each behaviour the check infers (docs/datorama.md, "Assumptions"), switched the other way in the sandbox: an
  // unanswered call that was applied is found applied (no second call), one that was not is sent once.
  describe.each([
    ['a rerun makes a new job (new id, same dates)', { rerunNewJob: true }],
    ['a rerun keeps its job id and its updateTime', { rerunKeepsUpdateTime: true }],
    ['as the sandbox reads the API by default', {}],
  ] as [string, DatoramaAssumptionSwitches][])('when %s', (_name, switches) => {
    const post = (env: Record<string, string>, path: string, body: unknown) =>
      fetch(`${env.DATORAMA_BASE_URL}${path}`, {
        method: 'POST',
        headers: { Authorization: env.DATORAMA_TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const claim = (deps: ReturnType<typeof testDeps>, op: string, key: string, stream: number) =>
      new DatoramaRecords(deps.warehouse).setActions(execution.workflowId, execution.runId, op, [
        { key, stream, state: 'PENDING_SUBMIT', attemptAt: Date.now() - 1_000, message: 'claimed by x/1#1' },
      ]);
    /** Checks until the check can tell (a job restarting in place shows it once started: the sandbox's clock moves). */
    async function check(
      acts: ReturnType<typeof createDatoramaCallActivities>,
      args: Parameters<typeof acts.datoramaReconcile>[0],
    ): Promise<SubmitOutcome & { rounds: number }> {
      for (let round = 1; ; round++) {
        const r: SubmitOutcome = await attempt(`check-${round}`, 1).run(acts.datoramaReconcile, args);
        if (r.kind !== 'uncertain') return { ...r, rounds: round };
        expect(switches.rerunKeepsUpdateTime, 'only a restart in place can leave the check unsure').toBe(true);
        expect(round).toBeLessThan(4);
        sandbox!.clock.advance(31_000); // every rerun job has started 5–30 s after its rerun
      }
    }

    it('a per-job rerun applied and left unanswered: found applied, no second call', async () => {
      const { deps, acts, full, ctx, env } = await setup(switches);
      const job = sandbox!.data.jobs.find((j) => j.dataStreamId === full)!;
      expect((await post(env, `/data-streams/api/${full}/rerun`, [job.id])).status).toBe(200);
      await claim(deps, 'rerun', `r:${full}:${job.id}`, full);
      const action = { kind: 'rerun' as const, stream: full, jobs: [job.id] };
      const r = await check(acts, { ...ctx(), op: 'rerun', action });
      expect(r).toMatchObject({ kind: 'done', called: true });
      expect(r.jobs[0]).toMatchObject({ start: job.dataStartDate, end: job.dataEndDate });
      expect(sandbox!.truth('applied').filter((t) => t.data.action === 'rerun')).toHaveLength(1);
    });

    it('a rerun-all applied and left unanswered: found applied, no second call', async () => {
      const { deps, acts, full, ctx, env, applied } = await setup(switches);
      expect((await post(env, `/data-streams/api/${full}/rerun-all`, {})).status).toBe(200);
      await claim(deps, 'rerun-all', `ra:${full}`, full);
      const r = await check(acts, { ...ctx(), action: { kind: 'rerun-all' as const, stream: full } });
      expect(r).toMatchObject({ kind: 'done', called: true });
      expect(applied(full)).toBe(1);
    });

    it('a rerun-all claimed and never called, while another run processes one of its ranges: sent once', async () => {
      const { deps, acts, full, ctx, env, applied } = await setup(switches);
      await claim(deps, 'rerun-all', `ra:${full}`, full);
      // Another run processes the range of one of the stream's jobs: a new job with the same dates, as a rerun
      // that makes new jobs would leave — told apart by that run's record of its process.
      const job = sandbox!.data.jobs.find((j) => j.dataStreamId === full)!;
      await new DatoramaRecords(deps.warehouse).setActions('another-run', 'run-2', 'process', [
        {
          key: `p:${full}:${job.dataStartDate}:${job.dataEndDate}`,
          stream: full,
          state: 'SUBMITTED',
          attemptAt: Date.now(),
          message: 'claimed by y/1#1',
        },
      ]);
      const res = await post(env, `/data-streams/${full}/process`, {
        startDate: job.dataStartDate,
        endDate: job.dataEndDate,
      });
      expect(res.status).toBe(200);
      const action = { kind: 'rerun-all' as const, stream: full };
      const r = await check(acts, { ...ctx(), action });
      expect(r).toMatchObject({ kind: 'not-submitted', called: true });
      expect(await attempt('again', 1).run(acts.datoramaSubmit, { ...ctx(), action })).toMatchObject({
        kind: 'done',
        called: true,
      });
      expect(applied(full)).toBe(1);
    });

    it('a per-job rerun claimed and never called: sent once', async () => {
      const { deps, acts, full, ctx } = await setup(switches);
      const job = sandbox!.data.jobs.find((j) => j.dataStreamId === full)!;
      await claim(deps, 'rerun', `r:${full}:${job.id}`, full);
      const action = { kind: 'rerun' as const, stream: full, jobs: [job.id] };
      const before = sandbox!.calls().length;
      const r = await check(acts, { ...ctx(), op: 'rerun', action });
      expect(r).toMatchObject({ kind: 'not-submitted' });
      // The job's stat shows no restart, so its stream's jobs are read too: the outcome says so (the workflow
      // holds two permits for a rerun's check), and counts what the platform served.
      if (r.rounds === 1) expect(r.calls).toBe(sandbox!.calls().length - before);
      expect(r.calls).toBe(2);
      expect(await attempt('again', 1).run(acts.datoramaSubmit, { ...ctx(), op: 'rerun', action })).toMatchObject({
        kind: 'done',
        called: true,
      });
      expect(sandbox!.truth('applied').filter((t) => t.data.action === 'rerun')).toHaveLength(1);
    });
  });

  it('"cannot tell yet" ends: a claim over 6 hours old whose job is still PENDING is taken as not applied', async () => {
    const { deps, acts, full, ctx, env } = await setup({ rerunKeepsUpdateTime: true });
    const job = sandbox!.data.jobs.find((j) => j.dataStreamId === full)!;
    const res = await fetch(`${env.DATORAMA_BASE_URL}/data-streams/api/${full}/rerun`, {
      method: 'POST',
      headers: { Authorization: env.DATORAMA_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify([job.id]),
    });
    expect(res.status).toBe(200);
    const key = `r:${full}:${job.id}`;
    await new DatoramaRecords(deps.warehouse).setActions(execution.workflowId, execution.runId, 'rerun', [
      {
        key,
        stream: full,
        state: 'PENDING_SUBMIT',
        attemptAt: Date.now() - 7 * 3_600_000,
        message: 'claimed by x/1#1',
      },
    ]);
    const action = { kind: 'rerun' as const, stream: full, jobs: [job.id] };
    // The job is PENDING (restarted a moment ago, nothing shows it): 7 hours after the claim that is no longer
    // "maybe restarting" — a stuck claim must not hold every later run of the key.
    const check = await attempt('late', 1).run(acts.datoramaReconcile, { ...ctx(), op: 'rerun', action });
    expect(check).toMatchObject({ kind: 'not-submitted', called: true });
  });
});
