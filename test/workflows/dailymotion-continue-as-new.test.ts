/**
 * The Dailymotion parent continues as new every N windows (after its in-flight children end), carrying only
 * compact state; progress and the final result are those of a run that never continued (time skipping).
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { runReport, startDailymotionSandbox } from '../helpers/dailymotion';
import { testDeps, uniqueQueue, useTemporalServer, waitForClose, withWorker } from '../helpers/temporal';

const input = {
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  poll: { initialDelay: '30s', factor: 2, maxDelay: '10m' },
  startDate: '2026-01-01',
  endDate: '2026-01-12',
  windowDays: 1,
} satisfies Partial<DailymotionReportInput>;

describe('dailymotion-report continue-as-new (time skipping)', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox | undefined;
  useTemporalServer('time-skipping', (e) => (env = e), { afterEach: () => sandbox?.stop() });

  it('12 one-day windows, 5 per run: continues as new twice and the result is exact', async () => {
    const s = await startDailymotionSandbox({ generationMs: 60_000 });
    sandbox = s.sandbox;
    sandbox.clock.follow(() => env.currentTimeMs());
    const account = uniqueQueue('account');
    const deps = testDeps({ ...s.env, DM_ACCOUNT: account });
    const [rolled, whole, history] = await withWorker(env, deps, async (q) => {
      const h = await env.client.workflow.start('dailymotionReport', {
        taskQueue: q,
        workflowId: uniqueQueue('dmcan'),
        args: [{ ...input, table: 'dm_can_a' }, { windowsPerRun: 5 }],
      });
      const rolled = (await h.result()) as DailymotionReportResult;
      const history = await env.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).fetchHistory();
      const whole = await runReport(env, q, uniqueQueue('dmwhole'), { ...input, table: 'dm_can_b' });
      await waitForClose(env, `semaphore-dailymotion-reports-${account}`);
      return [rolled, whole, history] as const;
    });
    const last = history.events?.at(-1);
    expect(last?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    expect(rolled.windows).toHaveLength(12);
    expect(rolled.windows.map((w) => w.start)).toEqual(whole.windows.map((w) => w.start));
    const strip = (r: DailymotionReportResult) => ({ ...r, table: '', wallTimeMs: 0 });
    expect(strip(rolled)).toEqual(strip(whole));
    expect(rolled.rowsLoaded).toBeGreaterThan(0);
  });
});
