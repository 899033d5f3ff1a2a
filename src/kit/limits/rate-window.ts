/**
 * A rate-window limiter: one entity workflow per API token (Datorama's: `datorama-limiter-<fingerprint>`,
 * registered as the workflow type `datoramaLimiter`) that every run of every worker asks for a permit before
 * each call, and tells when the call is over (with the rate-limit headers the call saw).
 * It grants a permit at workflow time `now` only if
 *   - `now` ≥ the last grant + spacing (60 s / perMinute + margin: smooth 1 call/s, like the task
 *     queue's server-side rate limit);
 *   - fewer than perMinute permits are in flight or were released after `now − 60 s`. A call happens
 *     after its grant and before its release, so this bounds the calls in ANY 60-second window of the
 *     API's clock by perMinute, whatever the latency between grant and call;
 *   - fewer than perDay permits were granted in the current UTC day (the daily budget; it resets at
 *     00:00 UTC, and the API's `X-DailyQuota-Remaining` can only lower what is left);
 *   - the API did not say to wait (a 429, or 0 remaining, until the reset it gave).
 * Grants are first come, first served. A holder that never releases (its run died) is reclaimed after
 * `leaseMs`. The workflow continues-as-new when its history grows, and ends when idle with nothing
 * drawn from today's budget (so the daily count is never lost), or when drained (`limiterDrainSignal`:
 * once idle and the last window has passed).
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  patched,
  type QueryDefinition,
  type SignalDefinition,
} from '@temporalio/workflow';
import { permitEntity, type PermitEntityInput, type PermitEntityState } from './permits';
import { observeRate, rateWindowWait } from './permit-policies';
import { formatDuration } from '../../shared/durations';
import { thousands, workflowNow } from '../workflow';

// The messages keep the names they were given when Datorama was this limiter's only user (`datoramaPermit…`):
// running limiters and saved histories know them by those names.

export interface PermitRequest {
  requestId: string;
  requesterId: string;
  purpose?: string;
}

/** What the API's headers said on the call a permit was used for (epoch ms resets). */
export interface ObservedLimits {
  minuteRemaining?: number;
  minuteReset?: number;
  dayLimit?: number;
  dayRemaining?: number;
  dayReset?: number;
}

export interface PermitRelease {
  requestId: string;
  observed?: ObservedLimits;
}

export interface LimiterState {
  perMinute: number;
  perDay: number;
  spacingMs: number;
  /** Permits granted and not yet released, and released ones whose completion is inside the window. */
  recent: { requestId: string; requesterId: string; grantedAt: number; releasedAt?: number }[];
  waiting: (PermitRequest & { since: number })[];
  lastGrantAt: number;
  /** UTC day (epoch day number) of the daily bucket, and the permits granted in it. */
  day: number;
  usedToday: number;
  /** Nothing is granted before this instant (a 429 or "0 remaining" from the API). */
  blockedUntil: number;
  granted: number;
  /** Most permits in any window, as the limiter counted them (operators and tests check it). */
  peakInWindow: number;
  /** Asked to drain: ends once no permit is waiting or held and the last window has passed. */
  draining?: boolean;
}

export const permitRequestSignal = defineSignal<[PermitRequest]>('datoramaPermitRequest');
export const permitReleaseSignal = defineSignal<[PermitRelease]>('datoramaPermitRelease');
export const permitGrantedSignal = defineSignal<[{ requestId: string; grantedAt: number }]>('datoramaPermitGranted');
/** An activity got a 429: nobody calls before `until`. */
export const limiterBlockSignal = defineSignal<[{ until: number; scope: 'minute' | 'day' }]>('datoramaLimiterBlock');
/**
 * Ends the limiter once nobody waits for or holds a permit and no call is left in the last 60 s (so the
 * next limiter for the token cannot exceed the per-minute limit). Today's count is not carried over: the
 * next limiter learns it back from the API's `X-DailyQuota-Remaining`. Used before a worker goes away
 * for good (tests, before their worker stops) and to restart a token's limiter with new settings.
 */
