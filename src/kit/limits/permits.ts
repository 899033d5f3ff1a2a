/**
 * The permit entity: one workflow per shared limit (registered as `permits`; ID chosen by the user of the
 * limit, e.g. `permits-acme-reports-<account>`) that every run of every worker asks before it uses the limited
 * resource. One protocol for every limit, the decision left to a pure policy (permit-policies.ts):
 * - a requester asks (`permitAsk`, through an activity that signal-with-starts the entity when it is not
 *   running); requests wait in one queue, first come first served — the head is granted as soon as its
 *   policy says so (`permitGranted` to the requester, with what the grant gives, e.g. a key);
 * - a holder renews its lease by asking again with `held` (which also re-registers it with an entity that
 *   restarted without it), and releases (`permitRelease`, with what the API said); a holder whose lease runs
 *   out (its run died) is reclaimed; a holder that asks again as if not granted never got its grant (the run
 *   that granted was terminated first): the same grant is sent again;
 * - the API's signs (a 429, "quota exceeded", an invalid key) reach the policy (`permitObserve`);
 * - a requester that cannot wait for a signal (an activity) asks by update instead (`permitTry`, for a policy
 *   whose grants are consumed at once — a key pool's units — so nothing is held that would need renewing):
 *   granted now, or told until when to wait — never ahead of a queued request; it reports by update too
 *   (`permitObserveNow`: what was not used comes back as an observation), and a caller's configuration joins the entity's (`permitJoin`:
 *   what it adds is added, a contradiction refused by the validator);
 * - the entity continues as new with its state — holders, waiters, the policy's counts — when its history
 *   grows (updates are refused meanwhile, `PermitsMoving`: callers retry and reach the next run), ends when
 *   idle once its counts no longer matter (`keepUntil`), or when drained.
 * Timers are never cancelled (a pending one at or before the wake time is reused): the time-skipping test
 * server strands a run whose task cancels a timer that fired meanwhile (sdk-java#3088). Workflow-safe.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  type QueryDefinition,
  type SignalDefinition,
} from '@temporalio/workflow';
import { formatDuration } from '../../shared/durations';
import { thousands, workflowNow } from '../workflow';
import {
  advance,
  decide,
  describePolicy,
  initPolicy,
  keepUntil,
  nextChange,
  observe,
  reconfigure,
  released,
  type PermitAsk,
  type PermitGrant,
  type PermitHolder,
  type PermitObservation,
  idleWhy,
  joinPolicy,
  recoverPolicy,
  validateAsk,
  validateJoinPolicy,
  withdrawn,
  type PolicyConfig,
  type PolicyState,
} from './permit-policies';
import { ledgerStateQuery } from './quota';

export interface PermitRequest {
  requestId: string;
  /** The workflow that is signalled `permitGranted`. */
  requesterId: string;
  purpose?: string;
  /** Re-sent while holding: renews the lease (and re-registers the holder with a restarted entity). */
  held?: boolean;
  leaseMs?: number;
  /** keyPool: what is wanted. */
  method?: string;
  calls?: number;
}

export interface PermitGranted {
  /** The entity that grants (a workflow may use several). */
  entityId: string;
  requestId: string;
  grantedAt: number;
  grant?: PermitGrant;
}

export interface PermitEntityState {
  policy: PolicyState;
  holders: PermitHolder[];
  waiting: PermitAsk[];
  granted: number;
  peakHeld: number;
  draining?: boolean;
  /**
   * Requests released in the last 10 minutes: an ask for one of them is a re-ask that crossed its grant (sent
   * before the grant arrived, landing after the release), not a new request.
   */
  done?: { requestId: string; at: number }[];
}

export interface PermitEntityInput {
  policy: PolicyConfig;
  /** How long a holder keeps a permit without renewing it (ms). */
  leaseMs: number;
  /** Names the limit in the Web UI ("Acme Ads report slots"). */
  label: string;
  /** Ends after this long idle (default 10 minutes), once its counts no longer matter. */
  idleMs?: number;
  /** Carried across continue-as-new, or from a predecessor that stopped. */
  state?: PermitEntityState;
  /** A run started after an abnormal end whose state could not be read: holders re-register first (ms). */
  recoverMs?: number;
  /** `state` is the last of a run that ended abnormally (terminated: the policy gives what it removed another chance). */
  recovered?: boolean;
  /** Continue as new after this many events even if the server has not suggested it (tests). */
  historyLimit?: number;
}

export const permitAskSignal = defineSignal<[PermitRequest]>('permitAsk');
export const permitReleaseSignal = defineSignal<[{ requestId: string; seen?: PermitObservation }]>('permitRelease');
export const permitObserveSignal = defineSignal<[PermitObservation]>('permitObserve');
export const permitGrantedSignal = defineSignal<[PermitGranted]>('permitGranted');
/** Ends the entity once nothing waits or is held and its policy's window has passed (tests; new settings). */
export const permitDrainSignal = defineSignal('permitDrain');
export const permitStateQuery = defineQuery<PermitEntityState>('permitState');

