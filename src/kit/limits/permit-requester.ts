/**
 * A workflow's side of a permit entity (permits.ts): `acquire` asks (a signal, or — when the entity is not
 * running — the `request` activity, which signal-with-starts it), waits for the grant as long as it takes, and
 * `release` gives the permit back with what the API said; `withPermit` does both around a call. While a
 * permit is held its lease is renewed every `renewMs` (a holder that dies loses it within the lease); a
 * request not granted is asked again every `reaskMs` — an entity that was ending, or was terminated, has not
 * lost us. One watchdog loop of plain timers does both, and stops when nothing is waiting or held: it sleeps
 * until the next renewal or re-ask is due — at most min(renewMs, reaskMs) — (renewing what falls due within a
 * quarter period early, so holders share a wake), and re-asks by signal — the `request` activity only when the entity is gone, to
 * start it again from its last state (`PERMITS_WATCHDOG_DUE`). Workflow-safe.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  uuid4,
  type SignalDefinition,
} from '@temporalio/workflow';
import { formatDuration } from '../../shared/durations';
import { workflowNow, type ProgressTracker } from '../workflow';
import type { PermitGrant, PermitObservation } from './permit-policies';
import {
  permitAskSignal,
  permitGrantedSignal,
  permitObserveSignal,
  permitReleaseSignal,
  type PermitEntityInput,
  type PermitGranted,
  type PermitRequest,
} from './permits';

/**
 * The signals a requester speaks with its entity: the permit entity's own (`PERMIT_WORDS`), or — for an entity
 * registered under an older type (`semaphore`, `datoramaLimiter`) — that type's, whose grants do not name the
 * entity. Payloads are the permit entity's; `toRelease` and `toGranted` translate.
 */
export interface RequesterWords {
  ask: SignalDefinition<[never]>;
  release: SignalDefinition<[never]>;
  toRelease(r: { requestId: string; seen?: PermitObservation }): unknown;
  observe?: SignalDefinition<[never]>;
  granted: SignalDefinition<[never]>;
  toGranted(payload: never, entityId: string): PermitGranted;
}

export const PERMIT_WORDS: RequesterWords = {
  ask: permitAskSignal as SignalDefinition<[never]>,
  release: permitReleaseSignal as SignalDefinition<[never]>,
  toRelease: (r) => r,
  observe: permitObserveSignal as SignalDefinition<[never]>,
  granted: permitGrantedSignal as SignalDefinition<[never]>,
  toGranted: (g: PermitGranted) => g,
};

/**
 * The patch after which the watchdog wakes when something is due rather than every min(renewMs, reaskMs), and
 * re-asks by signal first (before it: every re-ask was the `request` activity). Each saves workflow tasks: a
 * 3-year Dailymotion backfill's windows woke every 3 minutes of a 71-hour wait for slots.
 */
export const PERMITS_WATCHDOG_DUE = 'longhaul-permits-watchdog-due';

/** Grants of every entity this workflow uses, by entity then request (one handler per grant signal). */
const grants = new Map<string, Map<string, PermitGranted>>();
const listening = new Set<string>();
function listen(words: RequesterWords, entityId: string): void {
  if (listening.has(words.granted.name)) return;
  listening.add(words.granted.name);
  setHandler(words.granted, (payload: never) => {
    const g = words.toGranted(payload, entityId);
    const of = grants.get(g.entityId) ?? new Map<string, PermitGranted>();
    of.set(g.requestId, g);
    grants.set(g.entityId, of);
  });
}

export interface PermitsRef {
  entityId: string;
  /** The entity's settings (used when the request activity has to start it). */
  entity: Omit<PermitEntityInput, 'state' | 'recoverMs'>;
  /** What a permit is, for summaries: "Acme Ads report slot". */
  what: string;
  renewMs?: number;
  reaskMs?: number;
  /** A lease for each ask shorter than the entity's (ms), renewed every `renewMs` while held. */
  askLeaseMs?: number;
  /** The signals spoken (default: the permit entity's). */
  words?: RequesterWords;
  /** The activity that signal-with-starts the entity and queues `request` (the kit's `requestPermit`). */
  request(
    input: { entityId: string; entity: PermitsRef['entity']; ask: PermitRequest },
    summary: string,
  ): Promise<void>;
}

export interface Held {
  requestId: string;
  grantedAt: number;
  grant?: PermitGrant;
}

export class Permits {
  private readonly waiting = new Map<string, { ask: PermitRequest; since: number; askedAt: number }>();
  /** Held permits, with the lease renewal on its way (a release waits for it: none lands after the release). */
  private readonly holding = new Map<string, { ask: PermitRequest; renewedAt: number; renewal: Promise<void> }>();
  private watchdog = false;
  private readonly words: RequesterWords;

  /** Create once per workflow run and entity. */
  constructor(
    private readonly ref: PermitsRef,
    private readonly requesterId: string,
    private readonly progress?: ProgressTracker,
  ) {
    this.words = ref.words ?? PERMIT_WORDS;
    listen(this.words, ref.entityId);
  }

  private get renewMs() {
    return this.ref.renewMs ?? Math.max(1_000, Math.floor(this.ref.entity.leaseMs / 3));
  }
  private get reaskMs() {
    return this.ref.reaskMs ?? 5 * 60_000;
  }

