/** Dailymotion test helpers: an in-process sandbox on a free port, and the exact rows it reports for an ask. */
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
  type DailymotionSandboxOptions,
} from '../../src/sandbox/dailymotion';
import type { Warehouse } from '../../src/sinks/warehouse';
import { planReport, reportRows } from '../../src/sandbox/dailymotion/rows';
import type { AskReportInput } from '../../src/connectors/dailymotion/enums';

export async function startDailymotionSandbox(opts: DailymotionSandboxOptions = {}) {
  const sandbox = new DailymotionSandbox(opts);
  const url = await sandbox.start(0);
  const env = { DM_BASE_URL: url, DM_CLIENT_API: DM_SANDBOX_CLIENT_ID, DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET };
  return { sandbox, url, env };
}

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