/** What `permitTry` answers: granted now, or wait until `until` (absent: only a release or an operator helps). */
/** `waitMs`: until − the entity's now (a caller on another clock — a time-skipping server's — waits this long). */
export type PermitTry = { granted: PermitGranted } | { wait: { until?: number; waitMs?: number; why: string } };
export type PermitRelease = { requestId: string; seen?: PermitObservation };
export const permitTryUpdate = defineUpdate<PermitTry, [PermitRequest]>('permitTry');
export const permitObserveUpdate = defineUpdate<void, [PermitObservation]>('permitObserveNow');
export const permitJoinUpdate = defineUpdate<void, [PolicyConfig]>('permitJoin');
/**
 * What the update validators answer while the entity continues as new: callers retry shortly (the update then
 * reaches the next run). Refused updates leave no trace in history.
 */
export const PERMITS_MOVING = 'PermitsMoving: the permit entity is continuing as new, retry';

/** How long a released request's id is remembered (longer than any requester's re-ask). */
const DONE_MS = 10 * 60_000;

interface Wake {
  at: number;
  why: (wait: string) => string;
}

/**
 * The messages an entity speaks: the permit entity's own (`PERMIT_MESSAGES`), or — for an entity registered
 * under an older type whose requesters still speak its words (`datoramaLimiter`) — that type's, translated.
 * `state` answers the state query in the words its readers expect.
 */
export interface PermitMessages {
  ask: SignalDefinition<[never]>;
  toAsk(payload: never): PermitRequest;
  release: SignalDefinition<[never]>;
  toRelease(payload: never): { requestId: string; seen?: PermitObservation };
  observe?: SignalDefinition<[never]>;
  toObservation?(payload: never): PermitObservation;
  drain?: SignalDefinition<[]>;
  granted: SignalDefinition<[never]>;
  toGranted(g: PermitGranted): unknown;
  state: QueryDefinition<unknown>;
  view(s: PermitEntityState): unknown;
  /** Continues as new with the state (each type has its own input). */
  continueAsNew(s: PermitEntityState): Promise<never>;
  /** Also serve the update path (`permitTry` & co.): the `permits` type's own vocabulary only. */
  updates?: boolean;
}

export const PERMIT_MESSAGES: PermitMessages = {
  ask: permitAskSignal as SignalDefinition<[never]>,
  toAsk: (p: PermitRequest) => p,
  release: permitReleaseSignal as SignalDefinition<[never]>,
  toRelease: (p: { requestId: string; seen?: PermitObservation }) => p,
  observe: permitObserveSignal as SignalDefinition<[never]>,
  toObservation: (p: PermitObservation) => p,
  drain: permitDrainSignal,
  granted: permitGrantedSignal as SignalDefinition<[never]>,
  toGranted: (g) => g,
  state: permitStateQuery as QueryDefinition<unknown>,
  view: (s) => s,
  updates: true,
  continueAsNew: () => {
    throw new Error('PERMIT_MESSAGES.continueAsNew is bound by permits()');
  },
};

export async function permits(input: PermitEntityInput): Promise<void> {
  await permitEntity(input, {
    ...PERMIT_MESSAGES,
    continueAsNew: (state) =>
      continueAsNew<typeof permits>({ ...input, state, recoverMs: undefined, recovered: undefined }),
  });
}

