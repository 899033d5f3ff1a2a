/**
 * A workflow's side of a permit entity (permits.ts): `acquire` asks (a signal, or — when the entity is not
 * running — the `request` activity, which signal-with-starts it), waits for the grant as long as it takes, and
 * `release` gives the permit back with what the API said; `withPermit` does both around a call. While a
 * permit is held its lease is renewed every `renewMs` (a holder that dies loses it within the lease); a
 * request not granted is asked again every `reaskMs` — an entity that was ending, or was terminated, has not
 * lost us. One watchdog loop of plain timers does both, and stops when nothing is waiting or held.
 * Workflow-safe.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  uuid4,
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

/** Grants of every entity this workflow uses, by entity then request (one signal handler per workflow). */
const grants = new Map<string, Map<string, PermitGranted>>();
let listening = false;
function listen(): void {
  if (listening) return;
  listening = true;
  setHandler(permitGrantedSignal, (g) => {
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
  private readonly holding = new Map<string, { ask: PermitRequest; renewedAt: number }>();
  private watchdog = false;

  /** Create once per workflow run and entity. */
  constructor(
    private readonly ref: PermitsRef,
    private readonly requesterId: string,
    private readonly progress?: ProgressTracker,
  ) {
    listen();
  }

  private get renewMs() {
    return this.ref.renewMs ?? Math.max(1_000, Math.floor(this.ref.entity.leaseMs / 3));
  }
  private get reaskMs() {
    return this.ref.reaskMs ?? 5 * 60_000;
  }

  private async send(ask: PermitRequest, summary: string): Promise<void> {
    try {
      await getExternalWorkflowHandle(this.ref.entityId).signal(permitAskSignal, ask);
    } catch {
      await this.ref.request({ entityId: this.ref.entityId, entity: this.ref.entity, ask }, summary);
    }
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = true;
    const every = Math.min(this.renewMs, this.reaskMs);
    void (async () => {
      while (this.waiting.size || this.holding.size) {
        await sleep(every, {
          summary: `${this.ref.what}: every ${formatDuration(every)}, renew held leases and ask again for permits not granted`,
        });
        const now = workflowNow();
        for (const w of this.waiting.values())
          if (now - w.askedAt >= this.reaskMs) {
            w.askedAt = now;
            // Through the activity: it restarts an entity that ended, from its last state.
            await this.ref.request(
              { entityId: this.ref.entityId, entity: this.ref.entity, ask: w.ask },
              `${this.ref.what}: ask again (${w.ask.purpose ?? 'a permit'})`,
            );
          }
        for (const h of this.holding.values())
          if (now - h.renewedAt >= this.renewMs) {
            h.renewedAt = now;
            await this.send({ ...h.ask, held: true }, `${this.ref.what}: renew the lease (${h.ask.purpose ?? ''})`);
          }
      }
      this.watchdog = false;
    })();
  }

  /** Waits (durably, as long as it takes) for a permit. */
  async acquire(purpose: string, want: { method?: string; calls?: number } = {}): Promise<Held> {
    const requestId = uuid4();
    const ask: PermitRequest = { requestId, requesterId: this.requesterId, purpose, ...want };
    const now = workflowNow();
    try {
      await this.send(ask, `${this.ref.what}: ask (${purpose})`);
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
    this.holding.set(requestId, { ask, renewedAt: workflowNow() });
    return { requestId, grantedAt: g.grantedAt, ...(g.grant ? { grant: g.grant } : {}) };
  }

  /** Gives the permit back (safe twice, and while cancelled), with what the API said on its call. */
  release(requestId: string, seen?: PermitObservation): Promise<void> {
    this.holding.delete(requestId);
    return CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(this.ref.entityId)
        .signal(permitReleaseSignal, { requestId, ...(seen ? { seen } : {}) })
        // Fails only when the entity is gone: it holds nothing then, or its lease reclaims the permit.
        .catch(() => undefined),
    );
  }

  /** Tells the entity what the API said outside a release (a 429 that holds everyone back). */
  observe(seen: PermitObservation): Promise<void> {
    return getExternalWorkflowHandle(this.ref.entityId)
      .signal(permitObserveSignal, seen)
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
