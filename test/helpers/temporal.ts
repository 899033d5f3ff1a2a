/** Test helpers: the suite's Temporal servers, the prebuilt workflow bundle, and workers with test deps. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { parseConfig } from '../../src/config';
import { permitDrainSignal } from '../../src/kit/limits/permits';
import { createActivities } from '../../src/activities';
import type { Deps } from '../../src/activities/deps';
import { attachTimeSkipping } from '../../src/dev/servers';
import { timeLockActivities } from '../../src/dev/time-lock';
import { nextReset, periodStart } from '../../src/kit/limits/quota-reset';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { LocalBucket } from '../../src/sinks/local-bucket';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through vitest (test/global-setup.ts starts the servers)`);
  return v;
}

/** A TestWorkflowEnvironment on the suite's time-skipping server. */
export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return attachTimeSkipping(Number(need('LONGHAUL_TEST_TS_PORT')));
}

/** A TestWorkflowEnvironment on the suite's dev server (real server, real time). */
export function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: need('LONGHAUL_TEST_DEV_ADDRESS') });
}

export const workflowBundle = (): WorkerOptions['workflowBundle'] => ({ codePath: need('LONGHAUL_TEST_BUNDLE') });

export const uniqueQueue = (prefix = 'test') => `${prefix}-${randomUUID().slice(0, 8)}`;

export function tmpDir(prefix = 'longhaul-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deps on a fresh data folder (DuckDB file + local bucket), with extra environment applied. */
export function testDeps(env: Record<string, string> = {}, dir = tmpDir()): Deps & { dir: string } {
  // Image retries in milliseconds, not the production policy's minutes (a test passes its own to change it).
  const config = parseConfig({
    LONGHAUL_DATA_DIR: dir,
    TITELIVE_IMAGE_RETRY_BACKOFF_MS: '5',
    TITELIVE_IMAGE_RETRY_MAX_MS: '50',
    ...env,
  });
  return {
    dir,
    config,
    warehouse: new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') }),
    bucket: new LocalBucket(path.join(dir, 'bucket')),
  };
}

export async function createTestWorker(
  env: TestWorkflowEnvironment,
  deps: Deps,
  taskQueue: string,
  overrides: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: createActivities(deps),
    interceptors: { activity: timeLockActivities(env) },
    ...overrides,
  });
}

/** The workflows the running test file's tests started (useTemporalServer's `started`). */
let fileStarted: string[] | undefined;

/**
 * Ends the permit entities among `ids` that run on `taskQueue` the way they end in production — drained, their
 * holders released or their leases run out — while the worker still polls. On the time-skipping server an
 * entity terminated with a timer pending strands the clock when that timer comes due (after the worker has
 * stopped, nothing would run it): it must close on its own.
 */
async function endPermitEntities(env: TestWorkflowEnvironment, ids: string[], taskQueue: string): Promise<void> {
  if (!env.supportsTimeSkipping) return;
  for (const id of ids) {
    const handle = env.client.workflow.getHandle(id);
    const d = await handle.describe().catch(() => undefined);
    if (d?.status.name !== 'RUNNING' || d.type !== 'permits' || d.taskQueue !== taskQueue) continue;
    // It may close on its own between the describe and the signal (drained by its last holder's release):
    // the signal then finds a completed workflow, which is the end wanted.
    const signalled = await handle.signal(permitDrainSignal).then(
      () => true,
      (e: Error) => (e.name === 'WorkflowNotFoundError' ? false : Promise.reject(e)),
    );
    if (signalled) await handle.result().catch(() => undefined);
  }
}

/** Creates a worker and runs `fn` while it polls; the test's permit entities on its queue end before it stops. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  deps: Deps,
  fn: (taskQueue: string, worker: Worker) => Promise<T>,
  overrides: Partial<WorkerOptions> = {},
): Promise<T> {
  const taskQueue = overrides.taskQueue ?? uniqueQueue();
  const worker = await createTestWorker(env, deps, taskQueue, overrides);
  return worker.runUntil(async () => {
    try {
      return await fn(taskQueue, worker);
    } finally {
      if (fileStarted) await endPermitEntities(env, fileStarted, taskQueue);
    }
  });
}

/**
 * Awaits several runs at once on the time-skipping server. Its client unlocks time skipping around each
 * `result()`, which is not meant to be done concurrently; here it is unlocked once, the results are awaited
 * through a plain client, and it is locked again.
 */
