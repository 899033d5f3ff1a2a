/**
 * A worker process for the tests that need one apart (Datorama kill-and-restart, Titelive two workers on one
 * queue): the main-queue worker and the datorama call-queue
 * worker (production factories), on the queue and data folder the test gives. A test may SIGKILL it.
 * Run with `node --import tsx test/integration/worker-child.ts <taskQueue>`.
 */
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../../src/config';
import { createDatoramaWorker } from '../../src/datorama-worker';
import { callQueueOf } from '../../src/pipelines/datorama/shared';
import { createDeps, createWorker } from '../../src/worker';

async function main(): Promise<void> {
  const taskQueue = process.argv[2];
  const config = parseConfig(process.env);
  const connection = await NativeConnection.connect({ address: process.env.LONGHAUL_TEST_DEV_ADDRESS! });
  const deps = createDeps(config);
  const workflowBundle = { codePath: process.env.LONGHAUL_TEST_BUNDLE! };
  const worker = await createWorker({ connection, deps, taskQueue, workflowBundle });
  const calls = await createDatoramaWorker({ connection, deps, overrides: { taskQueue: callQueueOf(taskQueue) } });
  process.stdout.write('ready\n');
  await Promise.all([worker.run(), calls.run()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
