/**
 * dailymotion-report on the real dev server against the sandbox: exact rows in DuckDB, no duplicates on a
 * rerun, and the same rows when the worker process is killed (SIGKILL) in the middle of a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { progressQuery } from '../../src/shared/messages';
import { maybeSaveHistory, maybeSaveHistoryOfType } from '../helpers/histories';
import { expectedRowKeys, runReport, startDailymotionSandbox, warehouseRowKeys } from '../helpers/dailymotion';
import { testDeps, tmpDir, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const COLUMNS = ['day', 'video_id', 'visitor_country', 'views', 'time_watched_seconds'];
const input = (table: string): DailymotionReportInput => ({
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID', 'VISITOR_COUNTRY'],
  product: 'CONTENT',
  startDate: '2026-01-01',
  endDate: '2026-02-14',
  windowDays: 15,
  table,
  poll: { initialDelay: '200ms', factor: 1.5, maxDelay: '1s' },
});

/** All rows the sandbox serves for the run's windows. */
function expected(sandbox: DailymotionSandbox, result: DailymotionReportResult, i: DailymotionReportInput): string[] {
  return result.windows
    .flatMap((w) =>
      expectedRowKeys(sandbox, {
        metrics: i.metrics,
        dimensions: i.dimensions,
        product: i.product,
        startDate: w.start,
        endDate: w.end,
      } as never),
    )
    .sort();
}

describe('dailymotion-report on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox;
  let dmEnv: Record<string, string>;
  useTemporalServer('dev', (e) => (env = e));
  beforeAll(async () => {
    ({ sandbox, env: dmEnv } = await startDailymotionSandbox({ generationMs: 1500, rowsPerFile: 400 }));
  });
  afterAll(() => sandbox?.stop());

  it('lands exactly the sandbox rows of a 3-window run, and a rerun leaves the same rows', async () => {
    const deps = testDeps({ ...dmEnv, DM_ACCOUNT: uniqueQueue('acct') });
    const i = input('dm_exact');
    const workflowId = uniqueQueue('dm-exact');
    const [first, second] = await withWorker(env, deps, async (taskQueue) => {
      const a = await runReport(env, taskQueue, workflowId, i);
      await maybeSaveHistory(env.address, workflowId, 'dailymotion-report');
      await maybeSaveHistoryOfType(env.address, 'dailymotionReportWindow', 'dailymotion-window');
      // Since its slots go through the kit's requester (WINDOW_SLOTS_ON_PERMITS): a window of that path too.
      await maybeSaveHistoryOfType(env.address, 'dailymotionReportWindow', 'dailymotion-window-on-permits');
      // Since the requester's watchdog wakes when due (PERMITS_WATCHDOG_DUE) and the 30-minute slot lease
      // (WINDOW_REPORT_SLOT_LEASE): a window of both patches.
      await maybeSaveHistoryOfType(env.address, 'dailymotionReportWindow', 'dailymotion-window-slot-lease-30m');
      await maybeSaveHistoryOfType(env.address, 'semaphore', 'semaphore-report-slots');
      // Since the semaphore runs on the permit entity (SEMAPHORE_ON_PERMITS): a history of that path too.
      await maybeSaveHistoryOfType(env.address, 'semaphore', 'semaphore-on-permits');
      const b = await runReport(env, taskQueue, workflowId, i);
      return [a, b];
    });
    expect(first.windows.map((w) => `${w.start}..${w.end}`)).toEqual([
      '2026-01-01..2026-01-15',
      '2026-01-16..2026-01-30',
      '2026-01-31..2026-02-14',
    ]);
    expect(first.windows.every((w) => w.files > 1)).toBe(true); // several CSV links per report, all read
    const want = expected(sandbox, first, i);
    expect(first.rowsLoaded).toBe(want.length);
    expect(first.badRows).toBe(0);
    expect(second.rowsLoaded).toBe(want.length);
    expect(await warehouseRowKeys(deps.warehouse, 'dm_exact', COLUMNS)).toEqual(want);
  });

  it('finishes with the same rows when the worker process is killed mid-run and started again', async () => {
    const dir = tmpDir();
    const account = uniqueQueue('acct');
    const taskQueue = uniqueQueue('dm-kill');
    const workerEnv = {
      ...process.env,
      ...dmEnv,
      DM_ACCOUNT: account,
      TEMPORAL_ADDRESS: env.address,
      LONGHAUL_TASK_QUEUE: taskQueue,
      LONGHAUL_DATA_DIR: dir,
      LONGHAUL_LOG_LEVEL: 'warn',
      // The kill can land during another window's ask: that ask then holds its slot until a report it may
      // have started has finished generating (4 s here) before asking again.
      DM_UNKNOWN_ASK_HOLD_MS: '12000',
    };
    const startWorker = (): ChildProcess =>
      spawn(process.execPath, [path.resolve(__dirname, '../../bin/longhaul.js'), 'worker'], {
        env: workerEnv,
        stdio: 'ignore',
      });
    sandbox.configure({ generationMs: 4000 });
    const i = input('dm_killed');
    let worker = startWorker();
    try {
      const handle = await env.client.workflow.start('dailymotionReport', {
        taskQueue,
        workflowId: uniqueQueue('dm-kill'),
        args: [i],
      });
      // Kill once the run is under way (a report generating), then start a new worker.
      for (let n = 0; n < 600; n++) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        if (p && /generating/.test(p.phase)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      worker = startWorker();
      const result = (await handle.result()) as DailymotionReportResult;
      const deps = testDeps({}, dir);
      const want = expected(sandbox, result, i);
      expect(await warehouseRowKeys(deps.warehouse, 'dm_killed', COLUMNS)).toEqual(want);
    } finally {
      sandbox.configure({ generationMs: 1500 });
      worker.kill('SIGKILL');
    }
  });
});
