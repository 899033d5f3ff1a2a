/**
 * `datorama-collect`'s calls, table-driven: each kind of call (the workspace list, a workspace's streams,
 * one page of a stream's jobs, a workspace's dimensions, patterns, harmonized dimensions or calculated
 * measurements) names its API call, its warehouse table (merged on its key) and how an item becomes a row and
 * what the workflow learns from the answer. Adding a metadata table is one entry here.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { DatoramaError } from '../connector/errors';
import type { DatoramaResponse } from '../connector/client';
import type { DatoramaJob, DatoramaStream, DatoramaWorkspace } from '../connector/schemas';
import { actionKey } from '../keys';
import type { ObservedLimits } from '../shared';
import { fromArray, type Row, type TableSchema } from '../../../sinks/warehouse';
import { isoTime, JOBS_TABLE, MODEL_TABLES, STREAM_CONFIGS_TABLE, STREAMS_TABLE, WORKSPACES_TABLE } from './tables';
import type { WorkspaceModel } from '../definition';
import { observedOf, type CallContext, type CallKit } from './call-kit';

export type CollectArgs =
  | { what: 'workspaces' }
  | { what: 'streams'; workspaceId: number }
  | { what: 'jobs'; streamId: number; page: number; pageSize: number }
  | { what: 'config'; streamId: number }
  | { what: WorkspaceModel; workspaceId: number };

/** What one collect call tells the workflow (besides the rows it merged). */
export interface CollectLearned {
  workspaces?: number[];
  streams?: { id: number; workspaceId: number; jobs: number }[];
  lastPage?: boolean;
}

export interface CollectResult extends CollectLearned {
  rows: number;
  httpStatus: number;
  observed?: ObservedLimits;
}

type Client = CallKit['client'];

interface CollectTable<A extends CollectArgs, T> {
  table: TableSchema;
  fetch(client: Client, args: A): Promise<DatoramaResponse<T[]>>;
  /** The row of one item (its `raw` JSON and `collected_at` are added to every row). */
  row(item: T, args: A): Row;
  /** The job log's action key of this call. */
  logKey(args: A): string;
  learned(items: T[], args: A): CollectLearned;
}

type Tables = { [W in CollectArgs['what']]: CollectTable<Extract<CollectArgs, { what: W }>, never> };

const table = <A extends CollectArgs, T>(t: CollectTable<A, T>) => t as unknown as CollectTable<A, never>;

/** A workspace's model objects of one kind (loose objects: what the platform serves, kept whole in `raw`). */
const modelTable = (
  what: WorkspaceModel,
  fetch: (client: Client, workspaceId: number) => Promise<DatoramaResponse<Record<string, unknown>[]>>,
) =>
  table<{ what: WorkspaceModel; workspaceId: number }, Record<string, unknown>>({
    table: MODEL_TABLES[what],
    fetch: (client, a) => fetch(client, a.workspaceId),
    row: (item, a) => ({
      workspace_id: a.workspaceId,
      key: String(item.id ?? item.name ?? JSON.stringify(item)),
      id: typeof item.id === 'number' ? item.id : null,
      name: typeof item.name === 'string' ? item.name : null,
    }),
    logKey: (a) => actionKey.collectModel(what, a.workspaceId),
    learned: () => ({}),
  });

/** The columns a stream's listing row and its configuration row share. */
const streamColumns = (s: DatoramaStream): Row => ({
  id: s.id,
  workspace_id: s.workspaceId,
  name: s.name,
  data_source_name: s.dataSourceName,
  enabled: s.enabled,
});

