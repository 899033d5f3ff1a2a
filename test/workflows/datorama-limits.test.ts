/**
 * Datorama on the time-skipping server: the durable limiter keeps every token at ≤ 60 calls in any
 * 60-second window of the sandbox's clock (which follows the test server's), alone and with two runs at
 * once; the daily cap makes a run wait for 00:00 UTC and then finish; a 45-day range is 5 chunks.
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DatoramaResult } from '../../src/pipelines/datorama/definition';
import { resultsWhileSkipping, uniqueQueue } from '../helpers/temporal';
import {
  datoramaDeps,
  enabledStreams,
  maxInWindow,
  useTimeSkippingServer,
  withDatoramaSandbox,
  withDatoramaWorkers,
} from '../helpers/datorama';

describe('datorama limits on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  useTimeSkippingServer((e) => (env = e));

  it('two runs at once share the token limit', async () => {
    await withDatoramaSandbox(env, { streams: 90, maxJobs: 1 }, async ({ sandbox, deps }) => {
      const ids = sandbox.data.streams.map((s) => s.id);
      const results = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const runs = await Promise.all(
          [ids.slice(0, 45), ids.slice(45)].map((streams) =>
            env.client.workflow.start('datoramaRerunAll', {
              taskQueue,
              workflowId: uniqueQueue('rerun-all-pair'),
              args: [{ streams }],
            }),
          ),
        );
        // One unlock of the server's time skipping for both results: two concurrent `result()` calls of the
        // time-skipping client unlock it twice, and the server then skips time while tasks are in flight.
        return resultsWhileSkipping<DatoramaResult>(
          env,
          runs.map((r) => r.workflowId),
        );
      });
      const calls = sandbox.calls('rerun-all');
      expect(calls).toHaveLength(90);
      expect(results.map((r) => r.actions.submitted)).toEqual([45, 45]);
      expect(sandbox.log.filter((e) => e.status === 429)).toHaveLength(0);
      expect(maxInWindow(calls.map((c) => c.at))).toBeLessThanOrEqual(60);
      // Both ran at the same time, interleaved (not one after the other).
      const owner = (c: (typeof calls)[number]) => (ids.indexOf(Number(c.path.split('/')[4])) < 45 ? 'a' : 'b');
      const firstHalf = calls.slice(0, 45).map(owner);
      expect(firstHalf).toContain('a');
      expect(firstHalf).toContain('b');
      expect(calls[89].at - calls[0].at).toBeGreaterThanOrEqual(89_000);
    });
  }, 180_000);

  it('the daily cap makes a run wait for 00:00 UTC, then finish', async () => {
    // Start at 01:00 UTC (workflow time) so the first day's 30 calls fit before its midnight whatever the time
    // of day the server started at (it starts at the real time, and every test before this one skips time).
    const now = await env.currentTimeMs();
    await env.sleep((Math.floor(now / 86_400_000) + 1) * 86_400_000 + 3_600_000 - now);
    await withDatoramaSandbox(env, { streams: 40, maxJobs: 1, perDay: 30 }, async ({ sandbox, env: sEnv }) => {
      const deps = datoramaDeps(sEnv, { DATORAMA_PER_DAY: '30' });
      const streams = sandbox.data.streams.map((s) => s.id);
      const { result, end } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const result: DatoramaResult = await env.client.workflow.execute('datoramaRerunAll', {
          taskQueue,
          workflowId: uniqueQueue('rerun-all-day'),
          args: [{ streams }],
        });
        return { result, end: await env.currentTimeMs() };
      });
      const calls = sandbox.calls('rerun-all');
      expect(calls).toHaveLength(40);
      expect(result.actions).toMatchObject({ submitted: 40, failed: 0 });
      expect(sandbox.log.filter((e) => e.status === 429)).toHaveLength(0);
      const day = (t: number) => Math.floor(t / 86_400_000);
      const firstDay = day(calls[0].at);
      const perDay = new Map<number, number>();
      for (const c of calls) perDay.set(day(c.at), (perDay.get(day(c.at)) ?? 0) + 1);
      for (const n of perDay.values()) expect(n).toBeLessThanOrEqual(30);
      expect(perDay.get(firstDay)).toBe(30);
      expect(perDay.get(firstDay + 1)).toBe(10);
      expect(calls[30].at).toBeGreaterThanOrEqual((firstDay + 1) * 86_400_000);
      expect(end).toBeGreaterThanOrEqual((firstDay + 1) * 86_400_000);
    });
  }, 180_000);

  it('a 45-day range is processed as 5 chunks, the streams of a chunk in one call', async () => {
    await withDatoramaSandbox(env, { streams: 8, maxJobs: 0, failEvery: 0 }, async ({ sandbox, deps }) => {
      const streams = enabledStreams(sandbox, 3);
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaProcess', {
          taskQueue,
          workflowId: uniqueQueue('process-45'),
          args: [{ streams, start: '2025-01-01', end: '2025-02-14' }],
        }),
      );
      expect(result.chunks).toBe(5);
      expect(result.calls).toBe(5);
      expect(result.actions).toMatchObject({ total: 15, submitted: 15, failed: 0 });
      const calls = sandbox.calls('process-bulk');
      expect(calls).toHaveLength(5);
      const ranges = calls.map((c) => {
        const a = c.meta!.actions as { start: string; end: string; stream: number }[];
        expect(new Set(a.map((x) => x.stream))).toEqual(new Set(streams));
        return `${a[0].start}..${a[0].end}`;
      });
      // Two lanes submit at once: the order of two neighbouring chunks depends on which permit came first.
      expect([...ranges].sort()).toEqual([
        '2025-01-01..2025-01-10',
        '2025-01-11..2025-01-20',
        '2025-01-21..2025-01-30',
        '2025-01-31..2025-02-09',
        '2025-02-10..2025-02-14',
      ]);
      expect(result.jobs).toBe(15);
    });
  }, 120_000);

  it('300 calls take over 5 minutes of workflow time, never more than 60 in any 60 s', async () => {
    await withDatoramaSandbox(env, { streams: 300, maxJobs: 2 }, async ({ sandbox, deps }) => {
      const streams = sandbox.data.streams.map((s) => s.id);
      const { result, tookMs } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const t0 = await env.currentTimeMs();
        const result: DatoramaResult = await env.client.workflow.execute('datoramaRerunAll', {
          taskQueue,
          workflowId: uniqueQueue('rerun-all'),
          args: [{ streams }],
        });
        return { result, tookMs: (await env.currentTimeMs()) - t0 };
      });
      const calls = sandbox.calls('rerun-all');
      expect(calls).toHaveLength(300);
      expect(sandbox.log.filter((e) => e.status === 429)).toHaveLength(0);
      expect(result.calls).toBe(300);
      expect(result.actions).toMatchObject({ total: 300, submitted: 300, failed: 0 });
      expect(tookMs).toBeGreaterThanOrEqual(5 * 60_000);
      expect(maxInWindow(calls.map((c) => c.at))).toBeLessThanOrEqual(60);
      expect(calls[calls.length - 1].at - calls[0].at).toBeGreaterThanOrEqual(299_000);
    });
  }, 400_000);
});
