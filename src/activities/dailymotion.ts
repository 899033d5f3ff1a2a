/**
 * Dailymotion activities: the account key for the report semaphore, ask a report, read its status, and
 * download + parse + load a finished report into the warehouse (idempotent: the rows the window's report
 * configuration owns are replaced). Credentials come from the worker's configuration, never from workflow
 * arguments.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import { ConfigError } from '../config';
import { DailymotionClient } from '../connectors/dailymotion/client';
import { DailymotionApiError, ReportLinkGoneError } from '../connectors/dailymotion/errors';
import type { AskReportInput } from '../connectors/dailymotion/enums';
import {
  REPORT_CONFIG_COLUMN,
  reportConfig,
  reportSchema,
  reportTableSchema,
  windowRange,
} from '../shared/dailymotion';
import type { DateWindow } from '../shared/dates';
import { RowsOutsideRangeError, schemaDifferences, type Row, type WriteMode } from '../sinks/warehouse';
import { chaosPoint } from './chaos-points';
import type { Deps } from './deps';
import { BadRowsError, csvBatches, CsvHeaderError, type ParseStats } from './dailymotion-csv';

/** How often a load heartbeats, whatever it is doing (downloading, queued for the warehouse, committing). */
export const LOAD_HEARTBEAT_MS = 15_000;

/** The warehouse table exists with other columns than the report's: refused, never filled with NULLs. */
export class TableSchemaError extends Error {
  override name = 'TableSchemaError';
}

export interface AskInput {
  metrics: string[];
  dimensions: string[];
  product?: string;
  filters?: Record<string, string>;
  window: DateWindow;
}

export interface LoadInput {
  reportToken: string;
  metrics: string[];
  dimensions: string[];
  /** With metrics and dimensions, the report configuration whose rows a replace owns (report_config). */
  product?: string;
  filters?: Record<string, string>;
  window: DateWindow;
  table: string;
  writeMode: 'replace' | 'append';
  /** Rows that may fail typing (counted, reported, not loaded) before the window fails; default 0. */
  maxBadRows?: number;
}

export interface LoadResult extends ParseStats {
  rowsLoaded: number;
  /** The tolerance the window was loaded with. */
  maxBadRows: number;
}

