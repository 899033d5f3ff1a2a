/**
 * Activity side of a rate-window limiter (src/kit/limits/rate-window.ts): asks it for a permit by
 * signal-with-start, so the limiter exists when needed. Idempotent per requestId. A limiter that is not running
 * (terminated, failed, or ended) is started again from its last state: the calls of the last 60 s, the permits
 * held and today's count must survive, or the new limiter would grant what the old one had spent.
 */
import { Context } from '@temporalio/activity';
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

/** The kit's own request activity's input: a limiter registered as `rateWindowLimiter` (src/kit/workflows.ts). */
export interface RequestRateWindowInput {
  limiterId: string;
  taskQueue: string;
  perMinute: number;
  perDay: number;
  label: string;
  request: PermitRequest;
}

/** Calls spaced 60 s / perMinute apart, plus a margin against clock skew. */
const SPACING_MARGIN_MS = 50;

/**
 * The kit's rate-window activities: `requestRateWindow` queues a permit request at a `rateWindowLimiter`
 * (started, or restarted from its last state, if need be). What a pipeline's workflow passes as its
 * RateWindowPermits' `startAndRequest` (a source of the async-report kit does; Datorama keeps its own activity).
 */
export function createRateWindowActivities() {
  return {
    async requestRateWindow({ request, perMinute, ...rest }: RequestRateWindowInput): Promise<void> {
      await requestRateWindowPermit(
        Context.current().client,
        {
          ...rest,
          workflowType: 'rateWindowLimiter',
          perMinute,
          spacingMs: Math.ceil(60_000 / perMinute) + SPACING_MARGIN_MS,
        },
        request,
      );
    },
  };
}