export const COLLECT_TABLES: Tables = {
  dimensions: modelTable('dimensions', (c, ws) => c.dimensions(ws)),
  patterns: modelTable('patterns', (c, ws) => c.patterns(ws)),
  harmonized: modelTable('harmonized', (c, ws) => c.harmonizedDimensions(ws)),
  calculated: modelTable('calculated', (c, ws) => c.calculatedMeasurements(ws)),
  workspaces: table<{ what: 'workspaces' }, DatoramaWorkspace>({
    table: WORKSPACES_TABLE,
    fetch: (client) => client.listWorkspaces(),
    row: (w) => ({ id: w.id, name: w.name, create_time: isoTime(w.createTime), update_time: isoTime(w.updateTime) }),
    logKey: () => actionKey.collectWorkspaces(),
    learned: (ws) => ({ workspaces: ws.map((w) => w.id) }),
  }),
  streams: table<{ what: 'streams'; workspaceId: number }, DatoramaStream>({
    table: STREAMS_TABLE,
    fetch: (client, a) => client.listStreams(a.workspaceId),
    row: (s) => ({
      ...streamColumns(s),
      last_run_status: s.lastRunStatus,
      last_data_date: s.lastDataDate,
      last_rows_processed: s.lastRowsProcessed,
      process_stats_counts: JSON.stringify(s.processStatsCounts ?? null),
    }),
    logKey: (a) => actionKey.collectStreams(a.workspaceId),
    learned: (streams) => ({
      streams: streams.map((s) => ({
        id: s.id,
        workspaceId: s.workspaceId,
        jobs: Object.values(s.processStatsCounts ?? {}).reduce((a, b) => a + b, 0),
      })),
    }),
  }),
  config: table<{ what: 'config'; streamId: number }, DatoramaStream>({
    table: STREAM_CONFIGS_TABLE,
    fetch: async (client, a) => {
      const res = await client.getStream(a.streamId);
      return { ...res, data: [res.data] };
    },
    row: streamColumns,
    logKey: (a) => actionKey.collectConfig(a.streamId),
    learned: () => ({}),
  }),
  jobs: table<{ what: 'jobs'; streamId: number; page: number; pageSize: number }, DatoramaJob>({
    table: JOBS_TABLE,
    fetch: (client, a) => client.streamStats(a.streamId, a.page, a.pageSize),
    row: (j, a) => ({
      id: j.id,
      stream_id: j.dataStreamId ?? a.streamId,
      status: j.status,
      data_start_date: j.dataStartDate,
      data_end_date: j.dataEndDate,
      create_time: isoTime(j.createTime),
      update_time: isoTime(j.updateTime),
      rows_processed: j.rowsProcessed,
      process_log: j.processLog,
    }),
    logKey: (a) => actionKey.collectPage(a.streamId, a.page),
    learned: (jobs, a) => ({ lastPage: jobs.length < a.pageSize }),
  }),
};

export function createDatoramaCollectActivities({ client, records, warehouse, logRows, commonFailure }: CallKit) {
  return {
    /**
     * One collect call: the workspace list, the streams of a workspace, or one page of a stream's jobs.
     * Rows are merged on id into the warehouse; the result says what the next calls are.
     */
    async datoramaCollectCall(args: CallContext & CollectArgs): Promise<CollectResult> {
      const spec = COLLECT_TABLES[args.what] as CollectTable<CollectArgs, unknown>;
      const now = new Date().toISOString();
      try {
        const res = await spec.fetch(client, args);
        await warehouse.load(
          spec.table,
          fromArray(
            res.data.map((item) => ({ ...spec.row(item, args), raw: JSON.stringify(item), collected_at: now })),
          ),
        );
        await records.log(
          logRows(args, [
            {
              action_key: spec.logKey(args),
              stream_id: args.what === 'jobs' ? args.streamId : undefined,
              status: 'COLLECTED',
              http_status: res.status,
              message: `${res.data.length} ${args.what}`,
            },
          ]),
        );
        return {
          rows: res.data.length,
          ...spec.learned(res.data, args),
          httpStatus: res.status,
          observed: observedOf(res.limits),
        };
      } catch (err) {
        await commonFailure(err, args);
        if (err instanceof DatoramaError && !err.ambiguous)
          throw ApplicationFailure.nonRetryable(err.message, 'DatoramaRefused');
        throw err;
      }
    },
  };
}
