import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('selftest on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('time-skipping', (e) => (env = e));

  it('sleeps 3 hours of workflow time without waiting for them, then writes', async () => {
    const deps = testDeps();
    const { result, wallMs, skippedMs } = await withWorker(env, deps, async (taskQueue) => {
      const wall0 = Date.now();
      const t0 = await env.currentTimeMs();
      const result = await env.client.workflow.execute('selftest', {
        taskQueue,
        workflowId: uniqueQueue('selftest'),
        args: [{ sleep: '3h', label: 'ts' }],
      });
      return { result, wallMs: Date.now() - wall0, skippedMs: (await env.currentTimeMs()) - t0 };
    });
    expect(result.sleptMs).toBeGreaterThanOrEqual(3 * 3600_000);
    expect(skippedMs).toBeGreaterThanOrEqual(3 * 3600_000);
    // Typically ~0.3 s on an idle 2-core machine (the bound only proves no real waiting; speed is measured in
    // bench/, not asserted here).
    console.log(`3 h of workflow time took ${wallMs} ms of wall time`);
    expect(wallMs).toBeLessThan(60_000);
    const rows = await deps.warehouse.query<{ label: string }>(
      "SELECT label FROM longhaul_selftest WHERE label = 'ts'",
    );
    expect(rows).toEqual([{ label: 'ts' }]);
  });

  it('refuses bad input with a non-retryable failure naming the field', async () => {
    const err = await withWorker(env, testDeps(), (taskQueue) =>
      env.client.workflow.execute('selftest', { taskQueue, workflowId: uniqueQueue('bad'), args: [{ sleep: 'soon' }] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; nonRetryable?: boolean; message: string };
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/sleep: Invalid duration "soon"/);
  });
});
