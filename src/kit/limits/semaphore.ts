/**
 * A durable counting semaphore as an entity workflow. Requesters (workflows) ask through an activity that
 * signal-with-starts this workflow, wait for the `slotGranted` signal, and signal `release` when done.
 * Grants are first come, first served. A holder whose lease runs out (it died without releasing) loses its
 * slot. The workflow continues-as-new when history grows, and ends as soon as nobody holds or waits for a
 * slot (the next request signal-with-starts it again), so no idle semaphore lingers.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { formatDuration } from '../../shared/durations';
import {
  acquireSignal,
  releaseSignal,
  semaphoreStateQuery,
  slotGrantedSignal,
  type SemaphoreState,
  type SlotRequest,
} from './semaphore-messages';
import { untilText, workflowNow } from '../workflow';

export interface SemaphoreInput {
  permits: number;
  /** How long a holder may keep a slot without releasing it (ms). */
  leaseMs: number;
  /** A run started after an abnormal end: for this long only holders re-register, nobody new is granted. */
  recoverMs?: number;
  /** Carried across continue-as-new. */
  state?: SemaphoreState;
}

export async function semaphore(input: SemaphoreInput): Promise<void> {
  const state: SemaphoreState = input.state ?? {
    permits: input.permits,
    holders: [],
    waiting: [],
    peakHeld: 0,
    granted: 0,
  };
  state.permits = input.permits;
  const iso = (ms: number) => new Date(ms).toISOString();

  const recoverUntil = input.recoverMs && !input.state ? workflowNow() + input.recoverMs : 0;
  setHandler(acquireSignal, (req: SlotRequest) => {
    const holder = state.holders.find((h) => h.requestId === req.requestId);
    const { held, leaseMs, ...request } = req;
    if (held) {
      // A holder renewing its lease, or re-registering after this semaphore restarted without it.
      const leaseUntil = iso(workflowNow() + (leaseMs ?? input.leaseMs));
      if (holder) holder.leaseUntil = leaseUntil;
      else {
        state.waiting = state.waiting.filter((w) => w.requestId !== req.requestId);
        state.holders.push({ ...request, since: iso(workflowNow()), leaseUntil, ...(leaseMs ? { leaseMs } : {}) });
        state.peakHeld = Math.max(state.peakHeld, state.holders.length);
      }
      return;
    }
    const known = holder || state.waiting.some((w) => w.requestId === req.requestId);
    if (!known) state.waiting.push({ ...request, since: iso(workflowNow()), ...(leaseMs ? { leaseMs } : {}) });
  });
  setHandler(releaseSignal, ({ requestId }) => {
    state.holders = state.holders.filter((h) => h.requestId !== requestId);
    state.waiting = state.waiting.filter((w) => w.requestId !== requestId);
  });
  setHandler(semaphoreStateQuery, () => state);

  if (recoverUntil) {
    await condition(() => false, Math.max(1, recoverUntil - workflowNow()), {
      summary: 'restarted after an abnormal end: holders re-register before new grants',
    });
  }
  for (;;) {
    const now = workflowNow();
    state.holders = state.holders.filter((h) => Date.parse(h.leaseUntil) > now);
    while (state.holders.length < state.permits && state.waiting.length > 0) {
      const next = state.waiting.shift()!;
      // Held from the moment it is granted: a release may arrive while the grant signal is on its way.
      const holder = {
        ...next,
        since: iso(workflowNow()),
        leaseUntil: iso(workflowNow() + (next.leaseMs ?? input.leaseMs)),
      };
      state.holders.push(holder);
      try {
        await getExternalWorkflowHandle(next.requesterId).signal(slotGrantedSignal, { requestId: next.requestId });
      } catch {
        state.holders = state.holders.filter((h) => h !== holder); // the requester is gone
        continue;
      }
      state.granted++;
      state.peakHeld = Math.max(state.peakHeld, state.holders.length);
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof semaphore>({ ...input, state });
    }
    if (state.holders.length === 0 && state.waiting.length === 0) return;
    setCurrentDetails(describeSemaphore(state, workflowNow()));
    // Wake up when a slot can be granted, when the last holder leaves (to end), or when the earliest lease runs out.
    const nextLeaseEnd = Math.min(...state.holders.map((h) => Date.parse(h.leaseUntil)));
    const wake = () =>
      (state.waiting.length > 0 && state.holders.length < state.permits) ||
      (state.holders.length === 0 && state.waiting.length === 0);
    if (state.holders.length) {
      const leaseMs = Math.max(1, nextLeaseEnd - workflowNow());
      await condition(wake, leaseMs, {
        summary: `${state.holders.length}/${state.permits} slots held, ${state.waiting.length} waiting; earliest lease ends in ${formatDuration(leaseMs)}`,
      });
    } else await condition(wake);
  }
}

/** The semaphore's holders and queue, for the Web UI's "current details". */
function describeSemaphore(state: SemaphoreState, nowMs: number): string {
  const lines = [`**${state.holders.length}/${state.permits} slots held**, ${state.waiting.length} waiting`];
  for (const h of state.holders)
    lines.push(
      `- held by ${h.requesterId}${h.purpose ? ` (${h.purpose})` : ''}, lease until ${untilText(h.leaseUntil, nowMs)}`,
    );
  for (const w of state.waiting)
    lines.push(`- waiting: ${w.requesterId}${w.purpose ? ` (${w.purpose})` : ''} since ${w.since}`);
  return lines.join('\n');
}
