/**
 * The second worker: it polls the `datorama` task queue, where only the Datorama platform-call activities
 * run (one platform call each). `maxTaskQueueActivitiesPerSecond` is enforced by the Temporal server for
 * the whole queue — every worker of every process together — at the token's rate (60/min = 1/s): a
 * server-side backstop behind the durable limiter (src/pipelines/datorama/workflows/limiter.ts), which is exact in
 * any 60-second window and also holds on the time-skipping test server (which ignores this option).
 */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createDatoramaCallActivities } from './pipelines/datorama/activities/calls';
import type { Deps } from './activities/deps';
import { dataConverterFromEnv } from './codec/aes-codec';
import { callQueueOf } from './pipelines/datorama/shared';
import { TASK_QUEUES } from './shared/task-queues';

export function datoramaWorkerOptions(deps: Deps, mainQueue: string = TASK_QUEUES.main) {
  return {
    taskQueue: callQueueOf(mainQueue),
    activities: createDatoramaCallActivities(deps),
    maxTaskQueueActivitiesPerSecond: deps.config.DATORAMA_PER_MINUTE / 60,
    maxConcurrentActivityTaskExecutions: 4,
  } satisfies Partial<WorkerOptions>;
}

export async function createDatoramaWorker(opts: {
  connection: NativeConnection;
  deps: Deps;
  namespace?: string;
  overrides?: Partial<WorkerOptions>;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? opts.deps.config.TEMPORAL_NAMESPACE,
    // The call queue of the main queue this process's worker polls (LONGHAUL_TASK_QUEUE, default `longhaul`).
    ...datoramaWorkerOptions(opts.deps, opts.deps.config.LONGHAUL_TASK_QUEUE),
    dataConverter: dataConverterFromEnv(),
    ...opts.overrides,
  });
}
