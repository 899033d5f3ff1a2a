/** The activity proxies of the Datorama workflows: the main queue's, and the platform calls' own queue. */
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { DatoramaActivities } from '../activities/main';
import { describedActivities } from '../../../kit/workflow';

/** Activities on the main queue (no platform call), each with its Web UI summary. */
export const main = describedActivities<DatoramaActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The platform-call activities (on the datorama queue) of one call, summarised as "Datorama: <purpose>". */
export type DatoramaCalls = ActivityInterfaceFor<DatoramaActivities>;

export const callsOn = (taskQueue: string) =>
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
