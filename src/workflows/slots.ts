/** Requester side of the durable semaphore: acquire a slot (waiting as long as it takes) and release it. */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SemaphoreActivities } from '../activities/semaphore';
import { releaseSignal, slotGrantedSignal } from '../shared/semaphore';
import { describedActivities } from './common';

const semaphoreActivities = describedActivities<SemaphoreActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

export interface SemaphoreRef {
  semaphoreId: string;
  permits: number;
  /** How long a slot may be held without release before the semaphore reclaims it (ms). */
  leaseMs: number;
  /** What a slot is, for the Web UI timeline: "report slot (at most 2 generating, account …ab12)". */
  what?: string;
}

/** Create once per workflow run (it registers the `slotGranted` signal handler). */
export class SlotRequester {
  private readonly granted = new Set<string>();

  constructor(private readonly ref: SemaphoreRef) {
    setHandler(slotGrantedSignal, ({ requestId }) => void this.granted.add(requestId));
  }

  /** Waits (durably, as long as it takes) for a slot; returns its request id. */
  async acquire(purpose?: string): Promise<string> {
    const { semaphoreId, permits, leaseMs, what = `slot of ${semaphoreId}` } = this.ref;
    const requestId = uuid4();
    try {
      // The activity queues the request; the wait for the grant that follows is a signal, not a command.
      await semaphoreActivities(`wait for a ${what}${purpose ? `: ${purpose}` : ''}`).requestSlot({
        semaphoreId,
        permits,
        leaseMs,
        taskQueue: workflowInfo().taskQueue,
        requestId,
        requesterId: workflowInfo().workflowId,
        purpose,
      });
      await condition(() => this.granted.has(requestId));
    } catch (err) {
      await this.release(requestId); // cancelled while waiting: withdraw the request
      throw err;
    }
    return requestId;
  }

  /** Gives the slot back; safe to call twice and while cancelled. */
  release(requestId: string): Promise<void> {
    this.granted.delete(requestId);
    return CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(this.ref.semaphoreId).signal(releaseSignal, { requestId }),
    );
  }
}
