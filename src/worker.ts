/**
 * The longhaul worker: registers every workflow and activity on the main task queue.
 * `longhaul worker` (or `npm run worker`) runs it against TEMPORAL_ADDRESS.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { loadConfig, type Config } from './config';
import { createActivities } from './activities';
import type { Deps } from './activities/deps';
import type { WithVideosStore } from './pipelines/youtube/activities/watch';
import { createBucket, createWarehouse } from './sinks';
import { LazyVideosStore } from './sinks/videos';
import { TASK_QUEUES } from './shared/task-queues';
import { dataConverterFromEnv } from './codec/aes-codec';
import { createDatoramaWorker } from './datorama-worker';
import { installRuntime } from './node/runtime';
import { workflowsEntry } from './workflow-entry';

export type WorkerDeps = Deps & Required<WithVideosStore>;

/** The worker's sinks: the warehouse, the bucket and the videos store (opened on first use). */
export function createDeps(config: Config): WorkerDeps {
  return {
    config,
    warehouse: createWarehouse(config),
    bucket: createBucket(config),
    videos: new LazyVideosStore(config),
  };
}

/** Closes what createDeps opened (at worker shutdown). */
export async function closeDeps(deps: WorkerDeps): Promise<void> {
  await Promise.allSettled([deps.warehouse.close(), deps.videos.close()]);
}

export interface LonghaulWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  deps: Deps & WithVideosStore;
  taskQueue?: string;
  /** A pre-built bundle (tests build it once); else the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  overrides?: Partial<WorkerOptions>;
}

export async function createWorker(opts: LonghaulWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? opts.deps.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.taskQueue ?? opts.deps.config.LONGHAUL_TASK_QUEUE ?? TASK_QUEUES.main,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsEntry() }),
    activities: createActivities(opts.deps),
    // Payload encryption when LONGHAUL_ENCRYPTION_KEY is set (docs/security.md).
    dataConverter: dataConverterFromEnv(),
    ...opts.overrides,
  });
}

/** Runs the worker until SIGINT/SIGTERM. */
export async function runWorker(config = loadConfig()): Promise<void> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const deps = createDeps(config);
  try {
    const worker = await createWorker({ connection, deps });
    // Datorama: a second worker on its own queue, rate-limited server-side (src/datorama-worker.ts).
    const datorama = await createDatoramaWorker({ connection, deps });
    await Promise.all([worker.run(), datorama.run()]);
  } finally {
    await closeDeps(deps);
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