export const limiterDrainSignal = defineSignal('datoramaLimiterDrain');
export const limiterStateQuery = defineQuery<LimiterState>('datoramaLimiterState');

export const WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;

interface Wake {
  at: number;
  /** Why, given the wait as text ("23s"): the summary of the limiter's timer in the Web UI. */
  why: (wait: string) => string;
}

/** When the next permit can be granted, and why not sooner (Infinity: only a release frees a slot). Pure. */
export function nextPermit(s: LimiterState): Wake {
  const released = s.recent.flatMap((r) => (r.releasedAt !== undefined ? [r.releasedAt] : []));
  return rateWindowWait(s, s.recent.length, released.length ? Math.min(...released) : undefined);
}

/** The limiter's state as the Web UI's current details. Pure. */
export function limiterDetails(s: LimiterState, now: number): string {
  const running = s.recent.filter((r) => r.releasedAt === undefined).length;
  const lines = [
    `**${thousands(s.granted)} permits granted** · ${running} call(s) running · ${s.waiting.length} waiting`,
    `last 60 s: ${s.recent.length} of ${s.perMinute} (peak ${s.peakInWindow}) · today: ` +
      `${thousands(s.usedToday)} of ${thousands(s.perDay)} (UTC day)`,
  ];
  if (s.blockedUntil > now) lines.push(`blocked by the API until ${new Date(s.blockedUntil).toISOString()}`);
  return lines.join('\n\n');
}

export interface LimiterInput {
  perMinute: number;
  perDay: number;
  spacingMs: number;
  leaseMs?: number;
  idleMs?: number;
  /** Names the limiter in its timers' summaries ("Datorama limiter"). */
  label?: string;
  /** Carried from a run of the limiter's own loop (or read from a stopped limiter: its state query). */
  state?: LimiterState;
  /** Carried across continue-as-new by the limiter on the permit entity. */
  permitState?: PermitEntityState;
}

/** The patch that moved the limiter onto the permit entity: executions begun before keep their own loop. */
export const LIMITER_ON_PERMITS = 'longhaul-limiter-on-permits';

/**
 * The rate-window limiter (registered by Datorama as `datoramaLimiter`): since LIMITER_ON_PERMITS, the kit's
 * permit entity with the rate-window policy, speaking the limiter's messages — its requesters, running limiters
 * and the tools that read its state are unchanged. Executions begun before run their own loop until they
 * continue as new.
 */
export async function rateWindowLimiter(input: LimiterInput): Promise<void> {
  if (!patched(LIMITER_ON_PERMITS)) return rateWindowLoop(input);
  const leaseMs = input.leaseMs ?? 15 * 60_000;
  const entity: PermitEntityInput = {
    policy: { kind: 'rateWindow', perMinute: input.perMinute, perDay: input.perDay, spacingMs: input.spacingMs },
    leaseMs,
    label: input.label ?? 'rate limiter',
    ...(input.idleMs !== undefined ? { idleMs: input.idleMs } : {}),
    ...(input.permitState
      ? { state: input.permitState }
      : input.state
        ? { state: fromLimiterState(input.state, leaseMs) }
        : {}),
  };
  await permitEntity(entity, {
    ask: permitRequestSignal as SignalDefinition<[never]>,
    toAsk: (r: PermitRequest) => r,
    release: permitReleaseSignal as SignalDefinition<[never]>,
    toRelease: ({ requestId, observed }: PermitRelease) => ({ requestId, ...(observed ? { seen: observed } : {}) }),
    observe: limiterBlockSignal as SignalDefinition<[never]>,
    toObservation: ({ until }: { until: number }) => ({ blockUntil: until }),
    drain: limiterDrainSignal,
    granted: permitGrantedSignal as SignalDefinition<[never]>,
    toGranted: (g) => ({ requestId: g.requestId, grantedAt: g.grantedAt }),
    state: limiterStateQuery as QueryDefinition<unknown>,
    view: toLimiterState,
    continueAsNew: (state) =>
      continueAsNew<typeof rateWindowLimiter>({ ...input, state: undefined, permitState: state }),
  });
}

