/**
 * Datorama test helpers: a sandbox on a random port (its clock following the test server's on the
 * time-skipping server), deps pointing at it, and the two workers a Datorama run needs — the main queue
 * and its `-datorama` call queue with the production options (src/datorama-worker.ts).
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Deps } from '../../src/activities/deps';
import { datoramaWorkerOptions } from '../../src/datorama-worker';
import { DatoramaSandbox, type DatoramaSandboxOptions } from '../../src/sandbox/datorama';
import { limiterWorkflowId, WINDOW_MS } from '../../src/shared/datorama';
import { fingerprint } from '../../src/shared/fingerprint';
import { createTestWorker, testDeps, uniqueQueue } from './temporal';

export async function datoramaSandbox(
  env: TestWorkflowEnvironment | undefined,
  opts: DatoramaSandboxOptions = {},
): Promise<{ sandbox: DatoramaSandbox; token: string; env: Record<string, string> }> {
  const token = `test-token-${randomUUID()}`;
  const seedNow = env?.supportsTimeSkipping ? await env.currentTimeMs() : Date.now();
  const sandbox = new DatoramaSandbox({ tokens: [token], seedNow, ...opts });
  if (env?.supportsTimeSkipping) sandbox.clock.follow(() => env.currentTimeMs());
  const url = await sandbox.start(0);
  return { sandbox, token, env: { DATORAMA_BASE_URL: `${url}/v1`, DATORAMA_TOKEN: token } };
}

export function datoramaDeps(sandboxEnv: Record<string, string>, extra: Record<string, string> = {}) {
  return testDeps({ ...sandboxEnv, ...extra });
}

/**
 * Runs `fn` while a main-queue worker and a datorama call-queue worker poll. The token's limiter is
 * terminated at the end: an entity left running on a queue nobody polls would hold a workflow task that
 * stops the time-skipping server from skipping time for the next tests.
 */
export async function withDatoramaWorkers<T>(
  env: TestWorkflowEnvironment,
  deps: Deps,
  fn: (taskQueue: string) => Promise<T>,
  taskQueue = uniqueQueue('dato'),
): Promise<T> {
  const main = await createTestWorker(env, deps, taskQueue);
  const opts = datoramaWorkerOptions(deps, taskQueue);
  const calls: Worker = await createTestWorker(env, deps, opts.taskQueue, opts);
  try {
    return await main.runUntil(() => calls.runUntil(() => fn(taskQueue)));
  } finally {
    const limiter = limiterWorkflowId(fingerprint(deps.config.DATORAMA_TOKEN ?? 'no-token'));
    await env.client.workflow
      .getHandle(limiter)
      .terminate('test over')
      .catch(() => undefined);
  }
}

/** The most calls in any 60-second window (a, a + 60 s] of the given times. */
export function maxInWindow(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= WINDOW_MS) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
