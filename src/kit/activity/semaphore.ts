/**
 * Asks a durable semaphore for a slot: signal-with-start, so the semaphore workflow exists when needed
 * (workflows cannot start other workflows' signals-with-start themselves). Idempotent per requestId.
 */
import { Context } from '@temporalio/activity';
import { acquireSignal, type SlotRequest } from '../limits/semaphore-messages';

export interface RequestSlotInput extends SlotRequest {
  semaphoreId: string;
  permits: number;
  leaseMs: number;
  taskQueue: string;
  /** When the semaphore has to be started anew after an abnormal end: how long it only re-registers holders. */
  recoverMs?: number;
}

const ABNORMAL = new Set(['TERMINATED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

export function createSemaphoreActivities() {
  return {
    async requestSlot({
      semaphoreId,
      permits,
      leaseMs,
      taskQueue,
      recoverMs,
      ...request
    }: RequestSlotInput): Promise<void> {
      const client = Context.current().client;
      // A semaphore that ended abnormally (terminated, failed) lost its holders: a new run first gives them
      // `recoverMs` to re-register (they re-send while holding) before granting anyone, so the count stays true.
      let recover: number | undefined;
      if (recoverMs) {
        const last = await client.workflow
          .getHandle(semaphoreId)
          .describe()
          .catch(() => undefined);
        if (last && ABNORMAL.has(last.status.name)) recover = recoverMs;
      }
      await client.workflow.signalWithStart('semaphore', {
        workflowId: semaphoreId,
        taskQueue,
        args: [{ permits, leaseMs, ...(recover ? { recoverMs: recover } : {}) }],
        signal: acquireSignal,
        signalArgs: [request],
      });
    },
  };
}

export type SemaphoreActivities = ReturnType<typeof createSemaphoreActivities>;
