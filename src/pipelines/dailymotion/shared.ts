/**
 * Dailymotion pipeline pieces shared by workflows and activities: the warehouse schema a report maps to,
 * and the signal a window workflow sends its parent when its state changes. Pure.
 */
import { defineSignal } from '@temporalio/workflow';
import type { Column, ColumnType, TableSchema } from '../../sinks/warehouse';
import { fnv1a64 } from '../../shared/identity-hash';

export type WindowState = 'waiting for report slot' | 'generating' | 'downloading and loading' | 'done' | 'failed';

export const windowStateSignal =
  defineSignal<[{ index: number; state: WindowState; detail?: string }]>('dailymotionWindowState');

const TIME_TYPES: Record<string, ColumnType> = { DAY: 'DATE', HOUR: 'TIMESTAMP', MINUTE: 'TIMESTAMP' };
/** Metrics that are counts (integers); every other metric is a decimal number (rates, money, ratios). */
const INTEGER_METRIC = /(VIEWS|VIEWERS|_SECONDS|UPLOADS|IMPRESSIONS|INVENTORY|REQUESTS|CLICKS|STARTS|COMPLETES|PLAYS)$/;

/** The table a report lands in: the CSV's columns (lower-cased enum names), dimensions first, typed. */
export function reportSchema(table: string, dimensions: string[], metrics: string[]): TableSchema {
  const columns: Column[] = [
    ...dimensions.map((d) => ({ name: d.toLowerCase(), type: TIME_TYPES[d] ?? 'STRING' })),
    ...metrics.map((m) => ({
      name: m.toLowerCase(),
      type: (INTEGER_METRIC.test(m) ? 'INT64' : 'FLOAT64') as ColumnType,
    })),
  ];
  return { name: table, columns };
}

/** The column and bounds that identify a window's rows (for replace mode). */
export function windowRange(dimensions: string[], start: string, end: string) {
  if (dimensions.includes('DAY')) return { column: 'day', from: start, to: end };
  const d = dimensions.find((x) => x === 'HOUR' || x === 'MINUTE');
  if (!d) return undefined;
  return { column: d.toLowerCase(), from: `${start} 00:00:00`, to: `${end} 23:59:59.999` };
}

/** The column holding a row's report configuration (see reportConfig). */
export const REPORT_CONFIG_COLUMN = 'report_config';

export interface ReportConfigInput {
  metrics: string[];
  dimensions: string[];
  product?: string;
  filters?: Record<string, string | undefined>;
}

/**
 * A 64-bit fingerprint (16 hex digits, FNV-1a 64) of a report configuration, normalised: metric and
 * dimension names upper-cased and sorted, no product written as '', filters sorted by name (empty ones
 * dropped). Every row a report loads carries it in `report_config`, and a replace deletes only the rows
 * of its own configuration: two configurations sharing a table never delete each other's rows. Pure.
 */
export function reportConfig(c: ReportConfigInput): string {
  const norm = (xs: string[]) => [...new Set(xs.map((x) => x.toUpperCase()))].sort();
  const filters = Object.entries(c.filters ?? {})
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = JSON.stringify({
    metrics: norm(c.metrics),
    dimensions: norm(c.dimensions),
    product: (c.product ?? '').toUpperCase(),
    filters,
  });
  return fnv1a64(text);
}

/**
 * In the table of a report without a DAY, HOUR or MINUTE dimension (MONTH only, or no time dimension at all),
 * the window each row was asked for ("2026-01-01..2026-01-30"): its rows cannot be told apart by date, so a
 * rerun replaces the rows of its own configuration and window — the report's own key.
 */
export const REPORT_WINDOW_COLUMN = 'report_window';

/** A window's value in REPORT_WINDOW_COLUMN. Pure. */
export const windowKey = (start: string, end: string) => `${start}..${end}`;

/**
 * The table a report lands in: the report's columns (reportSchema) and its `report_config`. A row is one set
 * of dimension values of one configuration; a load replaces its window's rows of its own configuration: with a
 * DAY, HOUR or MINUTE dimension, the window's range of that column (partitioned on it in BigQuery); without
 * one, the rows of its window (`report_window`). Tables loaded before 2026-12-05 by appending (MONTH only) get
 * the column added, NULL in their old rows: those are never replaced.
 */
export function reportTableSchema(table: string, dimensions: string[], metrics: string[]): TableSchema {
  const csv = reportSchema(table, dimensions, metrics);
  const range = windowRange(dimensions, '', '');
  const byWindow = !range;
  return {
    name: table,
    columns: [
      ...csv.columns,
      { name: REPORT_CONFIG_COLUMN, type: 'STRING' },
      ...(byWindow ? [{ name: REPORT_WINDOW_COLUMN, type: 'STRING' as const }] : []),
    ],
    primaryKey: [
      REPORT_CONFIG_COLUMN,
      ...(byWindow ? [REPORT_WINDOW_COLUMN] : []),
      ...dimensions.map((d) => d.toLowerCase()),
    ],
    write: { kind: 'replaceRange', column: range?.column ?? REPORT_WINDOW_COLUMN, ownedBy: [REPORT_CONFIG_COLUMN] },
  };
}
