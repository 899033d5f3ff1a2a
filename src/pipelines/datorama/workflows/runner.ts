/**
 * What every Datorama workflow shares: a permit from the token's limiter before each platform call (and
 * its release, with the rate-limit headers seen), the call activities on the datorama queue, submits
 * that settle uncertain outcomes (check, then submit only what was not applied), counters, failures,
 * progress with an ETA from the rate limit, and the job log at the end. The logical run id is the first
 * execution's run id, so counters and the job log survive continue-as-new.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { DatoramaActivities, DatoramaLimits } from '../activities/main';
import type { CallContext, JobRef, SubmitOutcome } from '../activities/calls';
import { actionKeys, restrictAction, streamOfKey, type SubmitAction } from '../keys';
import { summarizeDatorama, type DatoramaFailure, type DatoramaResult } from '../definition';
import {
  callQueueOf,
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  type ObservedLimits,
  type PermitRequest,
} from '../shared';
import { formatDuration } from '../../../shared/durations';
import { describedActivities, type ProgressTracker, thousands, workflowNow } from '../../../kit/workflow';

/** Activities on the main queue (no platform call), each with its Web UI summary. */
const main = describedActivities<DatoramaActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The platform-call activities (on the datorama queue) of one call, summarised as "Datorama: <purpose>". */
export type DatoramaCalls = ActivityInterfaceFor<DatoramaActivities>;

const callsOn = (taskQueue: string) =>
  describedActivities<DatoramaActivities>({
    taskQueue,
    startToCloseTimeout: '30 seconds',
    // The activities heartbeat every few seconds; a dead worker's attempt is retried after this.
    heartbeatTimeout: '15 seconds',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: 12,
      nonRetryableErrorTypes: ['DatoramaAuth', 'DatoramaRefused'],
    },
  });

/** Rounds of check-and-resubmit an uncertain action gets before it is listed as failed. */
export const UNCERTAIN_ROUNDS = 8;

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

export const emptyCarry = (): RunCarry => ({
  calls: 0,
  submitted: 0,
  skipped: 0,
  failed: 0,
  jobs: 0,
  total: 0,
  failures: [],
});

/**
 * One action per stream (a reconcile call checks one stream) and, for a rerun, one per job: the check reads
 * that job's stat, which says whether it was rerun and gives its dates for the job log (a check of the first
 * job only, before this patch, left the other jobs' dates out of the log).
 */
function perStream(a: SubmitAction, keys: string[]): SubmitAction[] {
  const r = restrictAction(a, keys);
  if (r.kind === 'process') return r.streams.map((s) => ({ ...r, streams: [s] }));
  if (r.kind === 'rerun' && r.jobs.length > 1 && patched('datorama-check-rerun-per-job'))
    return r.jobs.map((j) => ({ ...r, jobs: [j] }));
  return [r];
}

const describe = (a: SubmitAction) =>
  a.kind === 'process'
    ? `process ${a.streams.length} stream(s) ${a.start}..${a.end}`
    : a.kind === 'rerun'
      ? `rerun ${a.jobs.length} job(s) of stream ${a.stream}`
      : `${a.kind} stream ${a.stream}`;

