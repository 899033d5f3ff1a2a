/**
 * Activity side of the permit entity (src/kit/limits/permits.ts), the one client of it outside workflows:
 * - `requestPermit` queues a workflow's request at the entity by signal-with-start (the grant is signalled to
 *   the workflow), idempotent per requestId;
 * - `PermitClient` serves an activity that uses a policy whose grants are consumed at once (a key pool's
 *   units): it asks by update (granted now, or until when to wait), reports what the API said by update (the
 *   unused units among it), and joins its configuration to the
 *   entity's (a contradiction is a non-retryable `PermitConflict`).
 * Either way an entity that is not running (ended, terminated, failed) is started again from its last state —
 * holders, waiters and the policy's counts must survive, or the new entity would grant what the old one had
 * given; when that state cannot be read after an abnormal end, the new entity first lets holders re-register
 * (`recoverMs`) before granting anyone.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { PermitObservation } from '../limits/permit-policies';
import {
  permitAskSignal,
  permitJoinUpdate,
  permitObserveUpdate,
  permitStateQuery,
  permitTryUpdate,
  type PermitEntityInput,
  type PermitEntityState,
  type PermitRequest,
  type PermitTry,
} from '../limits/permits';
import { LEDGER_CONFLICT } from '../limits/quota-state';

export interface RequestPermitInput {
  entityId: string;
  entity: Omit<PermitEntityInput, 'state' | 'recoverMs'>;
  ask: PermitRequest;
}

const ABNORMAL = new Set(['TERMINATED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

/**
 * Takes over from a workflow of another type that ran the same limit under the same ID (an older mechanism):
 * reads its state, ends it, and returns the state the permit entity starts from — with the settings it ran
 * with when it was still running (they hold: the caller's then join them, or are refused). Undefined: not one
 * of its.
 */
export type Takeover = (
  client: Client,
  described: WorkflowExecutionDescription,
) => Promise<{ state: PermitEntityState; policy?: PermitEntityInput['policy'] } | undefined>;

/** How a stopped entity left things: its state if readable; whether it ended abnormally. */
async function predecessor(client: Client, entityId: string, takeover?: Takeover) {
  try {
    const handle = client.workflow.getHandle(entityId);
    const described = await handle.describe();
    if (described.type !== 'permits' && takeover) {
      const taken = await takeover(client, described);
      if (taken) return { running: false, ...taken, abnormal: false };
    }
    const status = described.status.name;
    if (status === 'RUNNING') return { running: true };
    const state = await handle.query(permitStateQuery).catch(() => undefined);
    return { running: false, state, abnormal: ABNORMAL.has(status) };
  } catch {
    return { running: false }; // never ran
  }
}

/** The entity's start input: from its predecessor's state, or after an abnormal end, holders first. */
async function startInput(
  client: Client,
  entityId: string,
  entity: RequestPermitInput['entity'],
  takeover?: Takeover,
): Promise<PermitEntityInput> {
  const last: { state?: PermitEntityState; policy?: PermitEntityInput['policy']; abnormal?: boolean } =
    await predecessor(client, entityId, takeover);
  const state: PermitEntityState | undefined = last.state ? { ...last.state, draining: false } : undefined;
  return {
    ...entity,
    ...(last.policy ? { policy: last.policy } : {}),
    ...(state
      ? { state, ...(last.abnormal ? { recovered: true } : {}) }
      : last.abnormal
        ? { recoverMs: Math.min(entity.leaseMs, 2 * 60_000) }
        : {}),
  };
}

export async function requestPermit(client: Client, taskQueue: string, { entityId, entity, ask }: RequestPermitInput) {
  await client.workflow.signalWithStart('permits', {
    workflowId: entityId,
    taskQueue,
    args: [await startInput(client, entityId, entity)],
    signal: permitAskSignal,
    signalArgs: [ask],
  });
}

