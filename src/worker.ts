/**
 * The longhaul worker: registers every workflow and activity on the main task queue.
 * `longhaul worker` (or `npm run worker`) runs it against TEMPORAL_ADDRESS.
 */
import { Connection } from '@temporalio/client';
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
import { promoteIfFirst, workerVersioning, type WorkerVersion } from './node/deployment';

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
  /** The bundle and Worker Deployment version (workerVersioning), when the caller has them already. */
  versioning?: Awaited<ReturnType<typeof workerVersioning>>;
  overrides?: Partial<WorkerOptions>;
}

export async function createWorker(opts: LonghaulWorkerOptions): Promise<Worker> {
  // LONGHAUL_DEPLOYMENT set: a versioned worker of that deployment (src/node/deployment.ts).
  const { version: _v, ...versioning } =
    opts.versioning ?? (await workerVersioning(opts.deps.config, opts.workflowBundle));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? opts.deps.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.taskQueue ?? opts.deps.config.LONGHAUL_TASK_QUEUE ?? TASK_QUEUES.main,
    ...versioning,
    activities: createActivities(opts.deps),
    // Payload encryption when LONGHAUL_ENCRYPTION_KEY is set (docs/security.md).
    dataConverter: dataConverterFromEnv(),
    ...opts.overrides,
  });
}

/** A deployment's first build makes itself current; a later one waits for `longhaul deploy promote`. */
async function announceFirstBuild(config: Config, v: WorkerVersion): Promise<void> {
  const client = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const state = await promoteIfFirst(client, config.TEMPORAL_NAMESPACE, v);
    console.log(
      state === 'first'
        ? `longhaul worker: first build of deployment ${v.deploymentName}: made current`
        : state === 'current'
          ? `longhaul worker: build ${v.buildId} is the current build`
          : `longhaul worker: build ${v.buildId} gets no new runs until promoted: longhaul deploy promote ${v.buildId}`,
    );
  } catch (err) {
    console.error(`longhaul worker: could not read deployment ${v.deploymentName}: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
}

/** Runs the worker until SIGINT/SIGTERM. */
export async function runWorker(config = loadConfig()): Promise<void> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const deps = createDeps(config);
  try {
    const versioning = await workerVersioning(config);
    const worker = await createWorker({ connection, deps, versioning });
    // Datorama: a second worker on its own queue, rate-limited server-side (src/datorama-worker.ts); the same
    // deployment version, so a pinned run's calls go to its own build.
    const datorama = await createDatoramaWorker({
      connection,
      deps,
      overrides: versioning.workerDeploymentOptions
        ? { workerDeploymentOptions: versioning.workerDeploymentOptions }
        : {},
    });
    const v = versioning.version;
    console.log(
      v
        ? `longhaul worker: deployment ${v.deploymentName}, build ${v.buildId} (task queue ${config.LONGHAUL_TASK_QUEUE})`
        : `longhaul worker: unversioned (LONGHAUL_DEPLOYMENT not set), task queue ${config.LONGHAUL_TASK_QUEUE}`,
    );
    const running = Promise.all([worker.run(), datorama.run()]);
    if (v) await announceFirstBuild(config, v);
    await running;
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
