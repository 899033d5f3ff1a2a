/** Dailymotion test helpers: an in-process sandbox on a free port, and the exact rows it reports for an ask. */
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
  type DailymotionSandboxOptions,
} from '../../src/pipelines/dailymotion/sandbox';
import { afterEach } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import { DailymotionClient, type DailymotionClientOptions } from '../../src/pipelines/dailymotion/connector/client';
import type { Warehouse } from '../../src/sinks/warehouse';
import { planReport, reportRows } from '../../src/pipelines/dailymotion/sandbox/rows';
import type { AskReportInput } from '../../src/pipelines/dailymotion/connector/enums';

export async function startDailymotionSandbox(opts: DailymotionSandboxOptions = {}) {
  const sandbox = new DailymotionSandbox(opts);
  const url = await sandbox.start(0);
  const env = { DM_BASE_URL: url, DM_CLIENT_API: DM_SANDBOX_CLIENT_ID, DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET };
  return { sandbox, url, env };
}

/** Runs dailymotion-report on `input` as `workflowId` on `taskQueue` (a worker polls it); its result. */
export const runReport = (
  env: TestWorkflowEnvironment,
  taskQueue: string,
  workflowId: string,
  input: DailymotionReportInput,
): Promise<DailymotionReportResult> =>
  env.client.workflow.execute('dailymotionReport', { taskQueue, workflowId, args: [input] });

/** A client of the sandbox at `url` with its client-credentials pair (any option overridable). */
export function sandboxClient(url: string, opts: Partial<DailymotionClientOptions> = {}): DailymotionClient {
  return new DailymotionClient({
    baseUrl: url,
    credentials: { kind: 'client_credentials', clientId: DM_SANDBOX_CLIENT_ID, clientSecret: DM_SANDBOX_CLIENT_SECRET },
    scope: 'create_reports read_reports',
    ...opts,
  });
}

/**
 * For a test file: `start(opts)` starts a fresh sandbox (seeded by `seed` unless opts say otherwise) and
 * returns it with a client; every sandbox started is stopped after each test.
 */
export function dailymotionSandboxPerTest(seed: number, scope?: string) {
  let current: DailymotionSandbox | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return async (sandboxOpts: DailymotionSandboxOptions = {}, clientOpts: Partial<DailymotionClientOptions> = {}) => {
    const s = (current = new DailymotionSandbox({ seed, ...sandboxOpts }));
    const url = await s.start();
    return { s, url, client: sandboxClient(url, { ...(scope ? { scope } : {}), ...clientOpts }) };
  };
}

/** Nine valid dimensions: one more than an ask may have. */
export const NINE_DIMENSIONS = [
  'DAY',
  'VIDEO_ID',
  'VIDEO_TITLE',
  'VISITOR_COUNTRY',
  'VISITOR_DEVICE_TYPE',
  'PLAYER_ID',
  'PLAYLIST_ID',
  'MEDIA_TYPE',
  'VISITOR_DOMAIN_GROUP',
] as const;

/** The rows the sandbox serves for this ask, as `col=value|…` lines (sorted), straight from its generator. */
export function expectedRowKeys(sandbox: DailymotionSandbox, input: AskReportInput): string[] {
  const plan = planReport(sandbox.catalog, sandbox.seed, input);
  const header = plan.header.map((h) => h.toLowerCase());
  return [...reportRows(plan)].map((r) => header.map((h, i) => `${h}=${r[i]}`).join('|')).sort();
}

/** The same `col=value|…` lines read back from the warehouse table (columns as text, in CSV column order). */
export async function warehouseRowKeys(warehouse: Warehouse, table: string, columns: string[]): Promise<string[]> {
  const rows = await warehouse.query<Record<string, string | null>>(
    `SELECT ${columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ')} FROM "${table}"`,
  );
  return rows.map((r) => columns.map((c) => `${c}=${r[c] ?? ''}`).join('|')).sort();
}