  private async send(ask: PermitRequest, summary: string): Promise<void> {
    try {
      await getExternalWorkflowHandle(this.ref.entityId).signal(this.words.ask, ask as never);
    } catch {
      await this.ref.request({ entityId: this.ref.entityId, entity: this.ref.entity, ask }, summary);
    }
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = true;
    const onDue = patched(PERMITS_WATCHDOG_DUE);
    const every = Math.min(this.renewMs, this.reaskMs);
    // Renewed or re-asked early by this much when the watchdog is awake anyway (onDue only).
    const early = onDue ? Math.floor(every / 4) : 0;
    const summary = onDue
      ? `${this.ref.what}: renew held leases every ${formatDuration(this.renewMs)}, ask again every ${formatDuration(this.reaskMs)} for permits not granted`
      : `${this.ref.what}: every ${formatDuration(every)}, renew held leases and ask again for permits not granted`;
    void (async () => {
      while (this.waiting.size || this.holding.size) {
        await sleep(onDue ? this.nextWake() : every, { summary });
        const now = workflowNow();
        for (const w of this.waiting.values())
          if (now + early - w.askedAt >= this.reaskMs) {
            w.askedAt = now;
            const why = `wait for a ${this.ref.what}: ask again (${w.ask.purpose ?? 'not granted yet'})`;
            // By signal when the entity runs; else the activity starts it again, from its last state.
            if (onDue) await this.send(w.ask, why);
            else await this.ref.request({ entityId: this.ref.entityId, entity: this.ref.entity, ask: w.ask }, why);
          }
        for (const h of this.holding.values())
          if (now + early - h.renewedAt >= this.renewMs) {
            h.renewedAt = now;
            h.renewal = this.send(
              { ...h.ask, held: true },
              `renew the ${this.ref.what} lease${h.ask.purpose ? ` (${h.ask.purpose})` : ''}`,
            ).catch(() => undefined); // the next renewal (or the lease) takes over
            await h.renewal;
          }
      }
      this.watchdog = false;
    })();
  }

  /**
   * How long the watchdog sleeps: until the first renewal or re-ask falls due, and never longer than
   * min(`renewMs`, `reaskMs`) — a request made during the sleep is asked again in time (Datorama re-asks
   * sooner than it renews), and a permit granted during it is first renewed within `renewMs`.
   */
  private nextWake(): number {
    const now = workflowNow();
    let next = now + Math.min(this.renewMs, this.reaskMs);
    for (const w of this.waiting.values()) next = Math.min(next, w.askedAt + this.reaskMs);
    for (const h of this.holding.values()) next = Math.min(next, h.renewedAt + this.renewMs);
    return Math.max(Math.min(1_000, this.renewMs, this.reaskMs), next - now);
  }

  /** Waits (durably, as long as it takes) for a permit. */
  async acquire(purpose: string, want: { method?: string; calls?: number } = {}): Promise<Held> {
    const requestId = uuid4();
    const ask: PermitRequest = {
      requestId,
      requesterId: this.requesterId,
      purpose,
      ...want,
      ...(this.ref.askLeaseMs ? { leaseMs: this.ref.askLeaseMs } : {}),
    };
    const now = workflowNow();
    try {
      await this.send(ask, `wait for a ${this.ref.what}: ${purpose}`);
      this.waiting.set(requestId, { ask, since: now, askedAt: now });
      this.startWatchdog();
      this.showWaiting();
      await condition(() => grants.get(this.ref.entityId)?.has(requestId) ?? false);
    } catch (err) {
      await this.release(requestId); // cancelled while waiting: withdraw the request
      throw err;
    } finally {
      this.waiting.delete(requestId);
      this.showWaiting();
    }
    const g = grants.get(this.ref.entityId)!.get(requestId)!;
    grants.get(this.ref.entityId)!.delete(requestId);
    this.holding.set(requestId, { ask, renewedAt: workflowNow(), renewal: Promise.resolve() });
    return { requestId, grantedAt: g.grantedAt, ...(g.grant ? { grant: g.grant } : {}) };
  }

  /** Gives the permit back (safe twice, and while cancelled), with what the API said on its call. */
  release(requestId: string, seen?: PermitObservation): Promise<void> {
    const renewal = this.holding.get(requestId)?.renewal;
    this.holding.delete(requestId);
    return CancellationScope.nonCancellable(async () => {
      await renewal; // a renewal still on its way must not land after the release
      await getExternalWorkflowHandle(this.ref.entityId)
        .signal(this.words.release, this.words.toRelease({ requestId, ...(seen ? { seen } : {}) }) as never)
        // Fails only when the entity is gone: it holds nothing then, or its lease reclaims the permit.
        .catch(() => undefined);
    });
  }

  /** Tells the entity what the API said outside a release (a 429 that holds everyone back). */
  async observe(seen: PermitObservation): Promise<void> {
    if (!this.words.observe) return;
    await getExternalWorkflowHandle(this.ref.entityId)
      .signal(this.words.observe, seen as never)
      .catch(() => undefined);
  }

  /** `fn` under a permit, released afterwards (also when `fn` fails). */
  async withPermit<T>(purpose: string, fn: (held: Held) => Promise<T>): Promise<T> {
    const held = await this.acquire(purpose);
    try {
      return await fn(held);
    } finally {
      await this.release(held.requestId);
    }
  }

  private showWaiting(): void {
    if (!this.progress) return;
    const w = [...this.waiting.values()];
    if (!w.length) return this.progress.detail(undefined);
    const oldest = w.reduce((a, b) => (b.since < a.since ? b : a));
    this.progress.detail(
      `waiting for ${w.length === 1 ? `a ${this.ref.what}` : `${w.length} × ${this.ref.what}`} since ` +
        `${new Date(oldest.since).toISOString()}: ${oldest.ask.purpose ?? ''}`,
    );
  }
}
