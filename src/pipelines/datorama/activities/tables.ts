/**
 * The Datorama pipelines' warehouse tables and the durable action record. `datorama_actions` holds one
 * row per action of a run key (workflow ID): PENDING_SUBMIT is written before a call that changes
 * something, SUBMITTED / FAILED / NOT_SUBMITTED after — so a retried activity or a rerun of the same
 * workflow ID knows what was submitted, and checks an unanswered call before submitting it again. An
 * earlier run's record stops counting once another run key acted on the same stream after it (`actions`).
 * `datorama_job_log` has one row per action per call (stream, job, range, status, HTTP code, time), and a
 * single SUBMITTED row per action and job in a run, however often that outcome is recorded.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Bucket } from '../../../sinks/bucket';
import { columns, fromArray, type Row, type TableSchema, type Warehouse } from '../../../sinks/warehouse';

export const ACTIONS_TABLE: TableSchema = {
  name: 'datorama_actions',
  columns: columns({
    run_key: 'STRING!',
    action_key: 'STRING!',
    op: 'STRING!',
    stream_id: 'INT64',
    state: 'STRING!',
    attempt_at: 'INT64',
    run_id: 'STRING',
    http_status: 'INT64',
    message: 'STRING',
    updated_at: 'TIMESTAMP!',
  }),
  primaryKey: ['run_key', 'action_key'],
  write: { kind: 'merge' },
};

export const JOB_LOG_TABLE: TableSchema = {
  name: 'datorama_job_log',
  columns: columns({
    run_key: 'STRING!',
    run_id: 'STRING!',
    row_key: 'STRING!',
    op: 'STRING!',
    action_key: 'STRING!',
    stream_id: 'INT64',
    job_id: 'INT64',
    start_date: 'STRING',
    end_date: 'STRING',
    status: 'STRING!',
    http_status: 'INT64',
    message: 'STRING',
    at: 'TIMESTAMP!',
  }),
  primaryKey: ['run_id', 'row_key'],
  write: { kind: 'merge' },
};

/** Which runs named which cumulative job log (`--jobLog`): the file holds their rows. */
export const JOB_LOG_FILES_TABLE: TableSchema = {
  name: 'datorama_job_log_files',
  columns: columns({
    file: 'STRING!',
    run_id: 'STRING!',
    run_key: 'STRING!',
  }),
  primaryKey: ['file', 'run_id'],
  write: { kind: 'merge' },
};

/** Previous and new values of every field a rename/patch run changed (what `--undo` restores). */
export const CHANGES_TABLE: TableSchema = {
  name: 'datorama_changes',
  columns: columns({
    run_id: 'STRING!',
    run_key: 'STRING!',
    stream_id: 'INT64!',
    previous: 'JSON!',
    applied: 'JSON!',
    at: 'TIMESTAMP!',
  }),
  primaryKey: ['run_id', 'stream_id'],
  write: { kind: 'merge' },
};

export const WORKSPACES_TABLE: TableSchema = {
  name: 'datorama_workspaces',
  columns: columns({
    id: 'INT64!',
    name: 'STRING',
    create_time: 'TIMESTAMP',
    update_time: 'TIMESTAMP',
    raw: 'JSON',
    collected_at: 'TIMESTAMP!',
  }),
  primaryKey: ['id'],
  write: { kind: 'merge' },
};

export const STREAMS_TABLE: TableSchema = {
  name: 'datorama_streams',
  columns: columns({
    id: 'INT64!',
    workspace_id: 'INT64!',
    name: 'STRING',
    data_source_name: 'STRING',
    enabled: 'BOOL',
    last_run_status: 'STRING',
    last_data_date: 'STRING',
    last_rows_processed: 'INT64',
    process_stats_counts: 'JSON',
    raw: 'JSON',
    collected_at: 'TIMESTAMP!',
  }),
  primaryKey: ['id'],
  write: { kind: 'merge' },
};

/**
 * Each stream's whole configuration as `GET /data-streams/{id}` serves it (`datorama-collect --configs`): the
 * data-source settings and the mapping (the library's `Stream.config`, which holds its `get_mapping()` too),
 * kept whole in `raw`; a few columns pulled out for filtering.
 */
export const STREAM_CONFIGS_TABLE: TableSchema = {
  name: 'datorama_stream_configs',
  columns: columns({
    id: 'INT64!',
    workspace_id: 'INT64',
    name: 'STRING',
    data_source_name: 'STRING',
    enabled: 'BOOL',
    raw: 'JSON',
    collected_at: 'TIMESTAMP!',
  }),
  primaryKey: ['id'],
  write: { kind: 'merge' },
};

