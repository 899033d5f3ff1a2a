/**
 * Asks a durable semaphore for a slot: signal-with-start, so the semaphore workflow exists when needed
 * (workflows cannot start other workflows' signals-with-start themselves). Idempotent per requestId.
 */
import { Context } from '@temporalio/activity';
import { acquireSignal, type SlotRequest } from '../shared/semaphore';

export interface RequestSlotInput extends SlotRequest {
  semaphoreId: string;
  permits: number;
  leaseMs: number;
  taskQueue: string;
}

export function createSemaphoreActivities() {
  return {
    async requestSlot({ semaphoreId, permits, leaseMs, taskQueue, ...request }: RequestSlotInput): Promise<void> {
      await Context.current().client.workflow.signalWithStart('semaphore', {
        workflowId: semaphoreId,
        taskQueue,
        args: [{ permits, leaseMs }],
        signal: acquireSignal,
        signalArgs: [request],
      });
    },
  };
}

export type SemaphoreActivities = ReturnType<typeof createSemaphoreActivities>;
