/**
 * History budgets of the workflows that run long, on the time-skipping server: each is driven well past one
 * run's worth of work and every run of its continue-as-new chain must stay within Temporal's warning
 * thresholds — 10,240 events and 10 MB (the hard limits are 51,200 events and 50 MB) — having continued as new
 * before them. A run's size does not grow with the chain's length (each hands on a bounded carry), so a
 * longer run (a week of watching, 630,000 IDs) is more runs of the same size. The permit entity's budget:
 * test/integration/permits-budget.test.ts. Figures: docs/operations.md, "History budgets".
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { ledgerWorkflowId } from '../../src/kit/limits/quota';
import type { YoutubeEnrichResult } from '../../src/pipelines/youtube/enrich';
import type { YoutubeWatchResult } from '../../src/pipelines/youtube/watch-shared';
import { tmpDir, uniqueQueue, useTemporalServer, withWorker, awayFromPacificMidnight } from '../helpers/temporal';
import { timeSkippingYoutubeDeps } from '../helpers/youtube';
import { MemoryVideosStore } from '../helpers/youtube-watch';
import { chainSizes, expectWithinBudget } from '../helpers/history-budget';

describe('history budgets of the long-running workflows (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: YoutubeSandbox | undefined;
  const started: string[] = [];
  useTemporalServer('time-skipping', (e) => (env = e), {
    started,
    afterEach: () => sandbox?.stop(),
    checkSkipping: true,
  });
  const PROJECT: SandboxProject[] = [{ id: 'budget-a', keys: ['budget-key-a-1'] }];

  it('youtube-watch: 500 ten-second ticks with the default 200 ticks a run', { timeout: 240_000 }, async () => {
    const now = await env.currentTimeMs();
    sandbox = new YoutubeSandbox({
      seed: 3,
      projects: PROJECT,
      searchCallsPerDay: 100_000,
      searchOriginMs: now - 3_600_000,
      searchIntervalMs: 4_000,
    });
    const deps = { ...(await timeSkippingYoutubeDeps(env, sandbox, PROJECT)), videos: new MemoryVideosStore() };
    const pool = uniqueQueue('budget-w');
    const workflowId = uniqueQueue('budget-watch');
    started.push(workflowId, ledgerWorkflowId(pool));
    const { result, firstRunId } = await withWorker(env, deps, async (taskQueue) => {
      const h = await env.client.workflow.start('youtubeWatch', {
        taskQueue,
        workflowId,
        args: [{ query: 'budget', intervalSeconds: 10, pool, stopAfterTicks: 500 }],
      });
      return { result: (await h.result()) as YoutubeWatchResult, firstRunId: h.firstExecutionRunId };
    });
    expect(result).toMatchObject({ ticks: 500, failedTicks: 0, runs: 3 });
    expectWithinBudget('youtube-watch, 500 ticks', await chainSizes(env, workflowId, firstRunId), 3);
  });

  it(
    'youtube-enrich: 50,000 IDs in 1,000 one-call chunks over 3 quota days, 200 chunks a run',
    { timeout: 240_000 },
    async () => {
      await awayFromPacificMidnight(env);
      sandbox = new YoutubeSandbox({ seed: 9, projects: PROJECT, unitsPerDay: 400 });
      const inputDir = tmpDir('budget-input-');
      const deps = await timeSkippingYoutubeDeps(env, sandbox, PROJECT, { LONGHAUL_INPUT_DIR: inputDir });
      const ids = Array.from({ length: 50_000 }, (_, i) => fakeId(9, 'budget', i));
      const csv = path.join(inputDir, 'ids.csv');
      fs.writeFileSync(csv, ['song', ...ids].join('\n') + '\n');
      const pool = uniqueQueue('budget-e');
      const workflowId = uniqueQueue('budget-enrich');
      started.push(ledgerWorkflowId(pool));
      const { result, firstRunId } = await withWorker(env, deps, async (taskQueue) => {
        const h = await env.client.workflow.start('youtubeEnrich', {
          taskQueue,
          workflowId,
          args: [{ csv, column: 'song', unitsPerDay: 400, callsPerActivity: 1, concurrency: 8, pool }],
        });
        return { result: (await h.result()) as YoutubeEnrichResult, firstRunId: h.firstExecutionRunId };
      });
      expect(result).toMatchObject({ distinct: 50_000, calls: 1_000 });
      expect(result.fetched + result.missing).toBe(50_000);
      expect(result.quotaWaits).toBeGreaterThanOrEqual(2);
      expectWithinBudget('youtube-enrich, 1,000 chunks', await chainSizes(env, workflowId, firstRunId), 5);
    },
  );
});
