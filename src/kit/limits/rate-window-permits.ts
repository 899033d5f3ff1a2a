/**
 * A workflow's side of a rate-window limiter (src/kit/limits/rate-window.ts): asks for a permit before each
 * call (a signal, or — when the limiter is not running — the caller's `startAndRequest`, an activity that
 * signal-with-starts it), waits for the grant signal as long as it takes, re-asks every `reaskMs` for permits
 * still not granted (a limiter that was ending when asked has not lost us), and releases with the headers the
 * call saw. Workflow-safe.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  uuid4,
} from '@temporalio/workflow';
import {
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  type ObservedLimits,
  type PermitRequest,
} from './rate-window';
import { formatDuration } from '../../shared/durations';
import { type ProgressTracker, thousands, workflowNow } from '../workflow';

export interface RateWindowRef {
  limiterId: string;
  perMinute: number;
  perDay: number;
  /** How often a permit not granted yet is asked for again (default 5 minutes). */
  reaskMs?: number;
  /** Names the API in the Web UI's summaries ("Datorama"). */
  label: string;
  /** Starts the limiter if need be and queues `request` (an activity: signal-with-start), summarised `summary`. */
  startAndRequest(request: PermitRequest, summary: string): Promise<void>;
}

export class RateWindowPermits {
  private readonly grants = new Map<string, number>();

  /** Create once per workflow run (it registers the grant signal's handler). */
  constructor(
    private readonly limits: RateWindowRef,
    private readonly progress: ProgressTracker,
    private readonly requesterId: string,
  ) {
    setHandler(permitGrantedSignal, ({ requestId, grantedAt }) => void this.grants.set(requestId, grantedAt));
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
          summary: `${this.limits.label}: every ${formatDuration(every)}, ask the limiter again for any permit still not granted`,
        });
        for (const o of this.outstanding.values())
          if (workflowNow() - o.askedAt >= every) {
            o.askedAt = workflowNow();
            await this.limits.startAndRequest(
              o.request,
              `${this.limits.label}: ask the limiter again for a permit (${o.request.purpose})`,
            );
          }
      }
    })();
  }

  /** Waits (durably, as long as it takes) for a permit from the limiter. */
  async acquire(purpose: string): Promise<{ requestId: string; grantedAt: number }> {
    const requestId = uuid4();
    const request = { requestId, requesterId: this.requesterId, purpose };
    try {
      await getExternalWorkflowHandle(this.limits.limiterId).signal(permitRequestSignal, request);
    } catch {
      await this.limits.startAndRequest(
        request,
        `${this.limits.label}: start the limiter and ask for a permit (${purpose})`,
      );
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

  release(requestId: string, observed?: ObservedLimits): Promise<void> {
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
}
