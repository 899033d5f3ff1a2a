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
  patched,
  type QueryDefinition,
  type SignalDefinition,
} from '@temporalio/workflow';
import { permitEntity, type PermitEntityState } from './permits';
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
  /** Carried across continue-as-new by the semaphore's own loop. */
  state?: SemaphoreState;
  /** Carried across continue-as-new by the semaphore on the permit entity. */
  permitState?: PermitEntityState;
}

/** The patch that moved the semaphore onto the permit entity: executions begun before keep their own loop. */
export const SEMAPHORE_ON_PERMITS = 'longhaul-semaphore-on-permits';

/**
 * The durable semaphore (registered as `semaphore`): since SEMAPHORE_ON_PERMITS, the kit's permit entity with the
 * concurrency policy, speaking the semaphore's messages — its requesters (`slotPermits` and the older SlotRequester, `requestSlot`) and
 * the readers of its state are unchanged. It still ends as soon as nobody holds or waits for a slot.
 */
export async function semaphore(input: SemaphoreInput): Promise<void> {
  if (!patched(SEMAPHORE_ON_PERMITS)) return semaphoreLoop(input);
  await permitEntity(
    {
      policy: { kind: 'concurrency', permits: input.permits },
      leaseMs: input.leaseMs,
      label: 'semaphore',
      idleMs: 0,
      ...(input.recoverMs ? { recoverMs: input.recoverMs } : {}),
      ...(input.permitState
        ? { state: input.permitState }
        : input.state
          ? { state: fromSemaphoreState(input.state) }
          : {}),
    },
    {
      ask: acquireSignal as SignalDefinition<[never]>,
      toAsk: (r: SlotRequest) => r,
      release: releaseSignal as SignalDefinition<[never]>,
      toRelease: ({ requestId }: { requestId: string }) => ({ requestId }),
      granted: slotGrantedSignal as SignalDefinition<[never]>,
      toGranted: (g) => ({ requestId: g.requestId }),
      state: semaphoreStateQuery as QueryDefinition<unknown>,
      view: toSemaphoreState,
      continueAsNew: (state) => continueAsNew<typeof semaphore>({ ...input, state: undefined, permitState: state }),
    },
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A semaphore's state (its own loop's) as the permit entity's. Pure. */
export function fromSemaphoreState(ss: SemaphoreState): PermitEntityState {
  return {
    policy: { kind: 'concurrency', permits: ss.permits },
    holders: ss.holders.map(({ since, leaseUntil, ...h }) => ({
      ...h,
      grantedAt: Date.parse(since),
      leaseUntil: Date.parse(leaseUntil),
    })),
    waiting: ss.waiting.map(({ since, ...w }) => ({ ...w, since: Date.parse(since) })),
    granted: ss.granted,
    peakHeld: ss.peakHeld,
  };
}

/** The permit entity's state in the semaphore's words (its `semaphoreState` query). Pure. */
export function toSemaphoreState(s: PermitEntityState): SemaphoreState {
  return {
    permits: s.policy.kind === 'concurrency' ? s.policy.permits : 0,
    holders: s.holders.map((h) => ({
      requestId: h.requestId,
      requesterId: h.requesterId,
      ...(h.purpose ? { purpose: h.purpose } : {}),
      since: iso(h.grantedAt),
      leaseUntil: iso(h.leaseUntil),
      ...(h.leaseMs ? { leaseMs: h.leaseMs } : {}),
    })),
    waiting: s.waiting.map((w) => ({
      requestId: w.requestId,
      requesterId: w.requesterId,
      ...(w.purpose ? { purpose: w.purpose } : {}),
      since: iso(w.since),
      ...(w.leaseMs ? { leaseMs: w.leaseMs } : {}),
    })),
    peakHeld: s.peakHeld,
    granted: s.granted,
  };
}

/**
 * The semaphore's own loop, as it ran before it moved onto the permit entity: kept for the executions that began
 * with it (their histories replay through it; such a run ends when idle, and the next one is on the permit entity).
 */
async function semaphoreLoop(input: SemaphoreInput): Promise<void> {
  const state: SemaphoreState = input.state ?? {
    permits: input.permits,
    holders: [],
    waiting: [],
    peakHeld: 0,
    granted: 0,
  };
  state.permits = input.permits;

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
