/**
 * `dailymotion-report`: splits the date range into windows and runs one child workflow per window (a few at
 * a time; the account's report semaphore decides how many generate). Progress shows each window's state.
 * A failed window does not stop the others; the run then fails listing what failed, and a rerun with the
 * same input replaces every window's rows (no duplicates).
 */
import { ApplicationFailure, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DailymotionActivities } from '../activities/dailymotion';
import {
  dailymotionReportInput,
  dailymotionReportPipeline,
  reportWindows,
  type DailymotionReportInput,
  type DailymotionReportResult,
  type WindowResult,
} from '../pipelines/dailymotion-report';
import { windowStateSignal, type WindowState } from '../shared/dailymotion';
import { ProgressTracker, tail, validateInput, workflowNow } from './common';
import { dailymotionReportWindow } from './dailymotion-window';

const { dailymotionAccount } = proxyActivities<DailymotionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
  summary: 'identify the Dailymotion account (fingerprint of the credentials)',
});

/** Windows in flight at once (each still waits for a report slot). */
const PARALLEL_WINDOWS = 4;

export async function dailymotionReport(raw: DailymotionReportInput): Promise<DailymotionReportResult> {
  const p = validateInput(dailymotionReportInput, raw);
  const t0 = workflowNow();
  const windows = reportWindows(p);
  const progress = new ProgressTracker('dailymotion-report', 'windows', windows.length);
  const states = new Map<number, WindowState>();
  const showStates = () => {
    const count = (s: WindowState) => [...states.values()].filter((x) => x === s).length;
    const parts = (['waiting for report slot', 'generating', 'downloading and loading'] as const)
      .map((s) => [s, count(s)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`);
    progress.set({ phase: parts.join(', ') || 'starting' });
  };
  setHandler(windowStateSignal, ({ index, state }) => {
    states.set(index, state);
    showStates();
  });

  const account = await dailymotionAccount();
  const { poll, maxAsks, maxConcurrentReports, metrics, dimensions, product, filters, table, writeMode } = p;
  const results: (WindowResult | undefined)[] = new Array(windows.length);
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < windows.length) {
      const index = next++;
      const w = windows[index];
      try {
        results[index] = await executeChild(dailymotionReportWindow, {
          workflowId: `${workflowInfo().workflowId}-w${index + 1}-${w.start}_${w.end}`,
          staticSummary: `window ${index + 1}/${windows.length}: ${w.start} → ${w.end}, account ${tail(account)}`,
          staticDetails: `${metrics.join(', ')} by ${dimensions.join(', ')} → \`${table}\` (${writeMode})`,
          args: [
            {
              params: { metrics, dimensions, product, filters, table, writeMode, poll, maxAsks, maxConcurrentReports },
              window: w,
              index,
              account,
              parentId: workflowInfo().workflowId,
            },
          ],
        });
        progress.add('rowsLoaded', results[index]!.rowsLoaded);
      } catch (err) {
        // The innermost cause says what went wrong ("DM_CLIENT_API is not set…", not "Activity task failed").
        let cause = err as Error;
        while (cause.cause instanceof Error) cause = cause.cause;
        failures.push(`${w.start}..${w.end}: ${cause.message}`);
        progress.add('windowsFailed');
      }
      states.delete(index);
      progress.set({ done: progress.state.done + 1 });
      showStates();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WINDOWS, windows.length) }, lane));

  const done = results.filter((r): r is WindowResult => !!r);
  const result: DailymotionReportResult = {
    table,
    windows: done,
    reportsAsked: done.reduce((n, r) => n + r.reportsAsked, 0),
    rowsLoaded: done.reduce((n, r) => n + r.rowsLoaded, 0),
    badRows: done.reduce((n, r) => n + r.badRows, 0),
    wallTimeMs: workflowNow() - t0,
  };
  progress.set({ phase: failures.length ? 'failed' : 'done' });
  progress.finish(
    failures.length
      ? `${failures.length} of ${windows.length} window(s) failed; ${result.rowsLoaded} rows loaded from the others`
      : dailymotionReportPipeline.summarize(result),
  );
  if (failures.length) {
    throw ApplicationFailure.nonRetryable(
      `${failures.length} of ${windows.length} window(s) failed: ${failures.join('; ')}`,
      'WindowsFailed',
      result,
    );
  }
  return result;
}