export class DatoramaRun {
  readonly runKey = workflowInfo().workflowId;
  readonly runId = workflowInfo().firstExecutionRunId;
  private readonly callsFor = callsOn(callQueueOf(workflowInfo().taskQueue));
  readonly c: RunCarry;
  estimated = 0;
  private readonly grants = new Map<string, number>();
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
    setHandler(permitGrantedSignal, ({ requestId, grantedAt }) => void this.grants.set(requestId, grantedAt));
  }

  static async limits(): Promise<DatoramaLimits> {
    return main('Datorama: the token limits (per minute, per day) and its limiter').datoramaLimits();
  }

  /** Permits asked for and not granted yet: since when (shown), and when last asked (the watchdog). */
  private readonly outstanding = new Map<string, { request: PermitRequest; since: number; askedAt: number }>();
  private watchdog = false;

  /**
   * Every `reaskMs` (5 minutes by default), asks again (signal-with-start, idempotent) for permits still not
   * granted: a limiter that was ending when we asked, or was terminated since, has not lost us. A loop of plain
   * timers, never cancelled (the time-skipping test server strands a run whose task cancels a timer that fired
   * meanwhile, sdk-java#3088).
   */
  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = true;
    const every = this.limits.reaskMs ?? 5 * 60_000;
    void (async () => {
      for (;;) {
        await sleep(every, {
          summary: `Datorama: every ${formatDuration(every)}, ask the limiter again for any permit still not granted`,
        });
        for (const o of this.outstanding.values())
          if (workflowNow() - o.askedAt >= every) {
            o.askedAt = workflowNow();
            await main(`Datorama: ask the limiter again for a permit (${o.request.purpose})`).datoramaRequestPermit({
              limits: this.limits,
              taskQueue: workflowInfo().taskQueue,
              request: o.request,
            });
          }
      }
    })();
  }

  /** Waits (durably, as long as it takes) for a permit from the limiter. */
  private async permit(purpose: string): Promise<{ requestId: string; grantedAt: number }> {
    const requestId = uuid4();
    const request = { requestId, requesterId: this.runKey, purpose };
    try {
      await getExternalWorkflowHandle(this.limits.limiterId).signal(permitRequestSignal, request);
    } catch {
      await main(`Datorama: start the limiter and ask for a permit (${purpose})`).datoramaRequestPermit({
        limits: this.limits,
        taskQueue: workflowInfo().taskQueue,
        request,
      });
    }
    this.outstanding.set(requestId, { request, since: workflowNow(), askedAt: workflowNow() });
    this.startWatchdog();
    this.showWaiting();
    await condition(() => this.grants.has(requestId));
    this.outstanding.delete(requestId);
    this.showWaiting();
    const grantedAt = this.grants.get(requestId)!;
    this.grants.delete(requestId);
    return { requestId, grantedAt };
  }

  private release(requestId: string, observed?: ObservedLimits): Promise<void> {
    return CancellationScope.nonCancellable(async () => {
      try {
        await getExternalWorkflowHandle(this.limits.limiterId).signal(permitReleaseSignal, { requestId, observed });
      } catch {
        // limiter gone: its lease reclaims the permit
      }
    });
  }

  /** The current details' extra line while calls wait for a permit: how many, since when, for what. */
  private showWaiting(): void {
    const waiting = [...this.outstanding.values()];
    if (!waiting.length) return this.progress.detail(undefined);
    const oldest = waiting.reduce((a, b) => (b.since < a.since ? b : a));
    this.progress.detail(
      `waiting for ${waiting.length === 1 ? 'a call permit' : `${waiting.length} call permits`} from ` +
        `${this.limits.limiterId} (${this.limits.perMinute}/min, ${thousands(this.limits.perDay)}/day) since ` +
        `${new Date(oldest.since).toISOString()}: ${oldest.request.purpose}`,
    );
  }

  /**
   * One platform call under a permit: `fn` gets the call context and the call activities, whose summary on
   * the Web UI timeline is "Datorama: <purpose>".
   */
  async withPermit<T extends { observed?: ObservedLimits; called?: boolean }>(
    purpose: string,
    fn: (ctx: CallContext, calls: DatoramaCalls) => Promise<T>,
  ): Promise<T> {
    const p = await this.permit(purpose);
    this.inFlight++;
    let observed: ObservedLimits | undefined;
    try {
      const r = await fn(
        {
          runKey: this.runKey,
          runId: this.runId,
          op: this.op,
          limiterId: this.limits.limiterId,
          grantedAt: p.grantedAt,
        },
        this.callsFor(`Datorama: ${purpose}`),
      );
      observed = r.observed;
      if (r.called !== false) this.c.calls++;
      return r;
    } finally {
      this.inFlight--;
      await this.release(p.requestId, observed);
      this.tick();
    }
  }

  /** Submits an action; settles an uncertain outcome by checking, then submitting only what was not applied. */
  async submit(action: SubmitAction, onJobs?: (jobs: JobRef[]) => void, depth = 0): Promise<void> {
    try {
      await this.settle(action, onJobs, depth);
    } finally {
      this.tick(); // the progress counts the outcome at once (a call's own tick runs before it is known)
    }
  }

  private async settle(action: SubmitAction, onJobs: ((jobs: JobRef[]) => void) | undefined, depth: number) {
    let out: SubmitOutcome;
    try {
      out = await this.withPermit(describe(action), (ctx, calls) => calls.datoramaSubmit({ ...ctx, action }));
    } catch (err) {
      return this.failedCall(err, action);
    }
    if (out.kind === 'done') {
      this.c.submitted += out.keys.length;
      this.c.jobs += out.jobs.length;
      onJobs?.(out.jobs);
    } else if (out.kind === 'skipped') this.c.skipped += out.keys.length;
    else if (out.kind === 'failed' && action.kind === 'process' && action.streams.length > 1) {
      // A batch is refused as a whole for one bad stream ("Data stream 123 is disabled"): submit the others.
      const bad = Number(/Data stream (\d+)/.exec(out.message ?? '')?.[1]);
      if (!action.streams.includes(bad) || depth >= 5) return this.failedKeys(out);
      this.failedKeys({ ...out, keys: out.keys.filter((k) => streamOfKey(k) === bad) });
      const rest = out.keys.filter((k) => streamOfKey(k) !== bad);
      if (rest.length) await this.submit(restrictAction(action, rest), onJobs, depth + 1);
    } else if (out.kind === 'failed') this.failedKeys(out);
    else if (out.kind === 'uncertain') {
      this.progress.add('uncertain', out.keys.length);
      // An uncertain outcome is checked, and what was not applied is submitted again. A slow warehouse or an
      // attempt timed out before its call makes the next attempt uncertain again: since this patch, more
      // rounds, spaced by a durable backoff (5 s, 10 s, … 2 min), so that an incident of minutes does not
      // fail the action (before it: 3 rounds at once — the full chaos suite's production runs lost actions so).
      const patient = patched('datorama-uncertain-backoff');
      const rounds = patient ? UNCERTAIN_ROUNDS : 3;
      if (depth >= rounds) {
        this.c.failed += out.keys.length;
        for (const k of out.keys)
          this.listFailure({ action: k, message: `outcome still unknown after ${rounds} checks` });
        return;
      }
      if (patient && depth > 0) {
        const wait = Math.min(5_000 * 2 ** (depth - 1), 120_000);
        await sleep(wait, {
          summary: `Datorama: ${describe(action)} still uncertain (round ${depth + 1} of ${rounds}): check again in ${formatDuration(wait)}`,
        });
      }
      const notApplied: string[] = [];
      for (const single of perStream(action, out.keys)) {
        let r: SubmitOutcome;
        try {
          r = await this.withPermit(`check whether it was applied: ${describe(single)}`, (ctx, calls) =>
            calls.datoramaReconcile({ ...ctx, action: single }),
          );
        } catch (err) {
          this.failedCall(err, single);
          continue;
        }
        if (r.kind === 'done') {
          this.c.submitted += r.keys.length;
          this.c.jobs += r.jobs.length;
          this.progress.add('found_applied', r.keys.length);
          onJobs?.(r.jobs);
        } else if (r.kind === 'not-submitted') notApplied.push(...r.keys);
        else if (r.kind === 'skipped') this.c.skipped += r.keys.length;
      }
      if (notApplied.length) await this.submit(restrictAction(action, notApplied), onJobs, depth + 1);
    }
  }

  private failedKeys(out: SubmitOutcome): void {
    this.c.failed += out.keys.length;
    for (const k of out.keys)
      this.listFailure({
        action: k,
        stream: streamOfKey(k),
        httpStatus: out.httpStatus,
        message: out.message ?? 'refused',
      });
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
  private listFailure(f: DatoramaFailure): void {
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

  async finish(extra: Partial<DatoramaResult> = {}): Promise<DatoramaResult> {
    this.progress.set({ phase: 'writing the job log' });
    const log = await main('Datorama: write the job log (bucket CSV + datorama_job_log)').datoramaWriteJobLog({
      runKey: this.runKey,
      runId: this.runId,
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
      jobLog: { table: 'datorama_job_log', csv: log.uri, rows: log.rows },
      ...extra,
    };
    this.progress.finish(summarizeDatorama(result));
    return result;
  }
}

export const nowIso = () => new Date(workflowNow()).toISOString();
