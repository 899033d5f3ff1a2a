/**
 * Activity side of the permit entity (src/kit/limits/permits.ts): `requestPermit` queues a request at the
 * entity by signal-with-start, so the entity exists when needed. An entity that is not running (ended,
 * terminated, failed) is started again from its last state — holders, waiters and the policy's counts must
 * survive, or the new entity would grant what the old one had given; when that state cannot be read after an
 * abnormal end, the new entity first lets holders re-register (`recoverMs`) before granting anyone.
 * Idempotent per requestId.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  permitAskSignal,
  permitStateQuery,
  type PermitEntityInput,
  type PermitEntityState,
  type PermitRequest,
} from '../limits/permits';

export interface RequestPermitInput {
  entityId: string;
  entity: Omit<PermitEntityInput, 'state' | 'recoverMs'>;
  ask: PermitRequest;
}

const ABNORMAL = new Set(['TERMINATED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

/** How a stopped entity left things: its state if readable; whether it ended abnormally. */
async function predecessor(client: Client, entityId: string) {
  try {
    const handle = client.workflow.getHandle(entityId);
    const status = (await handle.describe()).status.name;
    if (status === 'RUNNING') return { running: true };
    const state = await handle.query(permitStateQuery).catch(() => undefined);
    return { running: false, state, abnormal: ABNORMAL.has(status) };
  } catch {
    return { running: false }; // never ran
  }
}

export async function requestPermit(client: Client, taskQueue: string, { entityId, entity, ask }: RequestPermitInput) {
  const last = await predecessor(client, entityId);
  const state: PermitEntityState | undefined = last.state ? { ...last.state, draining: false } : undefined;
  await client.workflow.signalWithStart('permits', {
    workflowId: entityId,
    taskQueue,
    args: [
      {
        ...entity,
        ...(state ? { state } : last.abnormal ? { recoverMs: Math.min(entity.leaseMs, 2 * 60_000) } : {}),
      } satisfies PermitEntityInput,
    ],
    signal: permitAskSignal,
    signalArgs: [ask],
  });
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
