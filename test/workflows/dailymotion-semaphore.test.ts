/**
 * The report semaphore survives its own end and its holders' deaths (time-skipping server): waiting windows
 * re-send their request (deduplicated), holders renew a short lease and re-register after a restart, so a
 * terminated semaphore does not strand anyone and a terminated holder frees its slot within minutes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion-report';
import type { DailymotionSandbox } from '../../src/sandbox/dailymotion';
import type { SemaphoreState } from '../../src/shared/semaphore';
import { SLOT_RENEW } from '../../src/workflows/slots';
import { startDailymotionSandbox } from '../helpers/dailymotion';
import {
  resultsWhileSkipping,
  terminateAll,
  terminateIdle,
  terminateWhenIdle,
  testDeps,
  timeSkippingEnv,
  uniqueQueue,
  withWorker,
} from '../helpers/temporal';

const HOUR = 3_600_000;
const base = {
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  poll: { initialDelay: '30s', factor: 2, maxDelay: '10m' },
} satisfies Partial<DailymotionReportInput>;

describe('dailymotion report semaphore (time skipping)', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox | undefined;
  const started: string[] = [];

  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  afterEach(async () => {
    await terminateAll(env, started);
    await sandbox?.stop();
  });

  const fresh = async (generationMs: number) => {
    const s = await startDailymotionSandbox({ generationMs });
    sandbox = s.sandbox;
    sandbox.clock.follow(() => env.currentTimeMs());
    const account = uniqueQueue('account');
    return {
      deps: testDeps({ ...s.env, DM_ACCOUNT: account }),
      semaphoreId: `semaphore-dailymotion-reports-${account}`,
    };
  };
  const startRuns = async (q: string, n: number) => {
    const ids: string[] = [];
    for (let i = 1; i <= n; i++) {
      const h = await env.client.workflow.start('dailymotionReport', {
        taskQueue: q,
        workflowId: uniqueQueue('dmsem'),
        args: [{ ...base, startDate: `2026-0${i}-01`, endDate: `2026-0${i}-03`, table: 'dm_sem' }],
      });
      ids.push(h.workflowId);
      started.push(h.workflowId);
    }
    return ids;
  };
  const state = (id: string) => env.client.workflow.getHandle(id).query<SemaphoreState>('semaphoreState');
  /** Real-time wait (time is not skipping) until the semaphore shows `holders` held and `waiting` waiting. */
  const until = async (id: string, holders: number, waiting: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await state(id).catch(() => undefined);
      if (s && s.holders.length === holders && s.waiting.length === waiting) return s;
      if (Date.now() > deadline) throw new Error(`semaphore never reached ${holders} held/${waiting} waiting`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('a terminated semaphore strands nobody: waiting windows still get slots, at most 2 generating', async () => {
    const { deps, semaphoreId } = await fresh(HOUR);
    const results = await withWorker(env, deps, async (q) => {
      const ids = await startRuns(q, 4);
      await until(semaphoreId, 2, 2);
      // Terminated with nothing in flight (see terminateWhenIdle): a kill amid an activity leaks the test server's
      // time-skipping lock, and the time skipped after it would pass in real time.
      await terminateWhenIdle(env, semaphoreId);
      const results = await resultsWhileSkipping<DailymotionReportResult>(env, ids);
      await terminateIdle(env, [...ids, semaphoreId]);
      return results;
    });
    expect(results.map((r) => r.windows.length)).toEqual([1, 1, 1, 1]);
    expect((await sandbox!.asks()).length).toBe(4);
    expect(sandbox!.maxConcurrentGenerating()).toBeLessThanOrEqual(2);
    expect(sandbox!.refusedAsks()).toEqual([]); // the restarted semaphore counted the holders it lost
  });

  it('a terminated holder frees its slot within the short lease, not after hours', async () => {
    const { deps, semaphoreId } = await fresh(5 * HOUR);
    await withWorker(env, deps, async (q) => {
      const ids = await startRuns(q, 3);
      const before = await until(semaphoreId, 2, 1);
      const victim = before.holders[0];
      const waiter = before.waiting[0];
      await terminateWhenIdle(env, victim.requesterId);
      await env.sleep(SLOT_RENEW.leaseMs + 60_000);
      const after = await state(semaphoreId);
      expect(after.holders.map((h) => h.requestId)).not.toContain(victim.requestId);
      expect(after.holders.map((h) => h.requestId)).toContain(waiter.requestId);
      expect(after.peakHeld).toBeLessThanOrEqual(2);
      await terminateIdle(env, [...ids, semaphoreId]);
    });
  });
});
