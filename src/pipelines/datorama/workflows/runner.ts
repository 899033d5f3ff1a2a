/**
 * What every Datorama workflow shares: each platform call under a permit of the token's limiter
 * (permits.ts), on the datorama queue (proxies.ts); submits that settle uncertain outcomes (submit.ts);
 * and here the counters, failures, progress with an ETA from the rate limit, continue-as-new between
 * blocks and the job log at the end. The logical run id is the first
 * execution's run id, so counters and the job log survive continue-as-new.
 */
import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { DatoramaLimits } from '../activities/main';
import type { CallContext, JobRef } from '../activities/calls';
import { actionKeys, streamOfKey, type SubmitAction } from '../keys';
import { summarizeDatorama, type DatoramaFailure, type DatoramaResult } from '../definition';
import { callQueueOf, type ObservedLimits } from '../shared';
import { formatDuration } from '../../../shared/durations';
import { ProgressTracker, workflowNow } from '../../../kit/workflow';
import { callsOn, main, type DatoramaCalls } from './proxies';
import { limiterPermits, type LimiterPermits } from './permits';
import { settleAction } from './submit';

export { UNCERTAIN_ROUNDS } from './submit';

/** Failures a run lists in its carry and result; `failed` counts all, the job log has all. */
export const MAX_FAILURES_LISTED = 100;

/** Counters carried across continue-as-new. */
export interface RunCarry {
  calls: number;
  submitted: number;
  skipped: number;
  failed: number;
  jobs: number;
  total: number;
  failures: DatoramaFailure[];
  /** Our jobs possibly still running, per workspace (datorama-process's workspace throttle). */
  throttle?: Record<string, { jobs: number; streams: number[] }>;
}

/** What an operation's run (process, rerun, rename, patch) carries across continue-as-new: its counters and estimate. */
export interface OpCarry {
  run: RunCarry;
  estimated: number;
}

export const emptyCarry = (): RunCarry => ({
  calls: 0,
  submitted: 0,
  skipped: 0,
  failed: 0,
  jobs: 0,
  total: 0,
  failures: [],
});

export class DatoramaRun {
  readonly runKey = workflowInfo().workflowId;
  readonly runId = workflowInfo().firstExecutionRunId;
  private readonly callsFor = callsOn(callQueueOf(workflowInfo().taskQueue));
  readonly c: RunCarry;
  estimated = 0;
  private readonly permits: LimiterPermits;
  private inFlight = 0;
  private readonly callsAtStart: number;

  constructor(
    readonly op: string,
    readonly limits: DatoramaLimits,
    readonly progress: ProgressTracker,
    carry?: RunCarry,
  ) {
    this.c = carry ?? emptyCarry();
    this.callsAtStart = this.c.calls;
    this.permits = limiterPermits(limits, progress, this.runKey);
  }

  static async limits(): Promise<DatoramaLimits> {
    return main('Datorama: the token limits (per minute, per day) and its limiter').datoramaLimits();
  }

  /** A run of `op` with the token's limits, its progress as `datorama-<op>` (in that order: the limits first). */
  static async open(op: string, carry?: RunCarry): Promise<DatoramaRun> {
    const limits = await DatoramaRun.limits();
    return new DatoramaRun(op, limits, new ProgressTracker(`datorama-${op}`, 'calls'), carry);
  }

  /**
   * One platform call under a permit (or an activity that may make `permits` calls, under as many): `fn` gets
   * the call context and the call activities, whose summary on the Web UI timeline is "Datorama: <purpose>".
   */
  async withPermit<T extends { observed?: ObservedLimits; called?: boolean; calls?: number }>(
    purpose: string,
    fn: (ctx: CallContext, calls: DatoramaCalls) => Promise<T>,
    permits = 1,
  ): Promise<T> {
    const held: { requestId: string; grantedAt: number }[] = [];
    let observed: ObservedLimits | undefined;
    try {
      for (let i = 0; i < permits; i++)
        held.push(await this.permits.acquire(i ? `${purpose} (its call ${i + 1} of ${permits} at most)` : purpose));
      this.inFlight++;
      try {
        const r = await fn(
          {
            runKey: this.runKey,
            runId: this.runId,
            op: this.op,
            limiterId: this.limits.limiterId,
            grantedAt: held[0]!.grantedAt,
          },
          this.callsFor(`Datorama: ${purpose}`),
        );
        observed = r.observed;
        if (r.called !== false) this.c.calls += r.calls ?? 1;
        return r;
      } finally {
        this.inFlight--;
      }
    } finally {
      // The last permit carries what the API said; a permit whose call was not needed is given back all the same.
      for (let i = 0; i < held.length; i++)
        await this.permits.release(held[i]!.requestId, i === held.length - 1 ? observed : undefined);
      this.tick();
    }
  }

  /** Submits an action; settles an uncertain outcome by checking, then submitting only what was not applied. */
  async submit(action: SubmitAction, onJobs?: (jobs: JobRef[]) => void, depth = 0): Promise<void> {
    try {
      await settleAction(this, action, onJobs, depth);
    } finally {
      this.tick(); // the progress counts the outcome at once (a call's own tick runs before it is known)
    }
  }

