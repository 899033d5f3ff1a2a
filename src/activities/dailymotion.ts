/**
 * Dailymotion activities: the account key for the report semaphore, ask a report, read its status, and
 * download + parse + load a finished report into the warehouse (idempotent: the window's rows are replaced).
 * Credentials come from the worker's configuration, never from workflow arguments.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import { ConfigError } from '../config';
import { DailymotionClient } from '../connectors/dailymotion/client';
import { DailymotionApiError, ReportLinkGoneError } from '../connectors/dailymotion/errors';
import type { AskReportInput } from '../connectors/dailymotion/enums';
import { reportSchema, windowRange } from '../shared/dailymotion';
import type { DateWindow } from '../shared/dates';
import type { Deps } from './deps';
import { csvBatches, CsvHeaderError, type ParseStats } from './dailymotion-csv';

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
  window: DateWindow;
  table: string;
  writeMode: 'replace' | 'append';
}

export interface LoadResult extends ParseStats {
  rowsLoaded: number;
}

/** Turns connector errors into retry decisions Temporal understands. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ReportLinkGoneError) return ApplicationFailure.nonRetryable(err.message, 'ReportLinkGone');
  if (err instanceof CsvHeaderError) return ApplicationFailure.nonRetryable(err.message, 'ReportFormat');
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

export function createDailymotionActivities(deps: Pick<Deps, 'config' | 'warehouse'>) {
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
      return guard(async () => {
        const report = await dm().getReport(input.reportToken);
        if (report.status !== 'FINISHED') {
          throw new ReportLinkGoneError(
            `report is ${report.status}, not FINISHED: its files can no longer be read`,
            200,
          );
        }
        const schema = reportSchema(input.table, input.dimensions, input.metrics);
        const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
        const ctx = Context.current();
        const batches = csvBatches(schema, report.links.length, (i) => dm().downloadCsv(report.links[i]), stats);
        const heartbeating = async function* () {
          for await (const b of batches) {
            ctx.heartbeat({ rowsParsed: stats.rowsParsed, files: stats.files });
            yield b;
          }
        };
        const range = windowRange(input.dimensions, input.window.start, input.window.end);
        const mode =
          input.writeMode === 'replace' && range
            ? { kind: 'replaceRange' as const, ...range }
            : { kind: 'append' as const };
        const { rowsLoaded } = await deps.warehouse.load(schema, heartbeating(), mode);
        const good = stats.rowsParsed - stats.badRows;
        if (rowsLoaded !== good) throw new Error(`row count mismatch: ${good} good rows parsed, ${rowsLoaded} loaded`);
        return { ...stats, rowsLoaded };
      });
    },
  };
}

export type DailymotionActivities = ReturnType<typeof createDailymotionActivities>;
