/**
 * Activity side of a rate-window limiter (src/kit/limits/rate-window.ts): asks it for a permit by
 * signal-with-start, so the limiter exists when needed. Idempotent per requestId. A limiter that is not running
 * (terminated, failed, or ended) is started again from its last state: the calls of the last 60 s, the permits
 * held and today's count must survive, or the new limiter would grant what the old one had spent.
 */
import type { Client } from '@temporalio/client';
import { limiterStateQuery, permitRequestSignal, type LimiterState, type PermitRequest } from '../limits/rate-window';

export interface RateWindowStart {
  /** The workflow type the limiter is registered under (Datorama's: `datoramaLimiter`). */
  workflowType: string;
  limiterId: string;
  taskQueue: string;
  perMinute: number;
  perDay: number;
  spacingMs: number;
  /** Names the limiter in its timers' summaries. */
  label: string;
}

/** The last state of a limiter that is not running; undefined if it runs, never ran, or cannot be read. */
async function predecessorState(client: Client, limiterId: string): Promise<LimiterState | undefined> {
  try {
    const handle = client.workflow.getHandle(limiterId);
    if ((await handle.describe()).status.name === 'RUNNING') return undefined;
    return await handle.query(limiterStateQuery);
  } catch {
    return undefined;
  }
}

/** Queues `request` at the limiter, starting it (from its predecessor's state) if it is not running. */
export async function requestRateWindowPermit(client: Client, s: RateWindowStart, request: PermitRequest) {
  const state = await predecessorState(client, s.limiterId);
  await client.workflow.signalWithStart(s.workflowType, {
    workflowId: s.limiterId,
    taskQueue: s.taskQueue,
    args: [
      {
        perMinute: s.perMinute,
        perDay: s.perDay,
        spacingMs: s.spacingMs,
        label: s.label,
        ...(state ? { state: { ...state, draining: false } } : {}),
      },
    ],
    signal: permitRequestSignal,
    signalArgs: [request],
  });
}
