/**
 * Dailymotion pipeline pieces shared by workflows and activities: the warehouse schema a report maps to,
 * and the signal a window workflow sends its parent when its state changes. Pure.
 */
import { defineSignal } from '@temporalio/workflow';
import type { Column, ColumnType, TableSchema } from '../sinks/warehouse';

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
