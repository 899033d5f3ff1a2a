/**
 * A worker process apart from the test's own: the production worker factories (src/worker.ts createWorker, the
 * datorama call-queue worker) on the task queue given, connected to TEMPORAL_ADDRESS, with the tests' prebuilt
 * workflow bundle. The chaos harness SIGKILLs it at seeded random points and starts another; integration tests
 * start it through worker-process.ts (a worker to kill, a second worker on one queue).
 * Run with `node --import tsx test/helpers/worker-child.ts <taskQueue>`; prints `ready` once both poll.
 */
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../../src/config';
import { createDatoramaWorker } from '../../src/datorama-worker';
import { callQueueOf } from '../../src/pipelines/datorama/shared';
import { createDeps, createWorker } from '../../src/worker';

async function main(): Promise<void> {
  const taskQueue = process.argv[2];
  if (!taskQueue) throw new Error('usage: worker-child.ts <taskQueue>');
  const config = parseConfig(process.env);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const deps = createDeps(config);
  const workflowBundle = { codePath: process.env.LONGHAUL_TEST_BUNDLE! };
  const worker = await createWorker({ connection, deps, taskQueue, workflowBundle });
  const calls = await createDatoramaWorker({ connection, deps, overrides: { taskQueue: callQueueOf(taskQueue) } });
  process.stdout.write('ready\n');
  await Promise.all([worker.run(), calls.run()]);
  await deps.warehouse.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
