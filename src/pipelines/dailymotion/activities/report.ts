/**
 * Dailymotion activities: the account key for the report semaphore, ask a report, read its status, and
 * download + parse + load a finished report into the warehouse (idempotent: the rows the window's report
 * configuration owns are replaced). Credentials come from the worker's configuration, never from workflow
 * arguments.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import { ConfigError } from '../../../config';
import { DailymotionClient } from '../connector/client';
import { DailymotionApiError, ReportLinkGoneError } from '../connector/errors';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { toActivityFailure } from '../../../kit/activity/http';
import type { AskReportInput } from '../connector/enums';
import {
  REPORT_CONFIG_COLUMN,
  REPORT_WINDOW_COLUMN,
  reportConfig,
  reportSchema,
  reportTableSchema,
  windowKey,
  windowRange,
} from '../shared';
import type { DateWindow } from '../../../shared/dates';
import { replaceRangeOf, RowsOutsideRangeError, schemaDifferences, type WriteMode } from '../../../sinks/warehouse';
import { chaosPoint } from '../../../kit/activity/chaos-points';
import type { Deps } from '../../../activities/deps';
import { BadRowsError, CsvHeaderError, type ParseStats } from '../../../kit/activity/csv';
import { landedPartKey, landManifest, landPart, pruneLandings } from '../../../kit/activity/landing';
import { logger } from '../../../node/logger';
import { loadLandedCsv, type LandedCsv } from '../../../kit/activity/load-landed';
import { landedReportPrefix, landedReportsPrefix, latestLanding, reportConfigOf, type LandedReport } from './landed';
import { accountOf } from '../../../node/account';
import { dailymotionReportPipeline } from '../definition';

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
  /** The window's ask number (1..maxAsks): with the workflow run, the key of the ask's claim. */
  ask?: number;
}

/** How long a claim without a token (the call's outcome unknown) holds the slot before asking again (default of DM_UNKNOWN_ASK_HOLD_MS). */
export const UNKNOWN_ASK_HOLD_MS = 30 * 60_000;

/** Where an ask is recorded: one object per window run and ask number. */
export function askClaimKey(workflowId: string, runId: string, ask: number | string): string {
  const safe = (s: string) => encodeURIComponent(s).replace(/%/g, '_');
  return `_longhaul/dailymotion-asks/${safe(workflowId)}/${safe(runId)}/ask-${ask}.json`;
}

