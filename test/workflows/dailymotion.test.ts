/**
 * dailymotion-report on the time-skipping server, against the Dailymotion sandbox whose clock follows the
 * test server's: reports that take hours finish in seconds of wall time.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { expectedRowKeys, runReport, startDailymotionSandbox, warehouseRowKeys } from '../helpers/dailymotion';
import {
  resultsWhileSkipping,
  testDeps,
  uniqueQueue,
  useTemporalServer,
  waitForClose,
  withWorker,
} from '../helpers/temporal';

const HOUR = 3_600_000;
const base = {
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  poll: { initialDelay: '30s', factor: 2, maxDelay: '10m' },
} satisfies Partial<DailymotionReportInput>;

describe('dailymotion-report (time skipping)', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox;
  let dmEnv: Record<string, string>;
  let account: string;

  useTemporalServer('time-skipping', (e) => (env = e), { afterEach: () => sandbox?.stop() });
  const fresh = async (opts: Parameters<typeof startDailymotionSandbox>[0] = {}) => {
    ({ sandbox, env: dmEnv } = await startDailymotionSandbox(opts));
    sandbox.clock.follow(() => env.currentTimeMs());
    // Each test its own account key, so its report semaphore lives on its own worker's task queue.
    account = uniqueQueue('account');
    return testDeps({ ...dmEnv, DM_ACCOUNT: account });
  };

  const run = (taskQueue: string, input: DailymotionReportInput) => runReport(env, taskQueue, uniqueQueue('dm'), input);

  it('waits out a report that takes 2 hours, on durable timers, and loads exactly its rows', async () => {
    const deps = await fresh({ generationMs: 2 * HOUR });
    const input = { ...base, startDate: '2026-01-01', endDate: '2026-01-10', table: 'dm_two_hours' };
    const t0 = await env.currentTimeMs();
    const wall0 = Date.now();
    const result = await withWorker(env, deps, (q) => run(q, input));
    const skipped = (await env.currentTimeMs()) - t0;
    console.log(`2 h report: ${skipped / HOUR} h of workflow time in ${Date.now() - wall0} ms of wall time`);
    expect(skipped).toBeGreaterThanOrEqual(2 * HOUR);
    expect(result.windows).toHaveLength(1);
    expect(result.reportsAsked).toBe(1);
    const expected = expectedRowKeys(sandbox, {
      ...input,
      metrics: [...input.metrics],
      dimensions: [...input.dimensions],
    } as never);
    expect(result.rowsLoaded).toBe(expected.length);
    expect(
      await warehouseRowKeys(deps.warehouse, 'dm_two_hours', ['day', 'video_id', 'views', 'time_watched_seconds']),
    ).toEqual(expected);
  });

  it('reports without a DAY, HOUR or MINUTE dimension: a rerun replaces its windows, no duplicates', async () => {
    const deps = await fresh({ generationMs: 10 * 60_000 });
    for (const [table, dimensions, columns] of [
      ['dm_month', ['MONTH', 'VIDEO_ID'], ['month', 'video_id', 'views']],
      ['dm_timeless', ['VIDEO_ID'], ['video_id', 'views']],
    ] as const) {
      const input = {
        ...base,
        metrics: ['VIEWS'],
        dimensions: [...dimensions],
        startDate: '2026-01-01',
        endDate: '2026-02-14',
        table,
      } satisfies DailymotionReportInput;
      // Each window's own rows, as the sandbox serves them for that window's ask (a month cut by two windows is
      // two partial rows, as the API gives them).
      const expected = (r: DailymotionReportResult) =>
        r.windows
          .flatMap((w) => expectedRowKeys(sandbox, { ...input, startDate: w.start, endDate: w.end } as never))
          .sort();
      const first = await withWorker(env, deps, (q) => run(q, input));
      expect(first.windows).toHaveLength(2);
      expect(await warehouseRowKeys(deps.warehouse, table, [...columns])).toEqual(expected(first));
      const again = await withWorker(env, deps, (q) => run(q, input));
      expect(await warehouseRowKeys(deps.warehouse, table, [...columns])).toEqual(expected(again));
      const [{ windows }] = await deps.warehouse.query<{ windows: number }>(
        `SELECT count(DISTINCT report_window) AS windows FROM ${table}`,
      );
      expect(Number(windows)).toBe(2);
    }
  });

  it('splits a 95-day range into 4 windows, one report each', async () => {
    const deps = await fresh({ generationMs: 20 * 60_000 });
    const result = await withWorker(env, deps, (q) =>
      run(q, { ...base, startDate: '2026-01-01', endDate: '2026-04-05', table: 'dm_95' }),
    );
    expect(result.windows.map((w) => [w.start, w.end])).toEqual([
      ['2026-01-01', '2026-01-30'],
      ['2026-01-31', '2026-03-01'],
      ['2026-03-02', '2026-03-31'],
      ['2026-04-01', '2026-04-05'],
    ]);
    expect((await sandbox.asks()).length).toBe(4);
    const [{ n, days }] = await deps.warehouse.query<{ n: number; days: number }>(
      'SELECT count(*) AS n, count(DISTINCT day) AS days FROM dm_95',
    );
    expect(days).toBe(95);
    expect(n).toBe(result.rowsLoaded);
  });

  it('holds 5 concurrent runs to 2 reports generating at once for the account', async () => {
    const deps = await fresh({ generationMs: HOUR });
    const results = await withWorker(env, deps, async (q) => {
      const ids = await Promise.all(
        [1, 2, 3, 4, 5].map(async (i) => {
          const input = { ...base, startDate: `2026-0${i}-01`, endDate: `2026-0${i}-05`, table: 'dm_five' };
          const h = await env.client.workflow.start('dailymotionReport', {
            taskQueue: q,
            workflowId: uniqueQueue('dm5'),
            args: [input],
          });
          return h.workflowId;
        }),
      );
      const results = await resultsWhileSkipping<DailymotionReportResult>(env, ids);
      await waitForClose(env, `semaphore-dailymotion-reports-${account}`);
      return results;
    });
    expect(results.every((r) => r.windows.length === 1)).toBe(true);
    expect(sandbox.maxConcurrentGenerating()).toBe(2); // the limit was used, and never exceeded
    expect(sandbox.refusedAsks()).toEqual([]); // no third ask ever reached the API
    expect((await sandbox.asks()).length).toBe(5);
  });

  it('a window wakes only when its slot lease is due: renewed every 10 minutes, re-asked by signal', async () => {
    // 3 windows, 2 slots, 2-hour reports: the third waits about 2 hours for a slot, then holds one 2 hours.
    const deps = await fresh({ generationMs: 2 * HOUR });
    const workflowId = uniqueQueue('dm-lease');
    const semaphoreId = `semaphore-dailymotion-reports-${account}`;
    await withWorker(env, deps, async (q) => {
      const input = { ...base, startDate: '2026-01-01', endDate: '2026-03-31', table: 'dm_lease' };
      await runReport(env, q, workflowId, input);
      await waitForClose(env, semaphoreId);
    });
    const events = async (id: string) => (await env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const windows = (await events(workflowId)).flatMap(
      (e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? [],
    );
    expect(windows).toHaveLength(3);
    let waited = 0;
    for (const id of windows) {
      const h = await events(id);
      const at = (e: (typeof h)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000;
      const activities = h.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      const polls = activities.filter((a) => a === 'reportStatus').length;
      const timers = h.filter((e) => e.timerStartedEventAttributes).length;
      const reasks = h.filter(
        (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId === semaphoreId,
      ).length;
      const asked = h.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'askReport')!;
      const wait = at(asked) - at(h[0]);
      const span = at(h[h.length - 1]) - at(h[0]);
      // The watchdog's timers (every timer but the polls' backoffs): one per 10 minutes held or waited, not
      // one per 3 (before the patch: 40 for a 2-hour hold alone).
      expect(timers - (polls - 1)).toBeLessThanOrEqual(Math.ceil(span / (10 * 60_000)) + 1);
      // The slot was asked for at most once through the activity (when the semaphore was not running yet);
      // every re-ask and renewal is a signal.
      expect(activities.filter((a) => a === 'requestSlot').length).toBeLessThanOrEqual(1);
      if (wait > HOUR) {
        waited++;
        // Asked again every 10 minutes while waiting, and renewed every 10 while holding; by signal.
        expect(reasks).toBeGreaterThanOrEqual(Math.floor(span / (10 * 60_000)) - 2);
      }
    }
    expect(waited).toBe(1);
  });

  it('asks again when a finished report’s files are gone (403/404) before they are read', async () => {
    const deps = await fresh({ generationMs: 10 * 60_000 });
    sandbox.faults.add({ route: 'download', kind: '404', times: 1 });
    const result = await withWorker(env, deps, (q) =>
      run(q, { ...base, startDate: '2026-02-01', endDate: '2026-02-03', table: 'dm_gone' }),
    );
    expect(result.reportsAsked).toBe(2);
    expect((await sandbox.asks()).length).toBe(2);
    expect(result.rowsLoaded).toBeGreaterThan(0);
  });

  it('asks again after a FAILED report, and fails clearly when every ask fails', async () => {
    let deps = await fresh({ generationMs: 10 * 60_000 });
    sandbox.failNextAsks(1);
    const ok = await withWorker(env, deps, (q) =>
      run(q, { ...base, startDate: '2026-02-01', endDate: '2026-02-02', table: 'dm_fail_once' }),
    );
    expect(ok.reportsAsked).toBe(2);
    await sandbox.stop();

    deps = await fresh({ generationMs: 10 * 60_000, failureRate: 1 });
    const err = await withWorker(env, deps, (q) =>
      run(q, { ...base, startDate: '2026-02-01', endDate: '2026-02-02', table: 'dm_fail', maxAsks: 3 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('WindowsFailed');
    expect(cause.message).toMatch(
      /1 of 1 window\(s\) failed: 2026-02-01\.\.2026-02-02: .*failed 3 time\(s\): report FAILED/,
    );
    expect((await sandbox.asks()).length).toBe(3);
  });

  it('refuses bad input inside the workflow with a non-retryable failure naming the field', async () => {
    const deps = await fresh();
    const err = await withWorker(env, deps, (q) =>
      run(q, {
        ...base,
        dimensions: ['DAY', 'VIDEO_ID', 'DAY'],
        startDate: '2026-02-01',
        endDate: '2026-01-01',
      } as DailymotionReportInput),
    ).catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string; nonRetryable?: boolean };
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/dimensions: duplicate dimension/);
    expect(cause.message).toMatch(/endDate: 2026-01-01 is before startDate 2026-02-01/);
  });
});