export const JOBS_TABLE: TableSchema = {
  name: 'datorama_jobs',
  columns: columns({
    id: 'INT64!',
    stream_id: 'INT64!',
    status: 'STRING',
    data_start_date: 'STRING',
    data_end_date: 'STRING',
    create_time: 'TIMESTAMP',
    update_time: 'TIMESTAMP',
    rows_processed: 'INT64',
    process_log: 'STRING',
    raw: 'JSON',
    collected_at: 'TIMESTAMP!',
  }),
  primaryKey: ['id'],
  write: { kind: 'merge' },
};

/**
 * A workspace's model objects (dimensions, patterns, harmonized dimensions, calculated measurements), one table
 * per kind: the item's id (or, without one, its name) keys it within its workspace; the whole item is in `raw`.
 */
const modelTable = (name: string): TableSchema => ({
  name,
  columns: columns({
    workspace_id: 'INT64!',
    key: 'STRING!',
    id: 'INT64',
    name: 'STRING',
    raw: 'JSON',
    collected_at: 'TIMESTAMP!',
  }),
  primaryKey: ['workspace_id', 'key'],
  write: { kind: 'merge' },
});

export const MODEL_TABLES = {
  dimensions: modelTable('datorama_dimensions'),
  patterns: modelTable('datorama_patterns'),
  harmonized: modelTable('datorama_harmonized_dimensions'),
  calculated: modelTable('datorama_calculated_measurements'),
} as const;

export type ActionState = 'PENDING_SUBMIT' | 'SUBMITTED' | 'FAILED' | 'NOT_SUBMITTED';

export interface ActionRow {
  action_key: string;
  state: ActionState;
  attempt_at: number | null;
  http_status: number | null;
  message: string | null;
  run_id: string | null;
}

export const isoTime = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export class DatoramaRecords {
  constructor(private readonly warehouse: Warehouse) {}

  /**
   * The action records of a run key as run `runId` sees them. A record another run (of this run key) made is
   * dropped once it is superseded — some other run key recorded an action on the same stream after it (e.g.
   * patch enabled:false, then a patch enabled:true, then the first patch again): the repeat is a new
   * operation and applies. This run's own records always count (a retry or continue-as-new never
   * applies an action twice), and so do an earlier run's that nothing else followed (a rerun skips them).
   */
  async actions(runKey: string, runId: string, keys?: string[]): Promise<Map<string, ActionRow>> {
    await this.warehouse.ensureTable(ACTIONS_TABLE);
    type Found = ActionRow & { stream_id: number | null; updated_at: string };
    const columns = [
      'action_key',
      'state',
      'attempt_at',
      'http_status',
      'message',
      'run_id',
      'stream_id',
      'updated_at',
    ];
    // A call's own keys only (a few), not the whole run's records: each call reads what it needs, not O(run).
    const rows: Found[] = [];
    if (!keys)
      rows.push(...(await this.warehouse.select<Found>(ACTIONS_TABLE, { columns, where: { run_key: runKey } })));
    else
      for (let i = 0; i < keys.length; i += 500)
        rows.push(
          ...(await this.warehouse.select<Found>(ACTIONS_TABLE, {
            columns,
            where: { run_key: runKey, action_key: { in: keys.slice(i, i + 500) } },
          })),
        );
    // The latest record another run key made on each of these streams: a record older than it is superseded.
    const streams = [...new Set(rows.map((r) => r.stream_id).filter((s): s is number => s !== null))];
    const latestOther = new Map<number, string>();
    for (let i = 0; i < streams.length; i += 500) {
      const found = await this.warehouse.select<{ stream_id: number; last: string }>(ACTIONS_TABLE, {
        groupBy: ['stream_id'],
        aggregates: { last: { max: 'updated_at' } },
        where: { stream_id: { in: streams.slice(i, i + 500) }, run_key: { ne: runKey } },
      });
      for (const f of found) latestOther.set(Number(f.stream_id), f.last);
    }
    const superseded = (r: (typeof rows)[number]) => {
      const other = r.stream_id === null ? undefined : latestOther.get(Number(r.stream_id));
      return other !== undefined && Date.parse(other) > Date.parse(r.updated_at);
    };
    return new Map(
      rows
        .filter((r) => r.run_id === runId || !superseded(r))
        .map(({ stream_id: _s, updated_at: _u, ...r }) => r)
        .map((r) => [r.action_key, { ...r, attempt_at: r.attempt_at == null ? null : Number(r.attempt_at) }]),
    );
  }

  async setActions(
    runKey: string,
    runId: string,
    op: string,
    rows: { key: string; stream?: number; state: ActionState; attemptAt?: number; http?: number; message?: string }[],
  ): Promise<void> {
    if (!rows.length) return;
    const now = new Date().toISOString();
    await this.warehouse.load(
      ACTIONS_TABLE,
      fromArray(
        rows.map((r): Row => ({
          run_key: runKey,
          action_key: r.key,
          op,
          stream_id: r.stream,
          state: r.state,
          attempt_at: r.attemptAt,
          run_id: runId,
          http_status: r.http,
          message: r.message,
          updated_at: now,
        })),
      ),
    );
  }

  async log(rows: Row[]): Promise<void> {
    if (rows.length) await this.warehouse.load(JOB_LOG_TABLE, fromArray(rows));
  }
}