export async function resultsWhileSkipping<T>(env: TestWorkflowEnvironment, workflowIds: string[]): Promise<T[]> {
  const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const ts = env.connection.testService!;
  await ts.unlockTimeSkipping({});
  try {
    return await Promise.all(workflowIds.map((id) => plain.workflow.getHandle(id).result() as Promise<T>));
  } finally {
    await ts.lockTimeSkipping({});
  }
}

/**
 * Waits (real time, up to `timeoutMs`) until a workflow has closed or does not exist. Tests call it before
 * their worker stops, for workflows that end just after the one under test (e.g. a semaphore processing its
 * last release): a workflow task left behind on a queue nobody polls would hold the shared time-skipping
 * server's clock for the tests after it.
 */
export async function waitForClose(
  env: TestWorkflowEnvironment,
  workflowId: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await env.client.workflow
      .getHandle(workflowId)
      .describe()
      .catch((e: Error) => (e.name === 'WorkflowNotFoundError' ? undefined : Promise.reject(e)));
    if (!d || d.status.name !== 'RUNNING') return;
    if (Date.now() > deadline) {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const last = (history.events ?? []).slice(-6).map((e) => e.eventType);
      const state = await env.client.workflow
        .getHandle(workflowId)
        .query('semaphoreState')
        .catch(() => undefined);
      throw new Error(
        `${workflowId} still running after ${timeoutMs} ms (last events: ${last.join(', ')}) ${JSON.stringify(state)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Fails unless the shared time-skipping server still skips time: `skipMs` of workflow time must pass
 * within `timeoutMs` of real time. A test that leaves a time lock behind (a workflow task on a queue
 * nobody polls, a workflow the server deadlocked) is then caught by the test that caused it, not by a
 * later one that runs in real time and times out.
 */
export async function expectTimeSkipping(
  env: TestWorkflowEnvironment,
  skipMs = 10 * 60_000,
  timeoutMs = 15_000,
): Promise<void> {
  const t0 = await env.currentTimeMs();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the time-skipping server did not skip ${skipMs} ms within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([env.sleep(skipMs), stalled]);
  } finally {
    clearTimeout(timer);
  }
  const skipped = (await env.currentTimeMs()) - t0;
  if (skipped < skipMs) throw new Error(`the time-skipping server skipped ${skipped} ms of ${skipMs} ms`);
}

/**
 * Terminates the workflows a test started and empties the list: entities (ledgers, watchers) must not
 * outlive the test's worker. One already ended is fine.
 */
/**
 * Skipped time is global to the time-skipping server, so a test may begin just after a Pacific midnight (where
 * a key pool's ledger gives a "spent" answer the benefit of the doubt for a few minutes) or just before one:
 * move to 01:00 Pacific when within an hour of one.
 */
export async function awayFromPacificMidnight(env: TestWorkflowEnvironment): Promise<void> {
  const now = await env.currentTimeMs();
  const next = nextReset({ kind: 'pacific-midnight' }, now);
  const sinceReset = now - periodStart({ kind: 'pacific-midnight' }, now);
  if (sinceReset < 3_600_000 || next - now < 3_600_000) await env.sleep(next - now + 3_600_000);
}

export async function terminateAll(env: TestWorkflowEnvironment, workflowIds: string[]): Promise<void> {
  for (const id of workflowIds.splice(0))
    await env.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
}

export interface ServerHooks {
  /**
   * Workflows a test started, terminated after it (emptied): an entity must not outlive its test's worker, and
   * a run left waiting on a queue nobody polls would hold the shared time-skipping server's clock.
   */
  started?: string[];
  /** Clean-up after each test (a sandbox's stop), after the terminations. */
  afterEach?: () => unknown;
  /** After each test, fail unless the time-skipping server still skips time (expectTimeSkipping). */
  checkSkipping?: boolean;
}

/**
 * A test file's Temporal server: attaches to the suite's time-skipping or dev server before the file's tests
 * (handing the environment to `set`), tears it down after them, and cleans up after each test as `hooks` say.
 */
export function useTemporalServer(
  kind: 'time-skipping' | 'dev',
  set: (env: TestWorkflowEnvironment) => void,
  hooks: ServerHooks = {},
): void {
  let env: TestWorkflowEnvironment | undefined;
  fileStarted = hooks.started;
  beforeAll(async () => {
    env = await (kind === 'dev' ? devServerEnv() : timeSkippingEnv());
    set(env);
  });
  afterAll(async () => {
    await env?.teardown();
  });
  if (hooks.started || hooks.afterEach || hooks.checkSkipping)
    afterEach(async () => {
      if (env && hooks.started) await terminateAll(env, hooks.started);
      await hooks.afterEach?.();
      if (env && hooks.checkSkipping) await expectTimeSkipping(env);
    });
}
