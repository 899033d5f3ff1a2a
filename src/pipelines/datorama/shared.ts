/**
 * Messages and pure helpers of the Datorama pipelines, shared by workflows, activities and the client:
 * the limiter's signals (src/pipelines/datorama/workflows/limiter.ts), its state query, the call queue name and
 * the date-range chunking. Definitions and pure code only.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { splitWindows, type DateWindow } from '../../shared/dates';

export interface PermitRequest {
  requestId: string;
  requesterId: string;
  purpose?: string;
}

/** What the API's headers said on the call a permit was used for (epoch ms resets). */
export interface ObservedLimits {
  minuteRemaining?: number;
  minuteReset?: number;
  dayLimit?: number;
  dayRemaining?: number;
  dayReset?: number;
}

export interface PermitRelease {
  requestId: string;
  observed?: ObservedLimits;
}

export interface LimiterState {
  perMinute: number;
  perDay: number;
  spacingMs: number;
  /** Permits granted and not yet released, and released ones whose completion is inside the window. */
  recent: { requestId: string; requesterId: string; grantedAt: number; releasedAt?: number }[];
  waiting: (PermitRequest & { since: number })[];
  lastGrantAt: number;
  /** UTC day (epoch day number) of the daily bucket, and the permits granted in it. */
  day: number;
  usedToday: number;
  /** Nothing is granted before this instant (a 429 or "0 remaining" from the API). */
  blockedUntil: number;
  granted: number;
  /** Most permits in any window, as the limiter counted them (operators and tests check it). */
  peakInWindow: number;
  /** Asked to drain: ends once no permit is waiting or held and the last window has passed. */
  draining?: boolean;
}

export const permitRequestSignal = defineSignal<[PermitRequest]>('datoramaPermitRequest');
export const permitReleaseSignal = defineSignal<[PermitRelease]>('datoramaPermitRelease');
export const permitGrantedSignal = defineSignal<[{ requestId: string; grantedAt: number }]>('datoramaPermitGranted');
/** An activity got a 429: nobody calls before `until`. */
export const limiterBlockSignal = defineSignal<[{ until: number; scope: 'minute' | 'day' }]>('datoramaLimiterBlock');
/**
 * Ends the limiter once nobody waits for or holds a permit and no call is left in the last 60 s (so the
 * next limiter for the token cannot exceed the per-minute limit). Today's count is not carried over: the
 * next limiter learns it back from the API's `X-DailyQuota-Remaining`. Used before a worker goes away
 * for good (tests, before their worker stops) and to restart a token's limiter with new settings.
 */
export const limiterDrainSignal = defineSignal('datoramaLimiterDrain');
export const limiterStateQuery = defineQuery<LimiterState>('datoramaLimiterState');

export const WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The limiter's workflow ID: one per token (by fingerprint), shared by every run of every worker. */
export const limiterWorkflowId = (tokenFingerprint: string) => `datorama-limiter-${tokenFingerprint}`;

/**
 * The queue of the platform-call activities for a workflow on `taskQueue`: `longhaul` → `longhaul-datorama`
 * (= TASK_QUEUES.datorama); a test's queue `q` → `q-datorama`.
 */
export const callQueueOf = (taskQueue: string) => `${taskQueue}-datorama`;

/** Minimum spacing between two permits: 60 s / perMinute, plus a margin against clock skew. */
export const spacingMs = (perMinute: number, marginMs: number) => Math.ceil(WINDOW_MS / perMinute) + marginMs;

/** [start, end] in chunks of `days` days (the last one shorter): 45 days at 10 → 5 chunks. */
export function chunkRange(start: string, end: string, days: number): DateWindow[] {
  return splitWindows(start, end, days);
}
