/**
 * Messages of the durable semaphore (src/kit/limits/semaphore.ts): a workflow per shared limit, e.g. "at most
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
  /**
   * The requester already holds this slot (re-sent while holding): renews its lease, and re-registers it as
   * a holder if the semaphore restarted (terminated/failed) and lost it.
   */
  held?: boolean;
  /** This request's lease (ms), renewed by each `held` re-send; default: the semaphore's leaseMs. */
  leaseMs?: number;
}

export interface SemaphoreState {
  permits: number;
  holders: {
    requestId: string;
    requesterId: string;
    purpose?: string;
    since: string;
    leaseUntil: string;
    leaseMs?: number;
  }[];
  waiting: { requestId: string; requesterId: string; purpose?: string; since: string; leaseMs?: number }[];
  /** Most slots ever held at once (tests and operators check the limit held). */
  peakHeld: number;
  granted: number;
}

export const acquireSignal = defineSignal<[SlotRequest]>('semaphoreAcquire');
export const releaseSignal = defineSignal<[{ requestId: string }]>('semaphoreRelease');
export const slotGrantedSignal = defineSignal<[{ requestId: string }]>('semaphoreSlotGranted');
export const semaphoreStateQuery = defineQuery<SemaphoreState>('semaphoreState');
