/**
 * The report semaphore survives its own end and its holders' deaths, on the real dev server (real time, a
 * short slot lease through the `slotLease` input): waiting windows re-send their request (deduplicated),
 * holders renew their lease and re-register after a restart, so a terminated semaphore strands nobody and a
 * terminated holder's slot goes to the next window once its lease runs out. The same tests on the
 * time-skipping server are quarantined (terminating a workflow amid an activity leaks that server's clock).
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import type { SemaphoreState } from '../../src/kit/limits/semaphore-messages';
import { startDailymotionSandbox } from '../helpers/dailymotion';
import { maybeSaveHistory } from '../helpers/histories';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const base = {
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  poll: { initialDelay: '300ms', factor: 1.5, maxDelay: '1s' },
  slotLease: { lease: '5s', renew: '1s', reask: '1s' },
} satisfies Partial<DailymotionReportInput>;

describe('dailymotion report semaphore on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox | undefined;
  const started: string[] = [];

  useTemporalServer('dev', (e) => (env = e), {
    started,
    afterEach: () => sandbox?.stop(),
  });

  const fresh = async (generationMs: number) => {
    const s = await startDailymotionSandbox({ generationMs });
    sandbox = s.sandbox;
    const account = uniqueQueue('account');
    started.push(`semaphore-dailymotion-reports-${account}`);
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
  /** Waits until the semaphore's state passes `ok`. */
  const until = async (id: string, what: string, ok: (s: SemaphoreState) => boolean, ms = 30_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await state(id).catch(() => undefined);
      if (s && ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`semaphore never reached: ${what} (last: ${JSON.stringify(s)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('a terminated semaphore strands nobody: waiting windows still get slots, at most 2 generating', async () => {
    const { deps, semaphoreId } = await fresh(4_000);
    const results = await withWorker(env, deps, async (q) => {
      const ids = await startRuns(q, 4);
      const before = await until(
        semaphoreId,
        '2 held, 2 waiting',
        (s) => s.holders.length === 2 && s.waiting.length === 2,
      );
      await env.client.workflow.getHandle(semaphoreId).terminate('test: the semaphore is killed mid-run');
      const done = await Promise.all(
        ids.map((id) => env.client.workflow.getHandle(id).result() as Promise<DailymotionReportResult>),
      );
      // A window that waited, renewed and re-asked by signal while its semaphore was gone (the requester's
      // watchdog as of PERMITS_WATCHDOG_DUE), and the semaphore started again from its last state.
      await maybeSaveHistory(env.address, before.waiting[0]!.requesterId, 'dailymotion-window-semaphore-restarted');
      await maybeSaveHistory(env.address, semaphoreId, 'semaphore-restarted');
      return done;
    });
    expect(results.map((r) => r.windows.length)).toEqual([1, 1, 1, 1]);
    expect(results.every((r) => r.rowsLoaded > 0)).toBe(true);
    expect((await sandbox!.asks()).length).toBe(4); // no window asked twice
    expect(sandbox!.maxConcurrentGenerating()).toBeLessThanOrEqual(2);
    expect(sandbox!.refusedAsks()).toEqual([]); // the restarted semaphore counted the holders it lost
  });

  it('a terminated holder frees its slot once its lease runs out: the waiting window gets it', async () => {
    const { deps, semaphoreId } = await fresh(120_000);
    await withWorker(env, deps, async (q) => {
      await startRuns(q, 3);
      const before = await until(
        semaphoreId,
        '2 held, 1 waiting',
        (s) => s.holders.length === 2 && s.waiting.length === 1,
      );
      const victim = before.holders[0];
      const waiter = before.waiting[0];
      const killedAt = Date.now();
      await env.client.workflow.getHandle(victim.requesterId).terminate('test: a holder dies');
      const after = await until(semaphoreId, `the waiting window holds a slot`, (s) =>
        s.holders.some((h) => h.requestId === waiter.requestId),
      );
      const freedAfterMs = Date.now() - killedAt;
      expect(after.holders.map((h) => h.requestId)).not.toContain(victim.requestId);
      expect(after.holders).toHaveLength(2);
      expect(after.peakHeld).toBeLessThanOrEqual(2);
      // Not before the lease (5 s) could run out, and well before the 10-minute default.
      expect(freedAfterMs).toBeGreaterThan(3_000);
      expect(freedAfterMs).toBeLessThan(20_000);
    });
    expect(sandbox!.refusedAsks()).toEqual([]);
  });
});
