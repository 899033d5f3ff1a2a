/**
 * A declarative async-report source: the typed description of an API that makes reports in the background —
 * create a report, poll its status until it is ready, download its files, load them into a declared table. An
 * API folder writes one `defineAsyncReport({...})`; the kit runs it (workflow.ts: the durable part, waits of
 * hours, retries, limits; activities.ts: the HTTP calls and the load). Workflow-safe: types and pure code only.
 */
import type { z } from 'zod';
import type { TableSchema } from '../../sinks/warehouse';

/** What a report status means to the kit; the API's own words map onto these. */
export type ReportState = 'pending' | 'ready' | 'failed' | 'expired';

export interface AsyncReportSpec {
  /**
   * The API's name, lower case: prefixes the activity names (`<name>CreateReport`…), names the limits'
   * entity workflows and the env variables' error messages.
   */
  name: string;
  /** The API as people call it ("Acme Ads"): Web UI summaries. */
  label: string;
  /** The pipeline: its `longhaul run` name, its workflow type (the export name in workflows/index.ts), one line. */
  pipeline: { name: string; workflowType: string; description: string };
  /**
   * The API's own report options (metrics, filters…) as a zod object: flags of `longhaul run`, validated with
   * the range, handed to `create.body`.
   */
  options?: { schema: z.ZodObject; listFlags?: string[]; example: Record<string, unknown> };
  /** The environment variables the activities read (an API folder's own, parsed by the kit). */
  env: {
    /** The API's base URL, and its default (the sandbox's, so a demo needs nothing). */
    baseUrl: { name: string; default: string };
    /** The bearer token; its fingerprint identifies the account (limits are per account). */
    token: { name: string };
  };
  /** Creating a report: `POST <path>` with the JSON body built from the window and the run's options. */
  create: {
    path: string;
    body(window: { from: string; to: string }, options: Record<string, unknown>): Record<string, unknown>;
    /** Where the new report's id is in the answer (a JSON path: `report.id`). */
    idPath: string;
    /**
     * The header the API dedupes creations by (same value → the same report, no second one): the kit sends
     * one per window and generation, so a create retried after a lost answer never makes a second report.
     */
    idempotencyHeader?: string;
  };
  /** Reading a report's status: `GET <path>` with `{id}` replaced by the report's id. */
  status: {
    path: string;
    /** The JSON path of the API's status word, and what each word means (an unknown word is an error). */
    statePath: string;
    states: Record<string, ReportState>;
    /** The JSON path of the download links once ready (`report.files[*].url`). */
    linksPath: string;
    /** The JSON path of the API's reason when a report failed. */
    errorPath?: string;
  };
  /** The files: CSV with a header line, or NDJSON; gzip is recognised by its magic bytes. */
  download: { format: 'csv' | 'ndjson' };
  /** Polling: the first wait, then `factor` times longer up to `maxMs`; give up on a report after `giveUpMs`. */
  poll: { firstMs: number; maxMs: number; factor: number; giveUpMs: number };
  /** How many times a failed or expired report is asked again before the window fails (default 2). */
  recreate?: number;
  /** Where the rows go: the declared table (columns, key, write disposition); file fields map by name. */
  table: TableSchema;
  limits: {
    /** Reports generating at once per account, across every run and worker (a kit semaphore). */
    concurrentReports: number;
    /** API calls per minute and per UTC day per account (a kit rate window: create and status calls). */
    perMinute: number;
    perDay: number;
  };
}

/** The failure a load throws when the report's files are gone: the workflow asks for a new report. */
export const REPORT_EXPIRED = 'ReportExpired';

/** Declares a source (a typed identity, so the spec is checked where it is written). */
export const defineAsyncReport = <S extends AsyncReportSpec>(spec: S): S => spec;

/**
 * The values at a JSON path: `a.b` (one value), `a.files[*].url` (one per element), `a.files[0].url`.
 * Missing parts give an empty list. Pure.
 */
export function jsonPath(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)(?:\[(\*|\d+)\])?$/.exec(part);
    if (!m) throw new Error(`bad JSON path ${path}: ${part}`);
    const [, key, index] = m;
    current = current.flatMap((v) => {
      const child =
        key === '' ? v : v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
      if (index === undefined) return child === undefined ? [] : [child];
      if (!Array.isArray(child)) return [];
      return index === '*' ? child : child[Number(index)] === undefined ? [] : [child[Number(index)]];
    });
  }
  return current;
}

/** The one value at a JSON path, as a string; undefined when absent. Pure. */
export function jsonString(value: unknown, path: string): string | undefined {
  const [v] = jsonPath(value, path);
  return v === undefined || v === null ? undefined : String(v);
}

/** The wait before poll number `n` (0-based): first × factor^n, at most max. Pure. */
export function pollDelay(poll: AsyncReportSpec['poll'], n: number): number {
  return Math.min(poll.maxMs, Math.round(poll.firstMs * Math.pow(poll.factor, n)));
}

/** The activity names of a source (prefixed by its name: activity names are global to a worker). */
export function activityNames(name: string) {
  return {
    account: `${name}Account`,
    create: `${name}CreateReport`,
    status: `${name}ReportStatus`,
    load: `${name}LoadReport`,
    loadLanded: `${name}LoadLandedReport`,
  } as const;
}