const MAX_ATTEMPTS = 60;
/**
 * Updates this process has in flight to any entity, at most MAX_IN_FLIGHT: the server admits only a few
 * in-flight updates per workflow (10 by default), and a crowd of refused updates only churns it.
 */
const MAX_IN_FLIGHT = 4;
let inFlight = 0;
const queue: (() => void)[] = [];
async function slot<R>(f: () => Promise<R>): Promise<R> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => queue.push(r));
  else inFlight++;
  try {
    return await f();
  } finally {
    const next = queue.shift();
    if (next) next();
    else inFlight--;
  }
}

/** Entities this process has joined (by entity, queue and configuration): joined once, not per call. */
const joined = new Set<string>();

/** An activity's hold on a permit entity: ask now (or learn until when to wait), release, report. */
export class PermitClient {
  private readonly joinKey: string;

  constructor(
    private readonly client: Client,
    readonly entityId: string,
    private readonly taskQueue: string,
    private readonly entity: RequestPermitInput['entity'],
    private readonly takeover?: Takeover,
  ) {
    this.joinKey = `${entityId}|${taskQueue}|${JSON.stringify(entity.policy)}`;
  }

  /** Called while an update is being retried (an activity heartbeats, so a long wait is not a dead worker). */
  onRetry?: () => void;

  private handle() {
    return this.client.workflow.getHandle(this.entityId);
  }

  /**
   * Starts the entity if it is not running (from its predecessor's state) and joins this caller's
   * configuration; one that contradicts the running entity's is refused: a non-retryable PermitConflict.
   */
  private async ensure(): Promise<void> {
    try {
      await this.client.workflow.start('permits', {
        workflowId: this.entityId,
        taskQueue: this.taskQueue,
        args: [await startInput(this.client, this.entityId, this.entity, this.takeover)],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await this.handle().executeUpdate(permitJoinUpdate, { args: [this.entity.policy] });
    } catch (err) {
      const message = err instanceof WorkflowUpdateFailedError ? String((err.cause as Error)?.message) : '';
      if (message.startsWith(LEDGER_CONFLICT)) throw ApplicationFailure.nonRetryable(message, 'PermitConflict');
      throw err;
    }
    joined.add(this.joinKey);
  }

  /**
   * Sends an update. An entity that is not running is started; one that is continuing as new (its validators
   * answer PermitsMoving, or the server aborts the update as the run closes) or that has too many updates in
   * flight is asked again shortly, with jittered backoff.
   */
  private async send<R>(f: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!joined.has(this.joinKey)) await slot(() => this.ensure());
        return await slot(f);
      } catch (err) {
        const text = `${String(err)} ${String((err as { cause?: unknown }).cause)}`;
        const gone = err instanceof WorkflowNotFoundError || /workflow execution already completed/i.test(text);
        const moving = text.includes('PermitsMoving') || /update was aborted/i.test(text);
        const crowded = /in-flight updates/i.test(text);
        if ((!gone && !moving && !crowded) || attempt >= MAX_ATTEMPTS) throw err;
        if (gone) joined.delete(this.joinKey);
        this.onRetry?.();
        const backoff = Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
        await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * backoff));
      }
    }
  }

  /** Granted now, or until when to wait. `ask.requestId` defaults to a fresh one. */
  try(ask: Omit<PermitRequest, 'requestId'> & { requestId?: string }): Promise<PermitTry> {
    const req: PermitRequest = { ...ask, requestId: ask.requestId ?? randomUUID() };
    return this.send(() => this.handle().executeUpdate(permitTryUpdate, { args: [req] }));
  }
  observe(seen: PermitObservation): Promise<void> {
    return this.send(() => this.handle().executeUpdate(permitObserveUpdate, { args: [seen] }));
  }
}

export function createPermitActivities() {
  return {
    /** Queues a permit request at its entity (signal-with-start, on the caller's task queue). */
    async requestPermit(input: RequestPermitInput): Promise<void> {
      const ctx = Context.current();
      await requestPermit(ctx.client, ctx.info.taskQueue, input);
    },
  };
}