interface AskClaim {
  askedAt: string;
  token?: string;
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

/** A window loaded again from its landed files: the load's input without a report. */
export type LoadLandedInput = Omit<LoadInput, 'reportToken'>;

export interface LoadResult extends ParseStats {
  rowsLoaded: number;
  /** The tolerance the window was loaded with. */
  maxBadRows: number;
  /** Who read the files: the warehouse's own loader, or the JavaScript reader (docs/architecture.md). */
  reader: 'warehouse' | 'javascript';
}

/** Turns connector errors into retry decisions Temporal understands. */
export function toFailure(err: unknown): unknown {
  if (err instanceof CsvHeaderError) return ApplicationFailure.nonRetryable(err.message, 'ReportFormat');
  // The same file gives the same rows: retrying cannot help, and nothing was replaced.
  if (err instanceof BadRowsError) return ApplicationFailure.nonRetryable(err.message, 'BadRows');
  if (err instanceof RowsOutsideRangeError) return ApplicationFailure.nonRetryable(err.message, 'RowsOutsideRange');
  if (err instanceof TableSchemaError) return ApplicationFailure.nonRetryable(err.message, 'TableSchema');
  // A missing credential does not appear by retrying: fail the run with the variable's name.
  if (err instanceof ConfigError) return ApplicationFailure.nonRetryable(err.message, 'Config');
  // A report asked for a moment ago may not be visible yet: "no such report" is retried (the retry policy
  // bounds it). A report file link that is gone is not: the window asks for the report again.
  if (err instanceof DailymotionApiError && err.kind === 'not_found' && !(err instanceof ReportLinkGoneError))
    return ApplicationFailure.retryable(err.message, 'Dailymotion_not_found');
  // Dailymotion's other errors: the kit's conversion.
  return toActivityFailure(err);
}

export interface DailymotionActivityOptions {
  /** Load heartbeat period (tests shorten it). */
  heartbeatMs?: number;
  /** See UNKNOWN_ASK_HOLD_MS (tests shorten it). */
  unknownAskHoldMs?: number;
  now?: () => number;
}

export function createDailymotionActivities(
  deps: Pick<Deps, 'config' | 'warehouse' | 'bucket'>,
  opts: DailymotionActivityOptions = {},
) {
  const holdMs = opts.unknownAskHoldMs ?? deps.config.DM_UNKNOWN_ASK_HOLD_MS ?? UNKNOWN_ASK_HOLD_MS;
  const now = opts.now ?? Date.now;
  let client: DailymotionClient | undefined;
  const dm = () => (client ??= DailymotionClient.fromConfig(deps.config));
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toFailure(err);
    }
  };

  const activities = {
    /** The partner account the 2-reports limit applies to, as a fingerprint (safe in history). */
    async dailymotionAccount(): Promise<string> {
      if (!deps.config.DM_ACCOUNT && !deps.config.DM_CLIENT_API) {
        throw ApplicationFailure.nonRetryable(
          'DM_CLIENT_API is not set: the worker has no Dailymotion credentials',
          'Config',
        );
      }
      // The definition's rule (DM_ACCOUNT, else a fingerprint of DM_CLIENT_API): the account runs are tagged with.
      return accountOf(dailymotionReportPipeline, deps.config)!;
    },

    /**
     * Asks a report, once per window run and ask number. The API has no idempotency key and no way to list
     * reports, so the ask is recorded in the bucket: a claim before the call, the token right after. A
     * retried attempt that finds the token reuses it (no second report generating outside the semaphore's
     * count). A claim without a token means an earlier attempt died during the call: the report may be
     * generating, so the attempt waits (the window keeps holding its slot) until the claim is
     * UNKNOWN_ASK_HOLD_MS old, and only then asks again.
     */
    async askReport(input: AskInput): Promise<string> {
      const info = Context.current().info;
      const { workflowId, runId } = info.workflowExecution ?? { workflowId: 'no-workflow', runId: info.activityId };
      // Histories from before the ask number was passed: the activity ID is as stable across attempts.
      const key = askClaimKey(workflowId, runId, input.ask ?? `activity-${info.activityId}`);
      if (await deps.bucket.exists(key)) {
        const claim = JSON.parse((await deps.bucket.get(key)).toString('utf8')) as AskClaim;
        if (claim.token) return claim.token;
        const left = Date.parse(claim.askedAt) + holdMs - now();
        if (left > 0) {
          throw ApplicationFailure.create({
            message:
              `an earlier attempt of this ask died during the API call (its report may be generating): ` +
              `holding the slot ${Math.ceil(left / 60_000)} more minute(s) before asking again`,
            type: 'Dailymotion_ask_unknown',
            nextRetryDelay: left,
          });
        }
      }
      const claim: AskClaim = { askedAt: new Date(now()).toISOString() };
      await deps.bucket.put(key, JSON.stringify(claim), { contentType: 'application/json' });
      let token: string;
      try {
        token = await dm().askReport({
          metrics: input.metrics,
          dimensions: input.dimensions,
          product: input.product,
          filters: input.filters,
          startDate: input.window.start,
          endDate: input.window.end,
        } as AskReportInput);
      } catch (err) {
        // The API refused the ask (an HTTP error answer) or it was never sent: no report exists, the claim
        // goes and a retry asks at once. No answer (status 0, a cut connection) keeps it: outcome unknown.
        const refused = err instanceof DailymotionApiError ? (err.status ?? 0) >= 400 : err instanceof ConfigError;
        if (refused) await deps.bucket.delete(key).catch(() => undefined);
        throw toFailure(err);
      }
      await deps.bucket.put(key, JSON.stringify({ ...claim, token }), { contentType: 'application/json' });
      chaosPoint('dailymotion.ask.after-call');
      return token;
    },

    async reportStatus(reportToken: string): Promise<string> {
      return guard(async () => (await dm().getReport(reportToken)).status);
    },

    /** Downloads a finished report's files, landing each as received, and loads them (see loadWindow). */
    async loadReport(input: LoadInput): Promise<LoadResult> {
      return loadWindow(input, async (config, landedOne) => {
        const report = await dm().getReport(input.reportToken);
        if (report.status !== 'FINISHED') {
          throw new ReportLinkGoneError(
            `report is ${report.status}, not FINISHED: its files can no longer be read`,
            200,
          );
        }
        const prefix = landedReportPrefix(input.table, input.window, config, input.reportToken);
        const meta: LandedReport = { ...reportConfigOf(input), window: input.window, table: input.table, config };
        return {
          parts: report.links.length,
          land: async (i) => {
            const key = await landPart(deps.bucket, prefix, i, 'csv', () => dm().downloadCsv(report.links[i]!));
            landedOne();
            return key;
          },
          landed: async (keys) => {
            await landManifest(deps.bucket, prefix, keys, meta);
            chaosPoint('dailymotion.load.after-landing');
          },
          loaded: async () => {
            // Retention: this landing and the newest LANDED_KEEP - 1 others of the window stay.
            const windowPrefix = `${landedReportsPrefix(input.table, input.window)}/${config}`;
            await pruneLandings(deps.bucket, windowPrefix, prefix, deps.config.LANDED_KEEP ?? 2).catch((err: unknown) =>
              logger.warn({ err: String(err), prefix }, 'could not delete older landings'),
            );
          },
        };
      });
    },

    /**
     * Loads a window again from the files an earlier load landed (the latest complete landing of this report
     * configuration and window), without asking the API: `--from-landed`, e.g. after a schema change or a
     * warehouse incident, or once the report's links have expired.
     */
    async loadLandedReport(input: LoadLandedInput): Promise<LoadResult> {
      return loadWindow(input, async (config, landedOne) => {
        const manifest = await latestLanding(deps.bucket, input.table, input.window, config);
        if (!manifest)
          throw ApplicationFailure.nonRetryable(
            `no landed report for ${input.window.start}..${input.window.end} of this report configuration in table ` +
              `${input.table} (under ${landedReportsPrefix(input.table, input.window)}/${config}/): ` +
              'run without --from-landed to ask the API (landed files are kept LANDED_RETENTION_DAYS days)',
            'NotLanded',
          );
        return {
          parts: manifest.parts.length,
          land: async (i) => {
            const key = await landedPartKey(deps.bucket, manifest, i);
            landedOne();
            return key;
          },
        };
      });
    },
  };
  return activities;

  /**
   * A window's load: the table checked against the report's columns, then the files `source` gives (each
   * landed before it is read) loaded by the warehouse's own reader where it has one, with the window's write
   * disposition, in one transaction; `rowsLoaded` checked against the good rows. Heartbeats on a timer.
   */
  function loadWindow(
    input: LoadLandedInput,
    source: (
      config: string,
      landedOne: () => void,
    ) => Promise<Omit<LandedCsv, 'fileColumns' | 'constants' | 'maxBadRows'> & { loaded?: () => Promise<void> }>,
  ): Promise<LoadResult> {
    const ctx = Context.current();
    const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
    // Heartbeat on a timer, not only per batch: while queued behind another load, while the warehouse
    // commits or a BigQuery job runs, the attempt stays alive — and learns when it was cancelled or
    // timed out (ctx.cancellationSignal), so it never commits after a retry did.
    const progress = () => ({ rowsParsed: stats.rowsParsed, files: stats.files });
    return heartbeating(
      () =>
        guard(async () => {
          const config = reportConfig(input);
          const files = await source(config, () => {
            stats.files++;
            ctx.heartbeat(progress());
          });
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
          const maxBadRows = input.maxBadRows ?? 0;
          // Without a DAY, HOUR or MINUTE dimension, the rows carry their window (the report's own key).
          const window = windowKey(input.window.start, input.window.end);
          const range = windowRange(input.dimensions, input.window.start, input.window.end) ?? {
            from: window,
            to: window,
          };
          const constants: Record<string, string> = { [REPORT_CONFIG_COLUMN]: config };
          if (schema.columns.some((c) => c.name === REPORT_WINDOW_COLUMN)) constants[REPORT_WINDOW_COLUMN] = window;
          // The table's declared disposition (replace this configuration's rows of the window), or append when
          // the run asks for it (writeMode append).
          const mode: WriteMode =
            input.writeMode === 'replace'
              ? replaceRangeOf(schema, range.from, range.to, { [REPORT_CONFIG_COLUMN]: config })
              : { kind: 'append' };
          // Each file lands (or is found landed) and is read from its landed copy with the warehouse's own
          // reader while the next one lands; the landing's manifest is written once all have landed.
          const loaded = await loadLandedCsv(
            deps,
            schema,
            { ...files, fileColumns: csvSchema.columns, constants, maxBadRows },
            mode,
            { signal: ctx.cancellationSignal, onBatch: (n) => ((stats.rowsParsed = n), ctx.heartbeat(progress())) },
          );
          Object.assign(stats, {
            files: loaded.files,
            rowsParsed: loaded.rowsParsed,
            badRows: loaded.badRows,
            badRowSamples: loaded.badRowSamples,
          });
          const { rowsLoaded } = loaded;
          chaosPoint('dailymotion.load.after-commit');
          const good = stats.rowsParsed - stats.badRows;
          if (rowsLoaded !== good)
            throw new Error(`row count mismatch: ${good} good rows parsed, ${rowsLoaded} loaded`);
          await files.loaded?.();
          return { ...stats, rowsLoaded, maxBadRows, reader: loaded.reader };
        }),
      {
        details: progress,
        everyMs: opts.heartbeatMs ?? LOAD_HEARTBEAT_MS,
      },
    );
  }
}

export type DailymotionActivities = ReturnType<typeof createDailymotionActivities>;
