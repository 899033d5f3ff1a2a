/**
 * Messages of the durable semaphore (src/workflows/semaphore.ts): a workflow per shared limit, e.g. "at most
 * 2 Dailymotion reports generating at once for this account", that every run of every worker goes through.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface SlotRequest {
  /** Workflow that wants a slot; it is signalled `slotGranted` when it has one. */
  requesterId: string;
  /** Unique per request (a workflow may hold several slots over its life). */
  requestId: string;
  /** Shown in the semaphore's state: what the slot is for. */
  purpose?: string;
}

export interface SemaphoreState {
  permits: number;
  holders: { requestId: string; requesterId: string; purpose?: string; since: string; leaseUntil: string }[];
  waiting: { requestId: string; requesterId: string; purpose?: string; since: string }[];
  /** Most slots ever held at once (tests and operators check the limit held). */
  peakHeld: number;
  granted: number;
}

export const acquireSignal = defineSignal<[SlotRequest]>('semaphoreAcquire');
export const releaseSignal = defineSignal<[{ requestId: string }]>('semaphoreRelease');
export const slotGrantedSignal = defineSignal<[{ requestId: string }]>('semaphoreSlotGranted');
export const semaphoreStateQuery = defineQuery<SemaphoreState>('semaphoreState');