/** A limiter's state (its own loop's, or read from a stopped one) as the permit entity's. Pure. */
export function fromLimiterState(ls: LimiterState, leaseMs: number): PermitEntityState {
  return {
    policy: {
      kind: 'rateWindow',
      perMinute: ls.perMinute,
      perDay: ls.perDay,
      spacingMs: ls.spacingMs,
      released: ls.recent.flatMap((r) => (r.releasedAt !== undefined ? [r.releasedAt] : [])),
      lastGrantAt: ls.lastGrantAt,
      day: ls.day,
      usedToday: ls.usedToday,
      blockedUntil: ls.blockedUntil,
      peakInWindow: ls.peakInWindow,
    },
    holders: ls.recent
      .filter((r) => r.releasedAt === undefined)
      .map((r) => ({
        requestId: r.requestId,
        requesterId: r.requesterId,
        grantedAt: r.grantedAt,
        leaseUntil: r.grantedAt + leaseMs,
      })),
    waiting: ls.waiting.map((w) => ({ ...w })),
    granted: ls.granted,
    peakHeld: 0,
    ...(ls.draining ? { draining: true } : {}),
  };
}

/** The permit entity's state in the limiter's words (its state query: operators, tests, a restart). Pure. */
export function toLimiterState(s: PermitEntityState): LimiterState {
  const p = s.policy;
  if (p.kind !== 'rateWindow') throw new Error(`a rate-window limiter holds a ${p.kind} policy`);
  return {
    perMinute: p.perMinute,
    perDay: p.perDay,
    spacingMs: p.spacingMs,
    recent: [
      ...s.holders.map((h) => ({ requestId: h.requestId, requesterId: h.requesterId, grantedAt: h.grantedAt })),
      ...p.released.map((t, i) => ({ requestId: `released-${i}`, requesterId: '', grantedAt: t, releasedAt: t })),
    ],
    waiting: s.waiting.map((w) => ({
      requestId: w.requestId,
      requesterId: w.requesterId,
      ...(w.purpose ? { purpose: w.purpose } : {}),
      since: w.since,
    })),
    lastGrantAt: p.lastGrantAt,
    day: p.day,
    usedToday: p.usedToday,
    blockedUntil: p.blockedUntil,
    granted: s.granted,
    peakInWindow: p.peakInWindow,
    ...(s.draining ? { draining: true } : {}),
  };
}

/**
 * The limiter's own loop, as it ran before it moved onto the permit entity: kept for the executions that began
 * with it (their histories replay through it until they continue as new, onto the permit entity).
 */