const CSV_COLUMNS = ['op', 'stream_id', 'job_id', 'start_date', 'end_date', 'status', 'http_status', 'message', 'at'];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = v instanceof Date ? v.toISOString() : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV file's text: the header, then the given columns of each row. */
function csvText(columns: string[], rows: Record<string, unknown>[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

/**
 * Writes a run's job log to the bucket as CSV (one row per action per call, in call order). With `jobLog`,
 * also the cumulative log of that key: the rows of every run that named it (recorded in
 * `datorama_job_log_files`), in time order, with `run_key` and `run_id` first. It is written whole from the
 * warehouse each time, so a retried or concurrent write never doubles or drops a run's rows. An object at
 * that key that is not such a log (another header) is left alone: the run fails to write it, naming the key.
 */
export async function writeJobLogCsv(
  warehouse: Warehouse,
  bucket: Bucket,
  args: { runKey: string; runId: string; jobLog?: string },
): Promise<{
  key: string;
  uri: string;
  rows: number;
  cumulative?: { csv: string; rows: number; runs: number };
}> {
  await warehouse.ensureTable(JOB_LOG_TABLE);
  // `at` comes back as ISO 8601 UTC with milliseconds (the warehouse-neutral shape).
  const rows = await warehouse.select<Record<string, unknown>>(JOB_LOG_TABLE, {
    columns: CSV_COLUMNS,
    where: { run_id: args.runId },
    orderBy: ['at', 'row_key'],
  });
  const key = `datorama/job-logs/${args.runKey}/${args.runId}.csv`;
  await bucket.put(key, csvText(CSV_COLUMNS, rows), { contentType: 'text/csv' });
  const own = { key, uri: bucket.uri(key), rows: rows.length };
  if (!args.jobLog) return own;
  return { ...own, cumulative: await writeCumulativeLog(warehouse, bucket, { ...args, jobLog: args.jobLog }) };
}

const CUMULATIVE_COLUMNS = ['run_key', 'run_id', ...CSV_COLUMNS];
const CUMULATIVE_HEADER = CUMULATIVE_COLUMNS.join(',');

/**
 * `--jobLog`'s key is free or holds a longhaul Datorama job log (else a non-retryable InvalidInput naming
 * it: the object is never overwritten). Runs check it before their first call, and again when they write.
 */
export async function checkJobLog(bucket: Bucket, jobLog: string, note = 'nothing was done'): Promise<void> {
  if (!(await bucket.exists(jobLog))) return;
  const text = (await bucket.get(jobLog)).toString('utf8');
  const nl = text.indexOf('\n');
  const first = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  if (first !== CUMULATIVE_HEADER)
    throw ApplicationFailure.nonRetryable(
      `--jobLog ${jobLog}: the object there is not a longhaul Datorama job log (its first line is ` +
        `${JSON.stringify(first.slice(0, 120))}, not ${JSON.stringify(CUMULATIVE_HEADER)}); it is left as it is — ` +
        `name another key (${note})`,
      'InvalidInput',
    );
}

async function writeCumulativeLog(
  warehouse: Warehouse,
  bucket: Bucket,
  args: { runKey: string; runId: string; jobLog: string },
): Promise<{ csv: string; rows: number; runs: number }> {
  await checkJobLog(bucket, args.jobLog, `this run's own log is at datorama/job-logs/${args.runKey}/${args.runId}.csv`);
  await warehouse.ensureTable(JOB_LOG_FILES_TABLE);
  await warehouse.load(
    JOB_LOG_FILES_TABLE,
    fromArray([{ file: args.jobLog, run_id: args.runId, run_key: args.runKey }]),
  );
  const runs = await warehouse.select<{ run_id: string }>(JOB_LOG_FILES_TABLE, {
    columns: ['run_id'],
    where: { file: args.jobLog },
  });
  const rows = await warehouse.select<Record<string, unknown>>(JOB_LOG_TABLE, {
    columns: CUMULATIVE_COLUMNS,
    where: { run_id: { in: runs.map((r) => r.run_id) } },
    orderBy: ['at', 'run_id', 'row_key'],
  });
  await bucket.put(args.jobLog, csvText(CUMULATIVE_COLUMNS, rows), { contentType: 'text/csv' });
  return { csv: bucket.uri(args.jobLog), rows: rows.length, runs: runs.length };
}