/** The entity's loop, in the words of `m` (PERMIT_MESSAGES for the `permits` type). */
export async function permitEntity(input: PermitEntityInput, m: PermitMessages): Promise<void> {
  const entityId = workflowInfo().workflowId;
  const s: PermitEntityState = input.state ?? {
    policy: initPolicy(input.policy, workflowNow()),
    holders: [],
    waiting: [],
    granted: 0,
    peakHeld: 0,
  };
  if (input.state && input.recovered) recoverPolicy(s.policy);
  reconfigure(s.policy, input.policy, workflowNow());
  const idleMs = input.idleMs ?? 10 * 60_000;
  const recoverUntil = input.recoverMs && !input.state ? workflowNow() + input.recoverMs : 0;
  let version = 0;
  let idleSince: number | undefined;
  const pending = new Set<number>();
  const lease = (r: { leaseMs?: number }) => r.leaseMs ?? input.leaseMs;

  /**
   * Holders that asked again as requesters not granted yet: their grant never reached them (the run that granted
   * was terminated before its signal was delivered, and this one started from its last state) — sent again.
   */
  const lost = new Set<string>();
  setHandler(m.ask, (payload: never) => {
    const req = m.toAsk(payload);
    const now = workflowNow();
    const holder = s.holders.find((h) => h.requestId === req.requestId);
    const { held, ...r } = req;
    if (holder) {
      if (held) holder.leaseUntil = now + lease(holder);
      else lost.add(holder.requestId);
    } else if (held) {
      // A holder this entity does not know: it restarted without it. Held again, beyond the policy's say.
      s.waiting = s.waiting.filter((w) => w.requestId !== req.requestId);
      s.holders.push({ ...r, grantedAt: now, leaseUntil: now + lease(req) });
    } else if (
      !s.waiting.some((w) => w.requestId === req.requestId) &&
      !s.done?.some((d) => d.requestId === req.requestId)
    )
      s.waiting.push({ ...r, since: now });
    version++;
  });
  const release = ({ requestId, seen }: PermitRelease) => {
    const now = workflowNow();
    const h = s.holders.find((x) => x.requestId === requestId);
    s.holders = s.holders.filter((x) => x.requestId !== requestId);
    s.waiting = s.waiting.filter((w) => w.requestId !== requestId);
    if (h) {
      released(s.policy, h, now, seen);
      (s.done ??= []).push({ requestId, at: now });
    } else if (seen) observe(s.policy, seen, now);
    version++;
  };
  const seeing = (seen: PermitObservation) => {
    observe(s.policy, seen, workflowNow());
    version++;
  };
  setHandler(m.release, (payload: never) => release(m.toRelease(payload)));
  if (m.observe && m.toObservation) {
    const toObservation = m.toObservation;
    setHandler(m.observe, (payload: never) => seeing(toObservation(payload)));
  }
  // Before continuing as new the entity refuses updates (callers retry, reaching the next run), so the run can
  // close with every handler finished even under constant traffic.
  let moving = false;
  const open = () => {
    if (moving) throw new Error(PERMITS_MOVING);
  };
  if (m.updates) {
    setHandler(permitTryUpdate, (req) => tryNow(req), { validator: (req) => (open(), validateAsk(s.policy, req)) });
    setHandler(permitObserveUpdate, (seen) => seeing(seen), { validator: (_seen) => open() });
    setHandler(permitJoinUpdate, (c) => ((version++, joinPolicy(s.policy, c, workflowNow())), undefined), {
      validator: (c) => (open(), validateJoinPolicy(s.policy, c, entityId)),
    });
    // A key pool's ledger in the words its operators (and the quota ledger it replaces) used.
    setHandler(ledgerStateQuery, () => {
      if (s.policy.kind !== 'keyPool') throw new Error(`${entityId} is not a key pool (its policy: ${s.policy.kind})`);
      return s.policy.ledger;
    });
  }
  if (m.drain)
    setHandler(m.drain, () => {
      s.draining = true;
      version++;
    });
  setHandler(m.state, () => m.view(s));

  /** Holds `head` from now on: the entity's record of a grant (a release may arrive while it is on its way). */
  const hold = (head: PermitAsk, now: number, grant?: PermitGrant): PermitHolder => {
    const holder: PermitHolder = {
      requestId: head.requestId,
      requesterId: head.requesterId,
      ...(head.purpose ? { purpose: head.purpose } : {}),
      ...(head.leaseMs ? { leaseMs: head.leaseMs } : {}),
      grantedAt: now,
      leaseUntil: now + lease(head),
      ...(grant ? { grant } : {}),
    };
    s.holders.push(holder);
    return holder;
  };
  /** What a holder was granted, as its requester is told it (first, again after a lost grant, or by update). */
  const grantOf = (h: PermitHolder): PermitGranted => ({
    entityId,
    requestId: h.requestId,
    grantedAt: h.grantedAt,
    ...(h.grant ? { grant: h.grant } : {}),
  });
  const sendGrant = (h: PermitHolder) =>
    getExternalWorkflowHandle(h.requesterId).signal(m.granted, m.toGranted(grantOf(h)) as never);
  const counted = () => {
    s.granted++;
    s.peakHeld = Math.max(s.peakHeld, s.holders.length);
  };

  /** The update path: granted now if the policy says so and nobody waits ahead, else until when to wait. */
  function tryNow(req: PermitRequest): PermitTry {
    const now = workflowNow();
    version++;
    // Callers by update hold nothing, so their traffic is what keeps the entity from being idle (patched:
    // entities recorded before counted it idle and ended between calls, to be started again by the next one).
    if (patched('longhaul-permits-updates-not-idle')) idleSince = undefined;
    advance(s.policy, now);
    const known = s.holders.find((h) => h.requestId === req.requestId);
    if (known) return { granted: grantOf(known) }; // asked again (a retried update): the same grant
    if (s.waiting.length || now < recoverUntil) {
      const until = Math.max(now + 1_000, recoverUntil);
      return {
        wait: { until, waitMs: until - now, why: `${s.waiting.length} waiting ahead (or holders re-registering)` },
      };
    }
    const { held: _held, ...r } = req;
    const ask: PermitAsk = { ...r, since: now };
    const d = decide(s.policy, ask, s.holders, now);
    if (!d.ok)
      return Number.isFinite(d.at)
        ? { wait: { until: d.at, waitMs: d.at - now, why: d.why(formatDuration(d.at - now)) } }
        : { wait: { why: d.why('') } };
    // Only consumed grants come this way (validateAsk): counted, never held.
    s.granted++;
    return {
      granted: { entityId, requestId: req.requestId, grantedAt: now, ...(d.grant ? { grant: d.grant } : {}) },
    };
  }

  const tooLong = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? 8_000);
  };
  const moveOn = async () => {
    moving = true;
    await condition(() => true); // let pending signal handlers run
    await condition(allHandlersFinished);
    await m.continueAsNew(s);
  };

  for (;;) {
    // Under constant traffic the loop grants head after head without reaching its end: the history limit is
    // also checked before each grant (a run once grew to 14,000 events past a 1,500 limit serving 2,000
    // permits). Patched: open entities recorded before it replay as they ran.
    if (patched('longhaul-permits-limit-before-grant') && tooLong()) await moveOn();
    const now = workflowNow();
    advance(s.policy, now);
    if (s.done) s.done = s.done.filter((d) => d.at > now - DONE_MS);
    for (const h of s.holders.filter((x) => x.leaseUntil <= now)) released(s.policy, h, now); // its holder died
    s.holders = s.holders.filter((x) => x.leaseUntil > now);

    // A grant sent again is the same grant (not counted again); the requester renews its lease from now.
    // Patched: entities recorded before sent nothing there.
    const regrant = s.holders.filter((h) => lost.has(h.requestId));
    lost.clear();
    if (regrant.length && patched('longhaul-permits-regrant-lost')) {
      for (const h of regrant) {
        h.leaseUntil = Math.max(h.leaseUntil, now + lease(h));
        await sendGrant(h).catch(() => undefined); // the requester is gone: its lease reclaims the permit
      }
      continue;
    }

    const head = s.waiting[0];
    const decision = head && now >= recoverUntil ? decide(s.policy, head, s.holders, now) : undefined;
    if (head && decision?.ok) {
      s.waiting.shift();
      const holder = hold(head, now, decision.grant);
      try {
        await sendGrant(holder);
      } catch {
        // The requester is gone: the grant is withdrawn, as if never made.
        s.holders = s.holders.filter((h) => h !== holder);
        withdrawn(s.policy, holder, workflowNow());
        continue;
      }
      counted();
      continue;
    }

    if (tooLong()) await moveOn();
    const idle = s.waiting.length === 0 && s.holders.length === 0;
    if (!idle) idleSince = undefined;
    else idleSince ??= now; // an update since the last pass reset it: idle from now
    const keep = keepUntil(s.policy);
    if (idle && s.draining && nextChange(s.policy) === Infinity) return;
    if (idle && now >= keep && now - idleSince! >= idleMs) return;

    setCurrentDetails(
      `**${input.label}** · ${describePolicy(s.policy, s.holders)} · ${s.waiting.length} waiting · ` +
        `${thousands(s.granted)} granted`,
    );
    const waiting = s.waiting.length;
    const wakes: Wake[] = [
      {
        at: head ? (decision && !decision.ok ? decision.at : recoverUntil) : Infinity,
        why: (w) =>
          decision && !decision.ok
            ? `${decision.why(w)} · ${waiting} waiting`
            : `restarted: holders re-register before new grants, in ${w}`,
      },
      {
        at: s.holders.length ? Math.min(...s.holders.map((h) => h.leaseUntil)) : Infinity,
        why: (w) => `a permit's lease ends in ${w} (reclaimed if its holder died)`,
      },
      { at: idle ? Math.max(keep, idleSince! + idleMs) : Infinity, why: (w) => idleWhy(s.policy, w) },
      { at: nextChange(s.policy), why: (w) => `a finished call leaves the 60-second window in ${w}` },
    ];
    const wake = wakes.reduce((a, b) => (b.at < a.at ? b : a));
    const seen = version;
    if (Number.isFinite(wake.at) && ![...pending].some((t) => t <= wake.at)) {
      pending.add(wake.at);
      const ms = Math.max(1, wake.at - workflowNow());
      void sleep(ms, { summary: `${input.label}: ${wake.why(formatDuration(ms))}` }).then(() => {
        pending.delete(wake.at);
        version++;
      });
    }
    await condition(() => version !== seen);
  }
}
