/**
 * Helpers of the Titelive tests: a client of the sandbox's demo account, a run of the workflow, and the deps
 * of a worker against a sandbox on the time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TiteliveClient, type TiteliveClientOptions } from '../../src/pipelines/titelive/connector/client';
import type { Deps } from '../../src/activities/deps';
import type { TiteliveInput, TiteliveResult } from '../../src/pipelines/titelive/definition';
import { titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import {
  TITELIVE_DEMO_PASSWORD,
  TITELIVE_DEMO_USER,
  type TiteliveSandbox,
} from '../../src/pipelines/titelive/sandbox/server';
import { testDeps, withWorker } from './temporal';

/** A client of the Titelive sandbox at `url` (login and search on its /v1), signed in as the demo user. */
export const demoClient = (url: string, opts: Partial<TiteliveClientOptions> = {}): TiteliveClient =>
  new TiteliveClient({
    loginUrl: `${url}/v1`,
    searchUrl: `${url}/v1`,
    username: TITELIVE_DEMO_USER,
    password: TITELIVE_DEMO_PASSWORD,
    ...opts,
  });

/** Runs the titelive workflow on `input` as `workflowId`, on a worker of `deps` started for the run. */
export const runTitelive = (
  env: TestWorkflowEnvironment,
  deps: Deps,
  workflowId: string,
  input: TiteliveInput,
): Promise<TiteliveResult> =>
  withWorker(env, deps, (taskQueue) =>
    env.client.workflow.execute('titelive', { taskQueue, workflowId, args: [input] }),
  );

/**
 * Starts `sandbox` with its clock following `env`'s time-skipping server, and returns the deps of a worker
 * against it (`maxResults`: the API's result cap the sandbox was given, if any).
 */
export async function timeSkippingDeps(
  env: TestWorkflowEnvironment,
  sandbox: TiteliveSandbox,
  maxResults?: number,
): Promise<ReturnType<typeof testDeps>> {
  const url = await sandbox.start();
  sandbox.clock.follow(() => env.currentTimeMs());
  return testDeps({
    ...titeliveSandbox.env(url),
    // No shared rate entity on the time-skipping server: it would outlive the test's worker (its idle timer
    // strands the clock). The rate is tested on the dev server (test/integration/titelive-rate.test.ts).
    TITELIVE_RATE_PER_SECOND: '0',
    ...(maxResults ? { TITELIVE_MAX_RESULTS: String(maxResults) } : {}),
  });
}
