/** Helpers of the permit entity's tests: an entity's settings, requesters to signal grants to, requests. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { permitAskSignal, permitDrainSignal, type PermitEntityInput } from '../../src/kit/limits/permits';
import { uniqueQueue } from './temporal';

/** A concurrency entity of `permits` slots with a 60-second lease. */
export const entity = (permits: number, extra: Partial<PermitEntityInput> = {}): PermitEntityInput => ({
  policy: { kind: 'concurrency', permits },
  leaseMs: 60_000,
  label: 'test slots',
  ...extra,
});

/** A request of `requesterId`, its purpose its id. */
export const ask = (requestId: string, requesterId: string) => ({ requestId, requesterId, purpose: requestId });

/** Requesters: running workflows the grants are signalled to (idle entities that never end on their own). */
export async function requesters(env: TestWorkflowEnvironment, taskQueue: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => uniqueQueue(`requester-${i}`));
  for (const id of ids)
    await env.client.workflow.start('permits', {
      taskQueue,
      workflowId: id,
      args: [entity(1, { idleMs: 30 * 86_400_000 })],
    });
  return ids;
}

/**
 * Ends an entity the test started (a requester here is one), drained while the worker still polls: terminated
 * with a timer pending, it would strand the shared time-skipping server's clock when that timer comes due.
 */
export async function stop(env: TestWorkflowEnvironment, id: string): Promise<void> {
  const handle = env.client.workflow.getHandle(id);
  await handle.signal(permitDrainSignal).catch(() => undefined); // ended already
  await handle.result().catch(() => undefined);
}

/** Starts an entity (`permits` workflow `id`) with its first request, as the request activity does. */
export const startEntity = (
  env: TestWorkflowEnvironment,
  taskQueue: string,
  id: string,
  input: PermitEntityInput,
  first: ReturnType<typeof ask>,
) =>
  env.client.workflow.signalWithStart('permits', {
    taskQueue,
    workflowId: id,
    args: [input],
    signal: permitAskSignal,
    signalArgs: [first],
  });