async function rateWindowLoop(input: LimiterInput): Promise<void> {
  const s: LimiterState = input.state ?? {
    perMinute: input.perMinute,
    perDay: input.perDay,
    spacingMs: input.spacingMs,
    recent: [],
    waiting: [],
    lastGrantAt: 0,
    day: Math.floor(workflowNow() / DAY_MS),
    usedToday: 0,
    blockedUntil: 0,
    granted: 0,
    peakInWindow: 0,
  };
  Object.assign(s, { perMinute: input.perMinute, perDay: input.perDay, spacingMs: input.spacingMs });
  const leaseMs = input.leaseMs ?? 15 * 60_000;
  let version = 0;
  let idleSince: number | undefined;
  const pending = new Set<number>();

  setHandler(permitRequestSignal, (req) => {
    if (!s.recent.some((r) => r.requestId === req.requestId) && !s.waiting.some((w) => w.requestId === req.requestId))
      s.waiting.push({ ...req, since: workflowNow() });
    version++;
  });
  setHandler(permitReleaseSignal, ({ requestId, observed }) => {
    const now = workflowNow();
    const r = s.recent.find((x) => x.requestId === requestId);
    if (r && r.releasedAt === undefined) r.releasedAt = now;
    s.waiting = s.waiting.filter((w) => w.requestId !== requestId);
    if (observed) observeRate(s, observed);
    version++;
  });
  setHandler(limiterBlockSignal, ({ until }) => {
    s.blockedUntil = Math.max(s.blockedUntil, until);
    version++;
  });
  setHandler(limiterDrainSignal, () => {
    s.draining = true;
    version++;
  });
  setHandler(limiterStateQuery, () => s);

  const inWindow = (now: number) =>
    s.recent.filter((r) => r.releasedAt === undefined || r.releasedAt > now - WINDOW_MS);

  for (;;) {
    const now = workflowNow();
    const today = Math.floor(now / DAY_MS);
    if (today !== s.day) {
      s.day = today;
      s.usedToday = 0;
    }
    for (const r of s.recent) if (r.releasedAt === undefined && now - r.grantedAt > leaseMs) r.releasedAt = now; // holder died
    s.recent = inWindow(now);

    setCurrentDetails(limiterDetails(s, now));
    // When could the next permit be granted? (Infinity: only a release can free a slot.)
    const next = nextPermit(s);
    const nextAt = next.at;

    if (s.waiting.length > 0 && now >= nextAt) {
      const next = s.waiting.shift()!;
      try {
        await getExternalWorkflowHandle(next.requesterId).signal(permitGrantedSignal, {
          requestId: next.requestId,
          grantedAt: now,
        });
      } catch {
        continue; // the requester is gone
      }
      s.recent.push({ requestId: next.requestId, requesterId: next.requesterId, grantedAt: now });
      s.lastGrantAt = now;
      s.usedToday++;
      s.granted++;
      s.peakInWindow = Math.max(s.peakInWindow, s.recent.length);
      continue;
    }

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 8_000) {
      await condition(() => true); // let pending signal handlers run
      await continueAsNew<typeof rateWindowLimiter>({ ...input, state: s });
    }
    const idle = s.waiting.length === 0 && s.recent.every((r) => r.releasedAt !== undefined);
    if (!idle) idleSince = undefined;
    else idleSince ??= now;
    const idleMs = input.idleMs ?? 10 * 60_000;
    if (idle && s.recent.length === 0 && s.usedToday === 0 && now - idleSince! >= idleMs) return;
    if (idle && s.recent.length === 0 && s.draining) return;
    const seen = version;
    const holders = s.recent.filter((r) => r.releasedAt === undefined).map((r) => r.grantedAt + leaseMs);
    const wakes: Wake[] = [
      {
        at: s.waiting.length ? nextAt : Infinity,
        why: (w) => `${next.why(w)} · ${s.waiting.length} waiting`,
      },
      {
        at: holders.length ? Math.min(...holders) : Infinity,
        why: (w) => `a permit's lease ends in ${w} (reclaimed if its holder died)`,
      },
      // Idle: end after idleMs — but not while today's budget has been drawn on (the count must survive).
      {
        at: idle ? (s.usedToday > 0 ? (s.day + 1) * DAY_MS : idleSince! + idleMs) : Infinity,
        why: (w) =>
          s.usedToday > 0
            ? `idle; keeps today's count (${thousands(s.usedToday)} of ${thousands(s.perDay)}) until the reset, in ${w}`
            : `idle: ends in ${w} unless a run asks for a permit`,
      },
      {
        at: s.recent.length ? Math.min(...s.recent.map((r) => (r.releasedAt ?? Infinity) + WINDOW_MS)) : Infinity,
        why: (w) => `a finished call leaves the 60-second window in ${w}`,
      },
    ];
    const wake = wakes.reduce((a, b) => (b.at < a.at ? b : a));
    const wakeAt = wake.at;
    // Timers are never cancelled (a pending one at or before the wake time is reused): the time-skipping
    // test server strands a run whose task cancels a timer that fired meanwhile (sdk-java#3088).
    if (Number.isFinite(wakeAt) && ![...pending].some((t) => t <= wakeAt)) {
      pending.add(wakeAt);
      const ms = Math.max(1, wakeAt - workflowNow());
      void sleep(ms, { summary: `${input.label ?? 'rate limiter'}: ${wake.why(formatDuration(ms))}` }).then(() => {
        pending.delete(wakeAt);
        version++;
      });
    }
    await condition(() => version !== seen);
  }
}