/** Turns connector errors into retry decisions Temporal understands. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ReportLinkGoneError) return ApplicationFailure.nonRetryable(err.message, 'ReportLinkGone');
  if (err instanceof CsvHeaderError) return ApplicationFailure.nonRetryable(err.message, 'ReportFormat');
  // The same file gives the same rows: retrying cannot help, and nothing was replaced.
  if (err instanceof BadRowsError) return ApplicationFailure.nonRetryable(err.message, 'BadRows');
  if (err instanceof RowsOutsideRangeError) return ApplicationFailure.nonRetryable(err.message, 'RowsOutsideRange');
  if (err instanceof TableSchemaError) return ApplicationFailure.nonRetryable(err.message, 'TableSchema');
  // A missing credential does not appear by retrying: fail the run with the variable's name.
  if (err instanceof ConfigError) return ApplicationFailure.nonRetryable(err.message, 'Config');
  if (!(err instanceof DailymotionApiError)) return err;
  switch (err.kind) {
    case 'invalid_request':
    case 'auth':
      return ApplicationFailure.nonRetryable(err.message, `Dailymotion_${err.kind}`);
    case 'rate_limited':
    case 'concurrency_limit':
      return ApplicationFailure.create({
        message: err.message,
        type: `Dailymotion_${err.kind}`,
        nextRetryDelay: err.retryAfterMs ?? (err.kind === 'concurrency_limit' ? 60_000 : 5_000),
      });
    default:
      return ApplicationFailure.retryable(err.message, `Dailymotion_${err.kind}`);
  }
}

export function createDailymotionActivities(
  deps: Pick<Deps, 'config' | 'warehouse'>,
  opts: { /** Load heartbeat period (tests shorten it). */ heartbeatMs?: number } = {},
) {
  let client: DailymotionClient | undefined;
  const dm = () => (client ??= DailymotionClient.fromConfig(deps.config));
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toFailure(err);
    }
  };

  return {
    /** The partner account the 2-reports limit applies to, as a fingerprint (safe in history). */
    async dailymotionAccount(): Promise<string> {
      if (!deps.config.DM_ACCOUNT && !deps.config.DM_CLIENT_API) {
        throw ApplicationFailure.nonRetryable(
          'DM_CLIENT_API is not set: the worker has no Dailymotion credentials',
          'Config',
        );
      }
      return DailymotionClient.accountKey(deps.config);
    },

    async askReport(input: AskInput): Promise<string> {
      return guard(() =>
        dm().askReport({
          metrics: input.metrics,
          dimensions: input.dimensions,
          product: input.product,
          filters: input.filters,
          startDate: input.window.start,
          endDate: input.window.end,
        } as AskReportInput),
      );
    },

    async reportStatus(reportToken: string): Promise<string> {
      return guard(async () => (await dm().getReport(reportToken)).status);
    },

    async loadReport(input: LoadInput): Promise<LoadResult> {
      const ctx = Context.current();
      const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
      // Heartbeat on a timer, not only per batch: while queued behind another load, while the warehouse
      // commits or a BigQuery job runs, the attempt stays alive — and learns when it was cancelled or
      // timed out (ctx.cancellationSignal), so it never commits after a retry did.
      const beat = () => ctx.heartbeat({ rowsParsed: stats.rowsParsed, files: stats.files });
      const timer = setInterval(beat, opts.heartbeatMs ?? LOAD_HEARTBEAT_MS);
      try {
        return await guard(async () => {
          const report = await dm().getReport(input.reportToken);
          if (report.status !== 'FINISHED') {
            throw new ReportLinkGoneError(
              `report is ${report.status}, not FINISHED: its files can no longer be read`,
              200,
            );
          }
          const csvSchema = reportSchema(input.table, input.dimensions, input.metrics);
          const schema = reportTableSchema(input.table, input.dimensions, input.metrics);
          const existing = await deps.warehouse.describeTable(input.table);
          const diff = existing ? schemaDifferences(schema, existing) : [];
          if (diff.length)
            throw new TableSchemaError(
              `table ${input.table} does not have this report's columns (${diff.join('; ')}): nothing was ` +
                'loaded. Load this report configuration into a table of its own with --table <name> ' +
                '(each metrics/dimensions set needs its own table)',
            );
          const config = reportConfig(input);
          const maxBadRows = input.maxBadRows ?? 0;
          const batches = csvBatches(
            csvSchema,
            report.links.length,
            (i) => dm().downloadCsv(report.links[i]),
            stats,
            5000,
            maxBadRows,
          );
          const tagged = async function* (): AsyncGenerator<Row[]> {
            for await (const b of batches) {
              beat();
              for (const row of b) row[REPORT_CONFIG_COLUMN] = config;
              yield b;
            }
          };
          const range = windowRange(input.dimensions, input.window.start, input.window.end);
          const mode: WriteMode =
            input.writeMode === 'replace' && range
              ? { kind: 'replaceRange', ...range, where: { [REPORT_CONFIG_COLUMN]: config } }
              : { kind: 'append' };
          const { rowsLoaded } = await deps.warehouse.load(schema, tagged(), mode, {
            signal: ctx.cancellationSignal,
          });
          chaosPoint('dailymotion.load.after-commit');
          const good = stats.rowsParsed - stats.badRows;
          if (rowsLoaded !== good)
            throw new Error(`row count mismatch: ${good} good rows parsed, ${rowsLoaded} loaded`);
          return { ...stats, rowsLoaded, maxBadRows };
        });
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export type DailymotionActivities = ReturnType<typeof createDailymotionActivities>;
