/**
 * An activity's share of a token-bucket permit entity (the `tokenBucket` policy of src/kit/limits/permit-policies.ts):
 * `take()` before each call to the API. Calls are fetched from the entity a few at a time (one update per `batch`
 * calls, so the entity is not one workflow task per call) and spent at once, one per call; what an activity does
 * not spend is lost, never given twice. A 429 is reported with `blocked`: every worker's callers wait until then.
 * Every worker and run of an account shares one entity, so together they stay under the API's rate.
 */
import type { Client } from '@temporalio/client';
import { PermitClient } from './permits';

export interface CallBudgetOptions {
  entityId: string;
  taskQueue: string;
  perSecond: number;
  burst: number;
  /** Calls fetched per update (at most `burst`). */
  batch: number;
  /** Names the limit in the Web UI ("Titelive requests"). */
  label: string;
  /** Who asks (the Web UI's line): an activity and its query. */
  requesterId: string;
}

/**
 * Called while waiting for calls: the activity heartbeats (a wait is not a dead worker) — with its own
 * details, which may be its checkpoint (src/kit/activity/pages.ts).
 */
export type OnWait = (untilMs: number, why: string) => void;

/** Longest single sleep while waiting for calls (the wait is re-asked after it). */
const MAX_SLEEP_MS = 5_000;

export class CallBudget {
  private ready = 0;
  private readonly permits: PermitClient;
  /** Calls granted to this budget, and time spent waiting for them (ms): for the activity's own figures. */
  granted = 0;
  waitedMs = 0;

  constructor(
    client: Client,
    private readonly o: CallBudgetOptions,
  ) {
    if (!(o.perSecond > 0) || !(o.burst >= 1))
      throw new Error(`${o.label}: a call budget needs perSecond > 0 and burst ≥ 1 (no budget: do not create one)`);
    this.permits = new PermitClient(client, o.entityId, o.taskQueue, {
      policy: { kind: 'tokenBucket', perSecond: o.perSecond, burst: o.burst },
      leaseMs: 60_000,
      label: o.label,
    });
  }

  /** Waits until one call may be made (`signal`: stop waiting when the activity is cancelled). */
  async take(signal?: AbortSignal, onWait?: OnWait): Promise<void> {
    if (this.ready > 0) {
      this.ready--;
      return;
    }
    const calls = Math.max(1, Math.min(this.o.batch, this.o.burst));
    for (;;) {
      signal?.throwIfAborted();
      this.permits.onRetry = () => onWait?.(Date.now(), 'the limit is moving to its next run');
      const r = await this.permits.try({ requesterId: this.o.requesterId, purpose: `${calls} call(s)`, calls });
      if ('granted' in r) {
        this.granted += calls;
        this.ready = calls - 1;
        return;
      }
      // The entity's clock may not be ours (a time-skipping server's): wait what it says, from now.
      const ms = Math.min(Math.max(r.wait.waitMs ?? 1_000, 5), MAX_SLEEP_MS);
      onWait?.(Date.now() + ms, r.wait.why);
      this.waitedMs += ms;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => (clearTimeout(t), reject(signal!.reason as Error));
        const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The API answered 429: nobody calls before `untilMs` (the bucket starts empty then). */
  async blocked(untilMs: number): Promise<void> {
    this.ready = 0;
    await this.permits.observe({ blockUntil: untilMs });
  }
}