  /** An activity that failed for good: a 401 fails the run; anything else is listed and the run goes on. */
  failedCall(err: unknown, action: SubmitAction): void {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.type === 'DatoramaAuth')
      throw ApplicationFailure.nonRetryable(cause.message, 'DatoramaAuth');
    const message = (cause as Error | undefined)?.message ?? String(err);
    const keys = actionKeys(action).map((k) => k.key);
    this.c.failed += keys.length;
    for (const k of keys) this.listFailure({ action: k, stream: streamOfKey(k), message });
  }

  /**
   * Lists a failure (the `failed` counter counts it separately): the first MAX_FAILURES_LISTED only, so the
   * list carried through continue-as-new and returned stays small; the job log has every one.
   */
  listFailure(f: DatoramaFailure): void {
    if (this.c.failures.length < MAX_FAILURES_LISTED) this.c.failures.push(f);
  }

  /** Progress: calls done of the estimate, and the ETA at the limiter's pace. */
  tick(phase?: string): void {
    const left = Math.max(0, this.estimated - this.c.calls);
    const etaMs = left * this.limits.spacingMs;
    this.progress.state.counters.eta_seconds = Math.round(etaMs / 1000);
    this.progress.set({
      done: this.c.calls,
      total: Math.max(this.estimated, this.c.calls),
      phase: `${phase ?? this.phase} — ${left} calls left, ETA ${formatDuration(etaMs)} (${this.limits.perMinute}/min)`,
    });
    this.counters();
  }
  private counters(): void {
    Object.assign(this.progress.state.counters, {
      submitted: this.c.submitted,
      skipped: this.c.skipped,
      failed: this.c.failed,
      jobs: this.c.jobs,
    });
  }
  phase = 'starting';
  setPhase(phase: string): void {
    this.phase = phase;
    this.tick();
  }

  /** Action states recorded for this workflow ID: skipped if an earlier run submitted them (logged). */
  async previous(): Promise<{ skip: Set<string>; mine: Set<string> }> {
    const s = await main('Datorama: the actions earlier runs of this workflow ID submitted').datoramaActionStates({
      runKey: this.runKey,
      runId: this.runId,
    });
    if (s.submitted.length)
      await main(`Datorama: log ${s.submitted.length} action(s) skipped as done before`).datoramaLogSkipped({
        runKey: this.runKey,
        runId: this.runId,
        op: this.op,
        keys: s.submitted,
      });
    return { skip: new Set(s.submitted), mine: new Set(s.submittedByThisRun) };
  }

  /** Actions per block (continue-as-new is decided between blocks): `max`, or fewer when callsPerRun is. */
  block(max: number): number {
    return Math.max(1, Math.min(max, this.limits.callsPerRun ?? max));
  }

  /**
   * Between blocks of actions: continue as new when the server suggests it, the history is long, or this
   * execution made `limits.callsPerRun` calls (DATORAMA_CALLS_PER_RUN). Counters travel in the carry; what
   * was submitted is read back from `datorama_actions`.
   */
  shouldContinueAsNew(): boolean {
    const callsHere = this.c.calls - this.callsAtStart;
    return (
      this.inFlight === 0 &&
      (workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > 20_000 ||
        (this.limits.callsPerRun !== undefined && callsHere >= this.limits.callsPerRun))
    );
  }

  /** `--jobLog`: its key must be free or a job log of ours, before the run's first call (not a patch: new input). */
  static async checkJobLog(jobLog: string | undefined, carried: boolean): Promise<void> {
    if (jobLog && !carried) await main(`Datorama: check --jobLog ${jobLog}`).datoramaCheckJobLog({ jobLog });
  }

  /** The end of a run: its job log (and, with `jobLog`, the cumulative one it names), counters, the result. */
  async finish(extra: Partial<DatoramaResult> = {}, jobLog?: string): Promise<DatoramaResult> {
    this.progress.set({ phase: 'writing the job log' });
    const log = await main(
      `Datorama: write the job log (bucket CSV + datorama_job_log${jobLog ? `; cumulative ${jobLog}` : ''})`,
    ).datoramaWriteJobLog({
      runKey: this.runKey,
      runId: this.runId,
      ...(jobLog ? { jobLog } : {}),
    });
    // Every action ends submitted, skipped or failed. One with no outcome is a defect of ours (the full chaos
    // suite found one: a check's answer lost to a kill): it is reported as failed, never passed off as done.
    const unaccounted = this.op === 'collect' ? 0 : this.c.total - this.c.submitted - this.c.skipped - this.c.failed;
    if (unaccounted > 0) {
      this.c.failed += unaccounted;
      this.listFailure({ action: '*', message: `${unaccounted} action(s) ended with no recorded outcome` });
    }
    // The counters as the result gives them (tick() runs when a call ends, before its outcome is counted).
    this.counters();
    this.progress.state.counters.eta_seconds = 0;
    this.progress.set({ phase: 'done', done: this.c.calls, total: Math.max(this.estimated, this.c.calls) });
    const result: DatoramaResult = {
      op: this.op,
      runKey: this.runKey,
      runId: this.runId,
      calls: this.c.calls,
      estimatedCalls: this.estimated,
      actions: { total: this.c.total, submitted: this.c.submitted, skipped: this.c.skipped, failed: this.c.failed },
      jobs: this.c.jobs,
      failures: this.c.failures,
      jobLog: {
        table: 'datorama_job_log',
        csv: log.uri,
        rows: log.rows,
        ...(log.cumulative ? { cumulative: log.cumulative } : {}),
      },
      ...extra,
    };
    this.progress.finish(summarizeDatorama(result));
    return result;
  }
}

export const nowIso = () => new Date(workflowNow()).toISOString();
