/**
 * The permit entity: one workflow per shared limit (registered as `permits`; ID chosen by the user of the
 * limit, e.g. `permits-acme-reports-<account>`) that every run of every worker asks before it uses the limited
 * resource. One protocol for every limit, the decision left to a pure policy (permit-policies.ts):
 * - a requester asks (`permitAsk`, through an activity that signal-with-starts the entity when it is not
 *   running); requests wait in one queue, first come first served — the head is granted as soon as its
 *   policy says so (`permitGranted` to the requester, with what the grant gives, e.g. a key);
 * - a holder renews its lease by asking again with `held` (which also re-registers it with an entity that
 *   restarted without it), and releases (`permitRelease`, with what the API said); a holder whose lease runs
 *   out (its run died) is reclaimed;
 * - the API's signs (a 429, "quota exceeded", an invalid key) reach the policy (`permitObserve`);
 * - the entity continues as new with its state — holders, waiters, the policy's counts — when its history
 *   grows, ends when idle once its counts no longer matter (`keepUntil`), or when drained.
 * Timers are never cancelled (a pending one at or before the wake time is reused): the time-skipping test
 * server strands a run whose task cancels a timer that fired meanwhile (sdk-java#3088). Workflow-safe.
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
  withdrawn,
  type PolicyConfig,
  type PolicyState,
} from './permit-policies';

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
  continueAsNew: () => {
    throw new Error('PERMIT_MESSAGES.continueAsNew is bound by permits()');
  },
};

export async function permits(input: PermitEntityInput): Promise<void> {
  await permitEntity(input, {
    ...PERMIT_MESSAGES,
    continueAsNew: (state) => continueAsNew<typeof permits>({ ...input, state, recoverMs: undefined }),
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
  reconfigure(s.policy, input.policy, workflowNow());
  const idleMs = input.idleMs ?? 10 * 60_000;
  const recoverUntil = input.recoverMs && !input.state ? workflowNow() + input.recoverMs : 0;
  let version = 0;
  let idleSince: number | undefined;
  const pending = new Set<number>();
  const lease = (r: { leaseMs?: number }) => r.leaseMs ?? input.leaseMs;

  setHandler(m.ask, (payload: never) => {
    const req = m.toAsk(payload);
    const now = workflowNow();
    const holder = s.holders.find((h) => h.requestId === req.requestId);
    const { held, ...r } = req;
    if (holder) {
      if (held) holder.leaseUntil = now + lease(holder);
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
  setHandler(m.release, (payload: never) => {
    const { requestId, seen } = m.toRelease(payload);
    const now = workflowNow();
    const h = s.holders.find((x) => x.requestId === requestId);
    s.holders = s.holders.filter((x) => x.requestId !== requestId);
    s.waiting = s.waiting.filter((w) => w.requestId !== requestId);
    if (h) {
      released(s.policy, h, now, seen);
      (s.done ??= []).push({ requestId, at: now });
    } else if (seen) observe(s.policy, seen, now);
    version++;
  });
  if (m.observe && m.toObservation) {
    const toObservation = m.toObservation;
    setHandler(m.observe, (payload: never) => {
      observe(s.policy, toObservation(payload), workflowNow());
      version++;
    });
  }
  if (m.drain)
    setHandler(m.drain, () => {
      s.draining = true;
      version++;
    });
  setHandler(m.state, () => m.view(s));

  for (;;) {
    const now = workflowNow();
    advance(s.policy, now);
    if (s.done) s.done = s.done.filter((d) => d.at > now - DONE_MS);
    for (const h of s.holders.filter((x) => x.leaseUntil <= now)) released(s.policy, h, now); // its holder died
    s.holders = s.holders.filter((x) => x.leaseUntil > now);

    const head = s.waiting[0];
    const decision = head && now >= recoverUntil ? decide(s.policy, head, s.holders, now) : undefined;
    if (head && decision?.ok) {
      s.waiting.shift();
      const holder: PermitHolder = {
        requestId: head.requestId,
        requesterId: head.requesterId,
        ...(head.purpose ? { purpose: head.purpose } : {}),
        ...(head.leaseMs ? { leaseMs: head.leaseMs } : {}),
        grantedAt: now,
        leaseUntil: now + lease(head),
        ...(decision.grant ? { grant: decision.grant } : {}),
      };
      // Held from the moment it is granted: a release may arrive while the grant is on its way.
      s.holders.push(holder);
      try {
        await getExternalWorkflowHandle(head.requesterId).signal(
          m.granted,
          m.toGranted({
            entityId,
            requestId: head.requestId,
            grantedAt: now,
            ...(decision.grant ? { grant: decision.grant } : {}),
          }) as never,
        );
      } catch {
        // The requester is gone: the grant is withdrawn, as if never made.
        s.holders = s.holders.filter((h) => h !== holder);
        withdrawn(s.policy, holder, workflowNow());
        continue;
      }
      s.granted++;
      s.peakHeld = Math.max(s.peakHeld, s.holders.length);
      continue;
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? 8_000)) {
      await condition(() => true); // let pending signal handlers run
      await m.continueAsNew(s);
    }
    const idle = s.waiting.length === 0 && s.holders.length === 0;
    if (!idle) idleSince = undefined;
    else idleSince ??= now;
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
