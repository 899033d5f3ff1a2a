/**
 * Requester side of the durable semaphore: acquire a slot (waiting as long as it takes) and release it.
 * `slotPermits` is the kit's one requester (`Permits`) speaking the semaphore's signals; `SlotRequester` is the
 * older requester, kept for executions begun before their workflow moved (replay of saved histories).
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  uuid4,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { SemaphoreActivities } from '../activity/semaphore';
import { formatDuration } from '../../shared/durations';
import { acquireSignal, releaseSignal, slotGrantedSignal } from './semaphore-messages';
import { describedActivities, type ProgressTracker } from '../workflow';
import { Permits, type RequesterWords } from './permit-requester';

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
  /**
   * Short renewed lease (ms): while waiting the request is re-sent every `reaskMs`, while holding it is re-sent
   * (renewing a lease of `leaseMs`) every `renewMs`, so a semaphore that ended/was terminated is started again
   * with its holders, and a holder that died loses its slot within `leaseMs`. Without it: one request, one
   * long lease (histories from before the `longhaul-semaphore-renew` patch).
   */
  renew?: { leaseMs: number; renewMs: number; reaskMs: number };
}

/** Defaults of SemaphoreRef.renew: a killed holder frees its slot within 10 minutes. */
export const SLOT_RENEW = { leaseMs: 10 * 60_000, renewMs: 3 * 60_000, reaskMs: 5 * 60_000 };

/** What a workflow does with a semaphore's slots (both requesters below). */
export interface SlotHolder {
  /** Waits (durably, as long as it takes) for a slot; returns its request id. */
  acquire(purpose?: string): Promise<string>;
  /** Gives the slot back; safe to call twice and while cancelled. */
  release(requestId: string): Promise<void>;
}

/** The semaphore's signals (`semaphore…`), as the kit's requester speaks them. */
const SEMAPHORE_WORDS: RequesterWords = {
  ask: acquireSignal as SignalDefinition<[never]>,
  release: releaseSignal as SignalDefinition<[never]>,
  toRelease: ({ requestId }) => ({ requestId }),
  granted: slotGrantedSignal as SignalDefinition<[never]>,
  toGranted: ({ requestId }: { requestId: string }, entityId) => ({ entityId, requestId, grantedAt: 0 }),
};

/**
 * A semaphore's slots through the kit's requester (`Permits`): asks by signal (or by `requestSlot`, which
 * starts the semaphore — after an abnormal end first re-registering holders for `recoverMs`), re-asks every
 * `reaskMs` while waiting, renews a short per-slot lease every `renewMs` while holding. Create once per run.
 */
export function slotPermits(
  ref: SemaphoreRef & {
    renew: NonNullable<SemaphoreRef['renew']>;
    /**
     * How long a semaphore this run starts again after an abnormal end (its state unreadable) lets holders
     * re-register before granting anyone (default: `renewMs` + min(`renewMs`, 1 min)). Longer when other
     * holders of the same semaphore may renew less often than this run (runs begun under another lease).
     */
    recoverMs?: number;
  },
  progress?: ProgressTracker,
): SlotHolder {
  // Every slot is on the short lease (as SlotRequester's renewing requests are); `ref.leaseMs` is not used.
  const { semaphoreId, permits, what = `slot of ${semaphoreId}`, renew } = ref;
  const leaseMs = renew.leaseMs;
  const recoverMs = ref.recoverMs ?? renew.renewMs + Math.min(60_000, renew.renewMs);
  const requester = new Permits(
    {
      entityId: semaphoreId,
      entity: { policy: { kind: 'concurrency', permits }, leaseMs, label: 'semaphore' },
      what,
      renewMs: renew.renewMs,
      reaskMs: renew.reaskMs,
      askLeaseMs: renew.leaseMs,
      words: SEMAPHORE_WORDS,
      request: ({ ask }, summary) =>
        semaphoreActivities(summary).requestSlot({
          semaphoreId,
          permits,
          leaseMs,
          taskQueue: workflowInfo().taskQueue,
          recoverMs,
          ...ask,
        }),
    },
    workflowInfo().workflowId,
    progress,
  );
  return {
    acquire: async (purpose) => (await requester.acquire(purpose ?? 'a slot')).requestId,
    release: (requestId) => requester.release(requestId),
  };
}

/** Create once per workflow run (it registers the `slotGranted` signal handler). */
export class SlotRequester implements SlotHolder {
  private readonly granted = new Set<string>();

  constructor(private readonly ref: SemaphoreRef) {
    setHandler(slotGrantedSignal, ({ requestId }) => void this.granted.add(requestId));
  }

  /** Held slots that renew their lease: the renewal in flight (a release waits for it, so none lands after). */
  private readonly holding = new Map<string, Promise<void>>();

  /** Waits (durably, as long as it takes) for a slot; returns its request id. */
  async acquire(purpose?: string): Promise<string> {
    const { semaphoreId, permits, leaseMs, what = `slot of ${semaphoreId}`, renew } = this.ref;
    const requestId = uuid4();
    const renewing = renew !== undefined && patched('longhaul-semaphore-renew');
    const request = (held: boolean) =>
      semaphoreActivities(
        held ? `renew the ${what} lease` : `wait for a ${what}${purpose ? `: ${purpose}` : ''}`,
      ).requestSlot({
        semaphoreId,
        permits,
        leaseMs,
        taskQueue: workflowInfo().taskQueue,
        requestId,
        requesterId: workflowInfo().workflowId,
        purpose,
        ...(renewing
          ? { leaseMs: renew.leaseMs, held, recoverMs: renew.renewMs + Math.min(60_000, renew.renewMs) }
          : {}),
      });
    try {
      // The activity queues the request; the wait for the grant that follows is a signal, not a command.
      await request(false);
      if (renewing) {
        // Re-sent (deduplicated by requestId) in case the semaphore ended or was terminated meanwhile.
        const summary = `wait for a ${what}: ask again in ${formatDuration(renew.reaskMs)} if not granted`;
        while (!(await condition(() => this.granted.has(requestId), renew.reaskMs, { summary }))) await request(false);
      } else await condition(() => this.granted.has(requestId));
    } catch (err) {
      await this.release(requestId); // cancelled while waiting: withdraw the request
      throw err;
    }
    if (renewing) {
      let inFlight: Promise<void> = Promise.resolve();
      this.holding.set(requestId, Promise.resolve());
      // While held: renew the short lease (and re-register if the semaphore restarted without us).
      void (async () => {
        const summary = `hold the ${what}: renew its lease in ${formatDuration(renew.renewMs)}`;
        while (!(await condition(() => !this.holding.has(requestId), renew.renewMs, { summary }))) {
          inFlight = request(true).catch(() => undefined);
          this.holding.set(requestId, inFlight);
          await inFlight;
        }
      })().catch(() => undefined);
    }
    return requestId;
  }

  /** Gives the slot back; safe to call twice and while cancelled. */
  release(requestId: string): Promise<void> {
    this.granted.delete(requestId);
    const renewal = this.holding.get(requestId);
    this.holding.delete(requestId);
    return CancellationScope.nonCancellable(async () => {
      await renewal; // a renewal still on its way must not land after the release
      await getExternalWorkflowHandle(this.ref.semaphoreId)
        .signal(releaseSignal, { requestId })
        // Fails only when the semaphore is gone (ended or terminated): then it holds nothing, the slot is free.
        .catch(() => undefined);
    });
  }
}
