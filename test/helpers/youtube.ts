/** Helpers of the YouTube workflow tests: the deps of a worker against a sandbox on the time-skipping server. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { youtubeKeyPairs } from '../../src/pipelines/youtube/sandbox';
import type { SandboxProject, YoutubeSandbox } from '../../src/pipelines/youtube/sandbox/server';
import { testDeps } from './temporal';

/**
 * Starts `sandbox` with its clock following `env`'s time-skipping server, and returns the deps of a worker
 * against it holding the API keys of `projects` (`extra`: more of the worker's environment).
 */
export async function timeSkippingYoutubeDeps(
  env: TestWorkflowEnvironment,
  sandbox: YoutubeSandbox,
  projects: SandboxProject[],
  extra: Record<string, string> = {},
): Promise<ReturnType<typeof testDeps>> {
  const url = await sandbox.start();
  sandbox.clock.follow(() => env.currentTimeMs());
  return testDeps({ YOUTUBE_BASE_URL: `${url}/youtube/v3`, YOUTUBE_API_KEYS: youtubeKeyPairs(projects), ...extra });
}
