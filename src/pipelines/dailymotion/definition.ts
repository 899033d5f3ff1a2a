/**
 * `dailymotion-report`: partner analytics from the Dailymotion reporting API into the warehouse, one report
 * per date window (30 days by default), at most 2 reports generating at once per account, reloads that
 * replace the window's rows (no duplicates on rerun).
 */
import { z } from 'zod';
import {
  compatibilityIssues,
  PartnerReportDimension,
  PartnerReportFilters,
  PartnerReportMetric,
  PartnerReportProduct,
} from './connector/enums';
import { dayOrRelative, isRelativeDay, resolveDate, splitWindows, toIso } from '../../shared/dates';
import { durationMs, formatDuration } from '../../shared/durations';
import { definePipeline, identityHash, type WorkflowOf } from '../types';
import type * as workflows from './workflows';

export const MAX_DIMENSIONS = 8;
export const MAX_WINDOW_DAYS = 180;
/**
 * Time dimensions whose values fall inside a window: the column a window's rows are replaced by. A report
 * without one (MONTH only, or no time dimension) replaces the rows of its window instead (`report_window`).
 */
export const RANGE_DIMENSIONS = ['DAY', 'HOUR', 'MINUTE'] as const;

export const pollSettings = z
  .object({
    initialDelay: durationMs.default(10_000),
    factor: z.number().min(1).max(10).default(1.5),
    maxDelay: durationMs.default(5 * 60_000),
    /** Give up on a report still generating after this long. */
    budget: durationMs.default(150 * 60_000),
  })
  .strict();

export const slotLeaseSettings = z
  .object({ lease: durationMs, renew: durationMs, reask: durationMs })
  .strict()
  .superRefine((v, ctx) => {
    if (v.lease < 1_000) ctx.addIssue({ code: 'custom', path: ['lease'], message: 'at least 1s' });
    if (v.renew < 100 || v.renew >= v.lease)
      ctx.addIssue({ code: 'custom', path: ['renew'], message: 'at least 100ms and shorter than lease' });
    if (v.reask < 100) ctx.addIssue({ code: 'custom', path: ['reask'], message: 'at least 100ms' });
  });

export const dailymotionReportInput = z
  .object({
    metrics: z.array(PartnerReportMetric).min(1, 'at least one metric').describe('The report’s metrics'),
    dimensions: z
      .array(PartnerReportDimension)
      .min(1, 'at least one dimension')
      .max(MAX_DIMENSIONS, `at most ${MAX_DIMENSIONS} dimensions (API limit)`)
      .describe('The report’s dimensions: a time dimension (DAY, HOUR, MINUTE, MONTH) and up to 7 more'),
    product: PartnerReportProduct.optional().describe('Only this product’s data (default: all)'),
    filters: PartnerReportFilters.optional().describe('The API’s report filters, as JSON'),
    /** Relative days are resolved against the run's start day (UTC): schedules ask for "yesterday". */
    startDate: dayOrRelative.describe('First day of data'),
    endDate: dayOrRelative.describe('Last day of data (not in the future)'),
    windowDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_WINDOW_DAYS)
      .default(30)
      .describe('Days per report (the API accepts 1–180)'),
    /**
     * Warehouse table. Several report configurations may share one only if they have the same columns
     * (each row carries its configuration's fingerprint, report_config); a table with other columns is refused.
     */
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'letters, digits and underscores')
      .default('dailymotion_report')
      .describe('Warehouse table (report configurations sharing one need the same columns)'),
    /**
     * replace: each window's rows are replaced (its date range, or without a DAY/HOUR/MINUTE dimension its
     * `report_window`), for this report configuration only (reruns never
     * duplicate); append: rows are added.
     */
    writeMode: z
      .enum(['replace', 'append'])
      .default('replace')
      .describe('replace: a rerun replaces its windows’ rows (this configuration’s only); append: adds rows'),
    /**
     * Rows per window that may fail typing (counted, reported as problems, not loaded) before the window
     * fails without replacing anything. Default 0: any bad row fails its window.
     */
    maxBadRows: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .default(0)
      .describe('Rows per window that may fail typing (counted and reported) before the window fails'),
    /**
     * Load each window from the files an earlier run landed (the newest complete landing of this report
     * configuration and window) instead of asking the API: no report slot, no API call.
     */
    fromLanded: z
      .boolean()
      .default(false)
      .describe('Load each window from the files an earlier run landed, without asking the API'),
    poll: pollSettings
      .default(pollSettings.parse({}))
      .describe('Report polling: initialDelay, factor, maxDelay, budget (durations as 10s, 5m, 2h)'),
    /** Asks per window when reports fail or expire before they are read. */
    maxAsks: z.number().int().min(1).max(10).default(3).describe('Asks per window when reports fail or expire'),
    /** Reports generating at once per account (the API allows 2). */
    maxConcurrentReports: z
      .number()
      .int()
      .min(1)
      .max(2)
      .default(2)
      .describe('Reports generating at once per account, across all runs (the API allows 2)'),
    /**
     * How a window holds its report slot (advanced; defaults: lease 30m, renew 10m, reask 10m): a holding window
     * renews its lease every `renew`, a waiting one re-sends its request every `reask` (a semaphore that was
     * terminated is started again with its holders), and the slot of a window that died is freed after `lease`.
     */
    slotLease: slotLeaseSettings
      .optional()
      .describe('Advanced: how a window holds its report slot (lease, renew, reask; default 30m, 10m, 10m)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (new Set(v.dimensions).size !== v.dimensions.length)
      ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'duplicate dimension' });
    if (new Set(v.metrics).size !== v.metrics.length)
      ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'duplicate metric' });
    for (const issue of compatibilityIssues(v.metrics, v.dimensions))
      ctx.addIssue({ code: 'custom', path: ['metrics'], message: issue });
    // `new Date()` is the workflow clock inside a workflow, the machine clock in the client.
    const now = new Date().getTime();
    const [start, end] = [resolveDate(v.startDate, now), resolveDate(v.endDate, now)];
    const shown = (raw: string, day: string) => (raw === day ? day : `${raw} (${day})`);
    if (end < start)
      ctx.addIssue({
        code: 'custom',
        path: ['endDate'],
        message: `${shown(v.endDate, end)} is before startDate ${shown(v.startDate, start)}`,
      });
    const today = toIso(now);
    if (end > today)
      ctx.addIssue({
        code: 'custom',
        path: ['endDate'],
        message: `${shown(v.endDate, end)} is in the future (today is ${today} UTC)`,
      });
  });

