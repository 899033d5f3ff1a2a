/**
 * A Datorama run's side of the token's limiter: since REQUESTER_ON_PERMITS, the kit's one requester
 * (`Permits`, src/kit/limits/permit-requester.ts) speaking the limiter's signals, starting the limiter through
 * Datorama's own activity (`datoramaRequestPermit`, the name the saved histories carry). Runs begun before keep
 * the rate-window requester they started with (src/kit/limits/rate-window-permits.ts) until they continue as new.
 */
import { patched, workflowInfo, type SignalDefinition } from '@temporalio/workflow';
import type { DatoramaLimits } from '../activities/main';
import { Permits, type RequesterWords } from '../../../kit/limits/permit-requester';
import { RateWindowPermits } from '../../../kit/limits/rate-window-permits';
import {
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  type ObservedLimits,
} from '../../../kit/limits/rate-window';
import type { ProgressTracker } from '../../../kit/workflow';
import { main } from './proxies';

/** The patch that moved Datorama's requester onto the kit's `Permits`. */
export const REQUESTER_ON_PERMITS = 'longhaul-datorama-requester-on-permits';

/** The limiter's signals (`datoramaPermit…`), as the kit's requester speaks them. */
const LIMITER_WORDS: RequesterWords = {
  ask: permitRequestSignal as SignalDefinition<[never]>,
  release: permitReleaseSignal as SignalDefinition<[never]>,
  toRelease: ({ requestId, seen }) => ({ requestId, ...(seen ? { observed: seen } : {}) }),
  granted: permitGrantedSignal as SignalDefinition<[never]>,
  toGranted: (g: { requestId: string; grantedAt: number }, entityId) => ({ entityId, ...g }),
};

/** The limiter's lease when a request starts it (its own default). */
const LIMITER_LEASE_MS = 15 * 60_000;

export interface LimiterPermits {
  acquire(purpose: string): Promise<{ requestId: string; grantedAt: number }>;
  release(requestId: string, observed?: ObservedLimits): Promise<void>;
}

/** Create once per workflow run (it registers the grant signal's handler). */
export function limiterPermits(limits: DatoramaLimits, progress: ProgressTracker, requesterId: string): LimiterPermits {
  const startAndRequest = (request: { requestId: string; requesterId: string; purpose?: string }, summary: string) =>
    main(summary).datoramaRequestPermit({ limits, taskQueue: workflowInfo().taskQueue, request });
  if (!patched(REQUESTER_ON_PERMITS))
    return new RateWindowPermits(
      {
        limiterId: limits.limiterId,
        perMinute: limits.perMinute,
        perDay: limits.perDay,
        reaskMs: limits.reaskMs,
        label: 'Datorama',
        startAndRequest,
      },
      progress,
      requesterId,
    );
  return new Permits(
    {
      entityId: limits.limiterId,
      entity: {
        policy: { kind: 'rateWindow', perMinute: limits.perMinute, perDay: limits.perDay, spacingMs: limits.spacingMs },
        leaseMs: LIMITER_LEASE_MS,
        label: 'Datorama limiter',
      },
      what: `Datorama call permit (${limits.perMinute}/min)`,
      ...(limits.reaskMs ? { reaskMs: limits.reaskMs } : {}),
      words: LIMITER_WORDS,
      request: ({ ask }, summary) => startAndRequest(ask, summary),
    },
    requesterId,
    progress,
  );
}
