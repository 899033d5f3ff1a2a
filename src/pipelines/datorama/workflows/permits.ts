/**
 * A Datorama run's side of the token's limiter: the kit's rate-window requester
 * (src/kit/limits/rate-window-permits.ts), starting the limiter through Datorama's own activity
 * (`datoramaRequestPermit`, the name the saved histories carry).
 */
import { workflowInfo } from '@temporalio/workflow';
import type { DatoramaLimits } from '../activities/main';
import { RateWindowPermits } from '../../../kit/limits/rate-window-permits';
import type { ProgressTracker } from '../../../kit/workflow';
import { main } from './proxies';

/** Create once per workflow run (it registers the grant signal's handler). */
export function limiterPermits(limits: DatoramaLimits, progress: ProgressTracker, requesterId: string) {
  return new RateWindowPermits(
    {
      limiterId: limits.limiterId,
      perMinute: limits.perMinute,
      perDay: limits.perDay,
      reaskMs: limits.reaskMs,
      label: 'Datorama',
      startAndRequest: (request, summary) =>
        main(summary).datoramaRequestPermit({ limits, taskQueue: workflowInfo().taskQueue, request }),
    },
    progress,
    requesterId,
  );
}
