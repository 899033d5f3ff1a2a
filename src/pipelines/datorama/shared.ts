/**
 * Messages and pure helpers of the Datorama pipelines, shared by workflows, activities and the client:
 * the token limiter's messages (the kit's rate-window limiter, src/kit/limits/rate-window.ts), its workflow ID,
 * the call queue name and the date-range chunking. Definitions and pure code only.
 */
import { splitWindows, type DateWindow } from '../../shared/dates';
import { WINDOW_MS } from '../../kit/limits/rate-window';

export {
  DAY_MS,
  limiterBlockSignal,
  limiterDrainSignal,
  limiterStateQuery,
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  WINDOW_MS,
  type LimiterState,
  type ObservedLimits,
  type PermitRelease,
  type PermitRequest,
} from '../../kit/limits/rate-window';

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
