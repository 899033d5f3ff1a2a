/**
 * Datorama continue-as-new on the time-skipping server: with DATORAMA_CALLS_PER_RUN = 8, a 30-call process
 * run continues as new three times mid-run. Every action reaches the sandbox exactly once, the counters
 * and the job log of the logical run (first execution's run ID) cover all four executions.
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DatoramaResult } from '../../src/pipelines/datorama/definition';
import { uniqueQueue } from '../helpers/temporal';
import {
  datoramaDeps,
  datoramaSandbox,
  enabledStreams,
  maxInWindow,
  throttledProcess,
  useTimeSkippingServer,
  withDatoramaSandbox,
  withDatoramaWorkers,
} from '../helpers/datorama';

describe('datorama continue-as-new on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  useTimeSkippingServer((e) => (env = e));

  it('a process run that continues as new mid-run submits every action once, counters and job log whole', async () => {
    await withDatoramaSandbox(env, { streams: 8, maxJobs: 0, failEvery: 0 }, async ({ sandbox, env: sEnv }) => {
      const deps = datoramaDeps(sEnv, { DATORAMA_CALLS_PER_RUN: '8' });
      const streams = enabledStreams(sandbox, 6);
      expect(streams).toHaveLength(6);
      const workflowId = uniqueQueue('process-can');
      // 6 streams × 5 chunks of 10 days, one stream per call: 30 calls, 8 per execution → 4 executions.
      const { result, runIds } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const handle = await env.client.workflow.start('datoramaProcess', {
          taskQueue,
          workflowId,
          args: [{ streams, start: '2025-01-01', end: '2025-02-14', batchSize: 1 }],
        });
        const result = (await handle.result()) as DatoramaResult;
        // Follow the chain of executions from the first run.
        const runIds = [handle.firstExecutionRunId];
        for (;;) {
          const history = await env.client.workflow.getHandle(workflowId, runIds[runIds.length - 1]).fetchHistory();
          const last = history.events?.[history.events.length - 1];
          const next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (!next) break;
          runIds.push(next);
        }
        return { result, runIds };
      });

      expect(runIds).toHaveLength(4);
      expect(result.runId).toBe(runIds[0]); // the logical run: counters and job log under the first run ID

      // Every action reached the sandbox exactly once.
      const calls = sandbox.calls('process');
      expect(calls).toHaveLength(30);
      const actions = calls.flatMap((c) =>
        (c.meta!.actions as { stream: number; start: string; end: string }[]).map(
          (a) => `${a.stream}:${a.start}:${a.end}`,
        ),
      );
      expect(new Set(actions).size).toBe(30);
      expect(actions).toHaveLength(30);
      expect(new Set(actions.map((a) => Number(a.split(':')[0])))).toEqual(new Set(streams));
      expect(sandbox.log.filter((e) => e.status === 429)).toHaveLength(0);
      expect(maxInWindow(calls.map((c) => c.at))).toBeLessThanOrEqual(60);

      // Counters carried across the four executions.
      expect(result.chunks).toBe(5);
      expect(result.calls).toBe(30);
      expect(result.estimatedCalls).toBe(30);
      expect(result.actions).toEqual({ total: 30, submitted: 30, skipped: 0, failed: 0 });
      expect(result.jobs).toBe(30);
      expect(result.failures).toEqual([]);

      // The job log: one SUBMITTED row per action, all under the logical run ID, in the table and the CSV.
      const rows = await deps.warehouse.query<{ action_key: string; status: string; run_id: string; n: number }>(
        `SELECT action_key, status, run_id, count(*)::INT AS n FROM datorama_job_log WHERE run_key = $k
          GROUP BY action_key, status, run_id ORDER BY action_key`,
        { k: workflowId },
      );
      expect(rows).toHaveLength(30);
      expect(rows.every((r) => r.status === 'SUBMITTED' && r.run_id === runIds[0] && Number(r.n) === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.action_key.replace(/^p:/, '')))).toEqual(new Set(actions));
      expect(result.jobLog.rows).toBe(30);
      const csv = await deps.bucket.get(`datorama/job-logs/${workflowId}/${runIds[0]}.csv`);
      const lines = csv.toString('utf8').trim().split('\n');
      expect(lines).toHaveLength(31); // header + 30
      expect(lines.slice(1).every((l) => l.startsWith('process,') && l.includes(',SUBMITTED,'))).toBe(true);
    });
  }, 180_000);
  it('the workspace throttle keeps counting our running jobs across continue-as-new', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(env, { workspaces: 1, streams: 4, maxJobs: 0, failEvery: 0 });
    try {
      // 3 calls per execution: the chain continues as new while jobs it submitted are still running.
      const deps = datoramaDeps(sEnv, { DATORAMA_CALLS_PER_RUN: '3' });
      const streams = enabledStreams(sandbox, 3);
      const workflowId = uniqueQueue('throttle-can');
      const result = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaProcess', {
          taskQueue,
          workflowId,
          args: [throttledProcess(streams)],
        }),
      );
      expect((result as DatoramaResult).actions).toMatchObject({ total: 9, submitted: 9, failed: 0 });
      const history = await env.client.workflow.getHandle(workflowId, (result as DatoramaResult).runId).fetchHistory();
      expect(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
      // Never submitted while 2 or more of the jobs it had submitted were pending or running, in any execution.
      const submits = sandbox.calls('process');
      expect(submits).toHaveLength(9);
      for (const s of submits) {
        const running = sandbox.data.jobs.filter((j) => j.createTime < s.at && j.endAt > s.at).length;
        expect(running).toBeLessThan(2);
      }
    } finally {
      await sandbox.stop();
    }
  }, 180_000);
});
