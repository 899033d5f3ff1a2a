/**
 * `dailymotion-report`: splits the date range into windows and runs one child workflow per window (a few at
 * a time; the account's report semaphore decides how many generate). Progress shows each window's state.
 * A failed window does not stop the others; the run then fails listing what failed, and a rerun with the
 * same input replaces every window's rows (no duplicates).
 */
import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { DailymotionActivities } from '../activities/report';
import {
  dailymotionReportInput,
  dailymotionReportPipeline,
  hasRelativeDates,
  reportWindows,
  resolveReportDates,
  type DailymotionReportInput,
  type DailymotionReportResult,
  type WindowResult,
} from '../definition';
import { windowStateSignal, type WindowState } from '../shared';
import { dayEdge } from '../../../shared/dates';
import { PIPELINE_ATTRIBUTE, RANGE_END_ATTRIBUTE, RANGE_START_ATTRIBUTE } from '../../../shared/search-attributes';
import { ProgressTracker, tail, validateInput, workflowNow } from '../../../kit/workflow';
import { pool } from '../../../kit/pool';
import { dailymotionReportWindow } from './window';

const { dailymotionAccount } = proxyActivities<DailymotionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
  summary: 'identify the Dailymotion account (fingerprint of the credentials)',
});

/** Set by Temporal Schedules on the runs they start: the time the run was due (a backfill's past times too). */
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The time a run stands for: a scheduled run's due time (a run caught up after an outage, or backfilled,
 * loads the days it was due for), else its start.
 */
function nominalTime(): number {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(SCHEDULED_START);
  const untyped = info.searchAttributes?.TemporalScheduledStartTime?.[0];
  const due = typed ?? (untyped !== undefined ? new Date(untyped as string | Date) : undefined);
  return due && !Number.isNaN(due.getTime()) ? due.getTime() : info.startTime.getTime();
}

/** Windows in flight at once (each still waits for a report slot). */
const PARALLEL_WINDOWS = 4;

/** Windows started per run before it continues as new (sooner if Temporal suggests it): history stays small. */
const WINDOWS_PER_RUN = 200;

/** What a run hands to the next when it continues as new: progress so far, nothing per window but results. */
export interface DailymotionReportCarry {
  nextIndex: number;
  nominalMs: number;
  t0: number;
  windows: WindowResult[];
  /** The first failures (capped), with the total count. */
  failures: string[];
  failureCount: number;
  /** Windows per run before continuing as new (default WINDOWS_PER_RUN; tests lower it). */
  windowsPerRun?: number;
}
const MAX_CARRIED_FAILURES = 50;

export async function dailymotionReport(
  raw: DailymotionReportInput,
  carry?: Partial<DailymotionReportCarry>,
): Promise<DailymotionReportResult> {
  const given = validateInput(dailymotionReportInput, raw);
  const continued = carry?.nextIndex !== undefined;
  // Relative days (a schedule's "yesterday") are the UTC days of the time this run stands for, the same on replay.
  const nominalMs = carry?.nominalMs ?? nominalTime();
  const p = resolveReportDates(given, nominalMs);
  if (
    !continued &&
    hasRelativeDates(given) &&
    workflowInfo().typedSearchAttributes.get(PIPELINE_ATTRIBUTE) !== undefined &&
    patched('longhaul-resolved-range-attributes')
  )
    // The client could not tag the range (it was relative when the schedule was made): tag it now.
    upsertSearchAttributes([
      { key: RANGE_START_ATTRIBUTE, value: dayEdge(p.startDate, 'start') },
      { key: RANGE_END_ATTRIBUTE, value: dayEdge(p.endDate, 'end') },
    ]);
  const t0 = carry?.t0 ?? workflowNow();
  const windows = reportWindows(p);
  const progress = new ProgressTracker('dailymotion-report', 'windows', windows.length);
  const start = carry?.nextIndex ?? 0;
  if (continued) {
    progress.set({ done: start });
    progress.add(
      'rowsLoaded',
      (carry.windows ?? []).reduce((n, r) => n + r.rowsLoaded, 0),
    );
    if (carry.failureCount) progress.add('windowsFailed', carry.failureCount);
  }
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

  const { poll, maxAsks, maxConcurrentReports, slotLease, metrics, dimensions, product, filters, table, writeMode } = p;
  const { maxBadRows, fromLanded } = p;
  // A reload from landed files asks no report: no account (nor credentials) needed.
  const account = fromLanded ? 'landed' : await dailymotionAccount();
  const results: (WindowResult | undefined)[] = new Array(windows.length);
  (carry?.windows ?? []).forEach((r, i) => (results[i] = r)); // compacted: earlier runs' results, in order
  const failures: string[] = [...(carry?.failures ?? [])];
  let failureCount = carry?.failureCount ?? 0;
  // Continue as new after this many windows (or when Temporal suggests it): thousands of windows would
  // otherwise near the history limit. Runs from before the patch go on as they were.
  const perRun = carry?.windowsPerRun ?? WINDOWS_PER_RUN;
  const rolls = patched('longhaul-dm-report-continue-as-new');
  const moreInThisRun = (taken: number) => !rolls || (taken < perRun && !workflowInfo().continueAsNewSuggested);
  const runWindow = async (w: (typeof windows)[number], i: number) => {
    const index = start + i;
    try {
      results[index] = await executeChild(dailymotionReportWindow, {
        workflowId: `${workflowInfo().workflowId}-w${index + 1}-${w.start}_${w.end}`,
        staticSummary: `window ${index + 1}/${windows.length}: ${w.start} → ${w.end}, ${fromLanded ? 'from landed files' : `account ${tail(account)}`}`,
        staticDetails: `${metrics.join(', ')} by ${dimensions.join(', ')} → \`${table}\` (${writeMode})`,
        args: [
          {
            params: {
              metrics,
              dimensions,
              product,
              filters,
              table,
              writeMode,
              poll,
              maxAsks,
              maxConcurrentReports,
              maxBadRows,
              ...(slotLease ? { slotLease } : {}),
              ...(fromLanded ? { fromLanded } : {}),
            },
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
      failureCount++;
      if (failures.length < MAX_CARRIED_FAILURES) failures.push(`${w.start}..${w.end}: ${cause.message}`);
      progress.add('windowsFailed');
    }
    states.delete(index);
    progress.set({ done: progress.state.done + 1 });
    showStates();
  };
  const { taken } = await pool(windows.slice(start), PARALLEL_WINDOWS, runWindow, { more: moreInThisRun });
  const next = start + taken;
  if (next < windows.length) {
    // Every window started in this run has ended (the lanes drained): hand over the compact state.
    await continueAsNew<typeof dailymotionReport>(raw, {
      nextIndex: next,
      nominalMs,
      t0,
      // Results in window order; a failed window leaves a gap, so keep only the successful ones compacted.
      windows: results.filter((r): r is WindowResult => !!r),
      failures,
      failureCount,
      windowsPerRun: carry?.windowsPerRun,
    });
  }

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
    failureCount
      ? `${failureCount} of ${windows.length} window(s) failed; ${result.rowsLoaded} rows loaded from the others`
      : dailymotionReportPipeline.summarize(result),
  );
  if (failureCount) {
    const more = failureCount > failures.length ? `; … and ${failureCount - failures.length} more` : '';
    throw ApplicationFailure.nonRetryable(
      `${failureCount} of ${windows.length} window(s) failed: ${failures.join('; ')}${more}`,
      'WindowsFailed',
      result,
    );
  }
  return result;
}