export type DailymotionReportInput = z.input<typeof dailymotionReportInput>;
export type DailymotionReportParams = z.output<typeof dailymotionReportInput>;

export interface WindowResult {
  start: string;
  end: string;
  reportsAsked: number;
  files: number;
  rowsParsed: number;
  rowsLoaded: number;
  badRows: number;
  badRowSamples: string[];
  /** The tolerance the window was loaded with (absent in runs from before it existed). */
  maxBadRows?: number;
  /** Who read the files: the warehouse's own loader or the JavaScript reader (absent in runs before 2026-12-06). */
  reader?: 'warehouse' | 'javascript';
}

export interface DailymotionReportResult {
  table: string;
  windows: WindowResult[];
  reportsAsked: number;
  rowsLoaded: number;
  badRows: number;
  wallTimeMs: number;
}

/**
 * The input with relative days (`yesterday`, …) made dates, for a run starting at `nowMs`: by `longhaul run`
 * before it starts a run, by the workflow from its start time (a scheduled run keeps the relative days).
 */
export function resolveReportDates(p: DailymotionReportParams, nowMs: number): DailymotionReportParams {
  return { ...p, startDate: resolveDate(p.startDate, nowMs), endDate: resolveDate(p.endDate, nowMs) };
}

export const hasRelativeDates = (p: { startDate: string; endDate: string }) =>
  isRelativeDay(p.startDate) || isRelativeDay(p.endDate);

/** The windows a run will ask reports for (its dates resolved). */
export const reportWindows = (p: DailymotionReportParams) => splitWindows(p.startDate, p.endDate, p.windowDays);

export const dailymotionReportPipeline = definePipeline({
  name: 'dailymotion-report',
  description: 'Dailymotion partner reports (GraphQL askPartnerReportFile) into the warehouse',
  input: dailymotionReportInput,
  workflowType: 'dailymotionReport' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['metrics', 'dimensions'],
  resolve: resolveReportDates,
  workflowId: (p) => {
    const { poll: _p, maxAsks: _m, maxConcurrentReports: _c, slotLease: _l, maxBadRows, fromLanded, ...what } = p;
    // Options at their defaults are left out of the ID (a run without them keeps its identity); a reload from
    // landed files is a run of its own.
    const id = { ...what, ...(maxBadRows ? { maxBadRows } : {}), ...(fromLanded ? { fromLanded } : {}) };
    return `dailymotion-report-${p.startDate}_${p.endDate}-${identityHash(id)}`;
  },
  // Bad rows a window tolerated (maxBadRows) were not loaded: `longhaul run --wait` lists them and exits 1.
  problems: (r: DailymotionReportResult) =>
    r.windows
      .filter((w) => w.badRows > 0)
      .map(
        (w) =>
          `${w.start}..${w.end}: ${w.badRows} bad row(s) not loaded (tolerated, maxBadRows ${w.maxBadRows ?? '?'})` +
          (w.badRowSamples.length ? `: ${w.badRowSamples.join('; ')}` : ''),
      ),
  account: (c) => (c.DM_ACCOUNT ? { name: c.DM_ACCOUNT } : c.DM_CLIENT_API ? { secret: c.DM_CLIENT_API } : undefined),
  range: (i) => ({ start: i.startDate, end: i.endDate }),
  describeInput: (i, account) => {
    // Relative days (a schedule's `yesterday`) span the same number of days whichever day a run starts.
    // (The client's clock: this line is written when a run starts, never inside a workflow.)
    const now = new Date().getTime();
    const n =
      Math.round((Date.parse(resolveDate(i.endDate, now)) - Date.parse(resolveDate(i.startDate, now))) / 86_400_000) +
      1;
    const windows = Math.ceil(n / i.windowDays);
    const relative = isRelativeDay(i.startDate) || isRelativeDay(i.endDate);
    return (
      `Dailymotion report ${i.startDate} → ${i.endDate}${relative ? ' (UTC days of each run)' : ''} ` +
      `(${windows} window${windows > 1 ? 's' : ''} of ${i.windowDays} days) into ${i.table}` +
      `${account ? `, account …${account.slice(-4)}` : ''}`
    );
  },
  summarize: (r: DailymotionReportResult) =>
    `${r.rowsLoaded} rows into ${r.table} from ${r.windows.length} window(s), ${r.reportsAsked} report(s) asked, ` +
    `${r.badRows} bad row(s), in ${formatDuration(r.wallTimeMs)}`,
  example: {
    metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
    dimensions: ['DAY', 'VIDEO_ID'],
    product: 'CONTENT',
    startDate: '2026-01-01',
    endDate: '2026-03-31',
  },
});
