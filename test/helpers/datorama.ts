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
import { DatoramaSandbox, type DatoramaSandboxOptions } from '../../src/pipelines/datorama/sandbox';
import { limiterDrainSignal, limiterWorkflowId, WINDOW_MS } from '../../src/pipelines/datorama/shared';
import { fingerprint } from '../../src/node/fingerprint';
import { stoppedAfterEach } from './lifetimes';
import { createTestWorker, testDeps, uniqueQueue, useTemporalServer } from './temporal';

/**
 * Inside a `describe`: the time-skipping server for its tests (`set` receives it), torn down at the end, and
 * checked after each test to still skip time (a leftover time lock would stall every later file).
 */
export const useTimeSkippingServer = (set: (env: TestWorkflowEnvironment) => void): void =>
  useTemporalServer('time-skipping', set, { checkSkipping: true });

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

/**
 * For a test file without a Temporal server: `start(opts)` starts a fresh sandbox (datoramaSandbox) and
 * returns it; every sandbox started is stopped after each test.
 */
export function datoramaSandboxPerTest() {
  const stopLater = stoppedAfterEach();
  return async (opts: DatoramaSandboxOptions = {}) => {
    const started = await datoramaSandbox(undefined, opts);
    stopLater(started.sandbox);
    return started;
  };
}

export function datoramaDeps(sandboxEnv: Record<string, string>, extra: Record<string, string> = {}) {
  return testDeps({ ...sandboxEnv, ...extra });
}

/** The IDs of the sandbox's first `n` enabled streams. */
export const enabledStreams = (sandbox: DatoramaSandbox, n: number): number[] =>
  sandbox.data.streams
    .filter((s) => s.enabled)
    .map((s) => s.id)
    .slice(0, n);

/** A process run of January 2025, one stream per call, at most 2 of its jobs running per workspace. */
export const throttledProcess = (streams: number[]) => ({
  streams,
  start: '2025-01-01',
  end: '2025-01-30',
  batchSize: 1,
  workspaceThrottle: 2,
  throttlePoll: '30s',
});

/** Runs `fn` with a fresh sandbox (a token of its own) and deps pointing at it; the sandbox stops after. */
export async function withDatoramaSandbox<T>(
  env: TestWorkflowEnvironment,
  opts: DatoramaSandboxOptions,
  fn: (s: { sandbox: DatoramaSandbox; env: Record<string, string>; deps: Deps }) => Promise<T>,
): Promise<T> {
  const { sandbox, env: sandboxEnv } = await datoramaSandbox(env, opts);
  try {
    return await fn({ sandbox, env: sandboxEnv, deps: datoramaDeps(sandboxEnv) });
  } finally {
    await sandbox.stop();
  }
}

/**
 * Runs `fn` while a main-queue worker and a datorama call-queue worker poll, then drains the token's
 * limiter and waits for it to end — still while the workers poll. On the time-skipping server an entity
 * left running after its worker stopped would get a workflow task (its next timer) on a queue nobody
 * polls, and that task's time lock would stop the shared server from skipping time for every later test.
 * Terminating it instead is not safe either: the test server never releases the time lock of a workflow
 * task that was pending when its workflow was terminated.
 */
export type CallActivities = ReturnType<typeof datoramaWorkerOptions>['activities'];

export async function withDatoramaWorkers<T>(
  env: TestWorkflowEnvironment,
  deps: Deps,
  fn: (taskQueue: string) => Promise<T>,
  taskQueue = uniqueQueue('dato'),
  /** Changes the platform-call activities (e.g. to make an attempt give up after its claim). */
  wrapCalls?: (activities: CallActivities) => CallActivities,
): Promise<T> {
  const main = await createTestWorker(env, deps, taskQueue);
  const opts = datoramaWorkerOptions(deps, taskQueue);
  if (wrapCalls) opts.activities = wrapCalls(opts.activities);
  const calls: Worker = await createTestWorker(env, deps, opts.taskQueue, opts);
  const limiterId = limiterWorkflowId(fingerprint(deps.config.DATORAMA_TOKEN ?? 'no-token'));
  return main.runUntil(() =>
    calls.runUntil(async () => {
      let result: T;
      try {
        result = await fn(taskQueue);
      } catch (err) {
        await drainLimiter(env, limiterId).catch((e: Error) => console.error(e.message)); // keep the test's error
        throw err;
      }
      await drainLimiter(env, limiterId);
      return result;
    }),
  );
}

/**
 * Asks the limiter to end once idle (limiterDrainSignal) and awaits its end (on the dev server: terminates it). `result()` of the
 * time-skipping client lets the server skip to the end of the limiter's last 60-second window.
 */
export async function drainLimiter(env: TestWorkflowEnvironment, limiterId: string, timeoutMs = 60_000) {
  const handle = env.client.workflow.getHandle(limiterId);
  if (!env.supportsTimeSkipping) {
    // The dev server runs in real time: draining could wait up to a lease (15 min) for a permit whose holder
    // was killed, and terminating is safe there (the time-lock trap above is the test server's only).
    await handle.terminate('test over').catch((err: Error) => {
      if (err.name !== 'WorkflowNotFoundError') throw err;
    });
    return;
  }
  try {
    await handle.signal(limiterDrainSignal);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return; // never started, or already ended
    throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`limiter ${limiterId} did not end within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([handle.result(), timeout]);
  } finally {
    clearTimeout(timer);
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
