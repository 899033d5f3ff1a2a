/**
 * BigQuery warehouse, with the semantics of the DuckDB one (src/sinks/duckdb.ts). A load:
 *  1. streams the batches as newline-delimited JSON into a typed staging table with ONE load job (free,
 *     no streaming-insert buffer, memory bounded by one batch): BigQuery converts the values, so a bad one
 *     fails the load before the target is touched; NOT NULL columns and JSON text are checked on the way;
 *  2. applies the write mode in ONE script job — append: INSERT…SELECT; replaceRange: (once a query found
 *     every staged row inside the range and its `where` values) DELETE of the rows it owns + INSERT in a
 *     transaction; merge: the staged rows deduped on the keys (last one wins), then MERGE
 *     (matched rows updated, new rows inserted);
 *  3. drops the staging table (it expires after a day should the process die first).
 * Small appends and merges (inlineMaxRows, 200 by default: the action records, job logs and claims a
 * pipeline writes around each API call) skip the staging table: one query job with the rows inline, typed by
 * CAST — append: INSERT … VALUES; merge: the rows deduped on the keys in memory (last one wins), then, in a
 * transaction, a SELECT that evaluates every value (a bad one fails the script before anything changes),
 * DELETE of the target rows of those keys and INSERT. One job instead of four: a second or two on BigQuery
 * instead of several, which is what a write inside a short API-call activity needs.
 * Query results take DuckDB's shape: DATE 'YYYY-MM-DD', TIMESTAMP ISO 8601 UTC (milliseconds), INT64 a
 * number (a string beyond 2^53), JSON its text. Parameters are named: `@name`.
 *
 * Shaped by the emulator the tests run on (goccy/bigquery-emulator 0.8): it accepts the transaction but
 * runs the statements one by one without rollback (harmless here: the INSERT after the DELETE reads rows
 * already typed and checked); MERGE needs a plain table as source (hence the dedupe inside the staging
 * table); query parameters reach every statement of a script (hence the range bounds inlined as escaped
 * literals); each table dropped costs it memory (hence no temp tables). Merge differs from DuckDB only
 * for a target already holding several rows of one key (an appended table): MERGE updates each of them,
 * DuckDB keeps one.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as BQ from '@google-cloud/bigquery';
import type { BigQuery, BigQueryOptions, Dataset, Query, Table } from '@google-cloud/bigquery';
import { lazily } from '../node/lazily';
import { logger } from '../node/logger';
import type { Dialect } from './read';
import { WarehouseBase } from './warehouse-base';
import { writeRows } from './export-rows';
import { readCsvHeader } from './csv-header';
import { CsvDialectError } from './file-rows';
import { checkSql, constantSql, csvReaderRefusal, NATIVE_CSV_TYPES, typedSql } from './bigquery-csv';
import {
  assertNotAborted,
  assertSchema,
  IncompatibleTableError,
  planEvolution,
  outsideRange,
  toCell,
  type ColumnType,
  type CsvLoad,
  type CsvLoadResult,
  type LoadOptions,
  type LoadResult,
  type TableColumn,
  type Row,
  type TableSchema,
  type ExportFormat,
  csvLoadMode,
  exportedColumns,
  type WriteMode,
  type ResolvedWriteMode,
} from './warehouse';

export interface BigQueryWarehouseOptions {
  projectId: string;
  datasetId: string;
  /** Where the dataset lives (and the jobs run), e.g. 'EU'. */
  location?: string;
  /** E.g. the emulator's http://127.0.0.1:9050. */
  apiEndpoint?: string;
  /**
   * Send a fixed token instead of Google credentials (the emulator accepts any). Defaults to true for a
   * plain-HTTP apiEndpoint (Google's own endpoints are all HTTPS).
   */
  anonymous?: boolean;
  /**
   * Appends and merges of at most this many rows (and INLINE_MAX_SQL_BYTES of SQL) are applied by one query
   * job with the rows inline, instead of a staging table + load job + query job + drop (default 200; 0:
   * always stage). See the file comment.
   */
  inlineMaxRows?: number;
}

/**
 * A cell of an inline load in one spelling per value, so that the in-memory dedupe of a merge compares typed
 * values (the same instant written with two offsets is one key) and the emulator's CAST, which mishandles
 * UTC offsets, gets UTC: TIMESTAMP → ISO 8601 UTC (when it has at most millisecond digits; finer ones are
 * left as written), INT64 → its decimal digits, FLOAT64 → the shortest number, BOOL → lowercase. Anything
 * that does not parse is left as written: BigQuery's CAST then refuses it.
 */
function inlineCell(cell: string, type: ColumnType): string {
  switch (type) {
    case 'TIMESTAMP': {
      const frac = /\.(\d+)/.exec(cell)?.[1] ?? '';
      const t = Date.parse(cell);
      return frac.length <= 3 && Number.isFinite(t) ? new Date(t).toISOString() : cell;
    }
    case 'INT64':
      return /^[+-]?\d+$/.test(cell.trim()) ? BigInt(cell.trim()).toString() : cell;
    case 'FLOAT64':
      return cell.trim() !== '' && Number.isFinite(Number(cell)) ? String(Number(cell)) : cell;
    case 'BOOL':
      return /^(true|false)$/i.test(cell) ? cell.toLowerCase() : cell;
    default:
      return cell;
  }
}

/** A row's cell for a load, checked on the way as BigQuery would not: NOT NULL, and JSON that parses. */
function checkedCell(schema: TableSchema, c: TableSchema['columns'][number], row: Row, index: number): string | null {
  const cell = toCell(row[c.name]);
  if (cell === null && c.nullable === false)
    throw new Error(`${schema.name}.${c.name} is NOT NULL but row ${index} has no value`);
  if (cell !== null && c.type === 'JSON') JSON.parse(cell); // throws on malformed JSON
  return cell;
}

/** The SQL size above which a small load stages anyway (BigQuery's query text limit is 1 MB). */
const INLINE_MAX_SQL_BYTES = 256 * 1024;

/** An auth client without credentials: enough for @google-cloud/bigquery 8 to talk to an emulator. */
const anonymousAuth = {
  getRequestHeaders: async () => new Headers({ authorization: 'Bearer anonymous' }),
  getAccessToken: async () => ({ token: 'anonymous' }),
} as unknown as BigQueryOptions['authClient'];

const STAGE_TTL_MS = 24 * 3600 * 1000;

/** The staging column type: JSON is staged as its (checked) text and parsed when applied. */
const stageType = (type: ColumnType) => (type === 'JSON' ? 'STRING' : type);

/**
 * A cell as the load job reads it: BOOL and FLOAT64 as JSON booleans/numbers when they are plainly ones;
 * INT64 stays a string (exact beyond 2^53, as BigQuery advises), as do the other types and anything
 * unusual (BigQuery then decides, and refuses what is not of the column type).
 */
function stageValue(cell: string, type: ColumnType): string | number | boolean {
  if (type === 'BOOL' && /^(true|false)$/i.test(cell)) return cell.toLowerCase() === 'true';
  if (type === 'FLOAT64' && cell.trim() !== '' && Number.isFinite(Number(cell))) return Number(cell);
  return cell;
}

/** The SQL reading a staged column as the target type. */
const fromStage = (expr: string, type: ColumnType) => (type === 'JSON' ? `PARSE_JSON(${expr})` : expr);

/** A GoogleSQL string literal: a JSON string literal is one (same escapes, double quotes). */
const literal = (s: string) => JSON.stringify(s);

const q = (ident: string) => `\`${ident}\``;

/** BigQuery's type names (legacy and standard) of the types longhaul declares. */
const FROM_BQ: Record<string, ColumnType | undefined> = {
  STRING: 'STRING',
  INT64: 'INT64',
  INTEGER: 'INT64',
  FLOAT64: 'FLOAT64',
  FLOAT: 'FLOAT64',
  BOOL: 'BOOL',
  BOOLEAN: 'BOOL',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'JSON',
};

/** Query parameters the way both BigQuery and the emulator read them: values as text, with their type. */
function queryParams(params: Record<string, unknown>): Pick<Query, 'params' | 'types'> {
  const values: Record<string, unknown> = {};
  const types: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'number') [values[k], types[k]] = [String(v), Number.isInteger(v) ? 'INT64' : 'FLOAT64'];
    else if (typeof v === 'bigint') [values[k], types[k]] = [v.toString(), 'INT64'];
    else if (typeof v === 'boolean') [values[k], types[k]] = [String(v), 'BOOL'];
    else values[k] = v;
  }
  return { params: values, types };
}

/**
 * Google's BigQuery client, loaded with the first BigQuery warehouse a process makes: a worker or a command on
 * DuckDB (the default) does not pay for it (with the AWS SDK, loaded the same way: an idle worker 10 MB lighter,
 * `longhaul --help` 1.5 → 1.06 s).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not with this module
const sdk = lazily(() => require('@google-cloud/bigquery') as typeof BQ);

/** A result value in the warehouse-neutral shape (see the header). */
function jsValue(v: unknown): unknown {
  const { BigQueryInt, BigQueryTimestamp, BigQueryDate, BigQueryDatetime, BigQueryTime } = sdk();
  if (v instanceof BigQueryInt) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value;
  }
  if (v instanceof BigQueryTimestamp) return new Date(v.value).toISOString();
  if (v instanceof BigQueryDate || v instanceof BigQueryDatetime || v instanceof BigQueryTime) return v.value;
  if (v && typeof v === 'object' && v.constructor?.name === 'Big') return Number(String(v)); // NUMERIC
  if (Array.isArray(v)) return v.map(jsValue);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v) && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsValue(x)]));
  }
  return v;
}

/**
 * The DDL adding nullable columns to a table (GoogleSQL `ALTER TABLE … ADD COLUMN IF NOT EXISTS`). The goccy
 * emulator accepts it but does not apply it (nor a tables.patch of the schema): checked 2026-12-04, a SELECT
 * of the new column then fails "Unrecognized name". Pure.
 */
export function addColumnsSql(table: string, columns: { name: string; type: ColumnType }[]): string {
  return `ALTER TABLE ${table} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${q(c.name)} ${c.type}`).join(', ')}`;
}

/** Types BigQuery can cluster on. */
const CLUSTERABLE = new Set<ColumnType>(['STRING', 'INT64', 'BOOL', 'DATE', 'TIMESTAMP']);

/**
 * The table options a declaration asks for: a table that replaces ranges is partitioned on its range column
 * (DAY unless declared HOUR or MONTH), so a replace's DELETE reads only its partitions, and clustered on its
 * owner columns and primary key (up to 4, clusterable types), so it reads only their blocks within them; a
 * merge table is clustered on its primary key. Pure.
 */
export function bigQueryTableOptions(schema: TableSchema): {
  timePartitioning?: { type: 'HOUR' | 'DAY' | 'MONTH'; field: string };
  clustering?: { fields: string[] };
} {
  const typeOf = (n: string) => schema.columns.find((c) => c.name === n)?.type;
  const w = schema.write;
  const partitioned =
    w?.kind === 'replaceRange' && (typeOf(w.column) === 'DATE' || typeOf(w.column) === 'TIMESTAMP') ? w : undefined;
  const cluster = [...new Set([...(partitioned?.ownedBy ?? []), ...(schema.primaryKey ?? [])])]
    .filter((n) => n !== partitioned?.column && CLUSTERABLE.has(typeOf(n)!))
    .slice(0, 4);
  return {
    ...(partitioned ? { timePartitioning: { type: partitioned.partition ?? 'DAY', field: partitioned.column } } : {}),
    ...(cluster.length ? { clustering: { fields: cluster } } : {}),
  };
}

export class BigQueryWarehouse extends WarehouseBase {
  readonly kind = 'bigquery' as const;
  protected readonly readDialect: Dialect = {
    table: (name) => this.fq(name),
    ident: q,
    param: (n) => `@${n}`,
    cast: (e, t) => (t === 'STRING' ? e : `CAST(${e} AS ${stageType(t)})`),
  };
  readonly client: BigQuery;
  private readonly dataset: Dataset;
  private datasetReady?: Promise<unknown>;

  constructor(private readonly opts: BigQueryWarehouseOptions) {
    super();
    // Both are interpolated into SQL (`project.dataset.table`): only the characters BigQuery allows.
    if (!/^[A-Za-z0-9][A-Za-z0-9.:_-]{0,127}$/.test(opts.projectId))
      throw new Error(`Invalid project "${opts.projectId}"`);
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(opts.datasetId)) throw new Error(`Invalid dataset "${opts.datasetId}"`);
    const anonymous = opts.anonymous ?? opts.apiEndpoint?.startsWith('http:') ?? false;
    this.client = new (sdk().BigQuery)({
      projectId: opts.projectId,
      location: opts.location,
      apiEndpoint: opts.apiEndpoint,
      ...(anonymous ? { authClient: anonymousAuth } : {}),
    });
    this.dataset = this.client.dataset(opts.datasetId, { location: opts.location });
  }

  /** `project.dataset.table`, quoted. */
  private fq(table: string): string {
    return q(`${this.opts.projectId}.${this.opts.datasetId}.${table}`);
  }

  private ensureDataset(): Promise<unknown> {
    this.datasetReady ??= this.dataset.get({ autoCreate: true }).catch((err: unknown) => {
      this.datasetReady = undefined;
      throw err;
    });
    return this.datasetReady;
  }

  private async createTable(name: string, fields: object[], expires?: number, options: object = {}): Promise<void> {
    try {
      await this.dataset.createTable(name, {
        schema: { fields },
        ...options,
        ...(expires ? { expirationTime: String(expires) } : {}),
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err; // created meanwhile
    }
  }

  /**
   * Creates the table (partitioned and clustered as its declaration says: bigQueryTableOptions), or moves an
   * existing one to the declared schema: declared nullable columns it lacks are added (and logged); an
   * incompatible difference fails with IncompatibleTableError, changing nothing.
   */
  async ensureTable(schema: TableSchema): Promise<void> {
    assertSchema(schema);
    const existing = await this.describeTable(schema.name); // ensures the dataset
    if (!existing) {
      const fields = schema.columns.map((c) => ({
        name: c.name,
        type: c.type,
        mode: c.nullable === false ? 'REQUIRED' : 'NULLABLE',
      }));
      await this.createTable(schema.name, fields, undefined, bigQueryTableOptions(schema));
    } else {
      const { add, incompatible } = planEvolution(schema, existing);
      if (incompatible.length) throw new IncompatibleTableError(schema.name, incompatible);
      if (add.length) {
        await this.run(addColumnsSql(this.fq(schema.name), add));
        logger.warn(
          { table: schema.name, added: add.map((c) => c.name) },
          `table ${schema.name}: added column(s) ${add.map((c) => `${c.name} ${c.type}`).join(', ')} (declared, nullable)`,
        );
      }
    }
  }

  async describeTable(name: string): Promise<TableColumn[] | undefined> {
    await this.ensureDataset();
    let meta: { schema?: { fields?: { name?: string; type?: string; mode?: string }[] } };
    try {
      [meta] = await this.dataset.table(name).getMetadata();
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
    return (meta.schema?.fields ?? []).map((f) => ({
      name: f.name ?? '',
      type: FROM_BQ[(f.type ?? '').toUpperCase()],
      nativeType: f.type ?? 'UNKNOWN',
      nullable: f.mode !== 'REQUIRED',
    }));
  }

  protected async loadRows(
    schema: TableSchema,
    mode: ResolvedWriteMode,
    batches: AsyncIterable<Row[]>,
    opts: LoadOptions,
  ): Promise<LoadResult> {
    const inlineMax = this.opts.inlineMaxRows ?? 200;
    if (mode.kind !== 'replaceRange' && inlineMax > 0) {
      // Read up to inlineMax + 1 rows: all of them → one inline job; more → the staging path gets them all.
      const it = batches[Symbol.asyncIterator]();
      const head: Row[] = [];
      let done = false;
      while (head.length <= inlineMax) {
        const next = await it.next();
        if (next.done) {
          done = true;
          break;
        }
        head.push(...next.value);
      }
      const inline = done ? this.inlineScript(schema, mode, head) : undefined;
      if (done && head.length === 0) return { rowsLoaded: 0 };
      if (inline) {
        assertNotAborted(opts.signal, schema.name);
        await this.run(inline.sql);
        return { rowsLoaded: inline.rows };
      }
      batches = (async function* () {
        if (head.length) yield head;
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield next.value;
        }
      })();
    }
    return this.withStage(schema, async (stageName) => {
      const staged = await this.stage(this.dataset.table(stageName), schema, batches);
      return this.applyStaged(schema, stageName, staged, mode, opts);
    });
  }

  /**
   * Landed CSV files through BigQuery's own CSV reader: each file uploaded by one load job into a raw table of
   * its own (every field STRING), its values checked in SQL and typed into the staging table, which is then
   * applied as `load` applies it (one script job). Only what types exactly as the JavaScript reader types it
   * is read here (src/sinks/bigquery-csv.ts); a file with anything else — a bad row, a value to trim, a
   * record BigQuery's reader refuses — fails with CsvDialectError before the target is touched, and the
   * caller reads the load with the JavaScript reader (its bad-row counts and samples by line). Gzipped files
   * are uncompressed on the way up (the emulator reads no gzip). Memory: one upload stream at a time.
   */
  async loadCsv(
    schema: TableSchema,
    files: CsvLoad,
    declaredOr?: WriteMode,
    opts: LoadOptions = {},
  ): Promise<CsvLoadResult> {
    const mode = csvLoadMode(schema, files, declaredOr);
    const other = files.fileColumns.filter((c) => !NATIVE_CSV_TYPES.has(c.type));
    if (other.length)
      throw new CsvDialectError(
        `BigQuery's CSV load reads ${[...NATIVE_CSV_TYPES].join(', ')} columns: ` +
          `${other.map((c) => `${c.name} (${c.type})`).join(', ')} left to the JavaScript reader`,
      );
    await this.ensureTable(schema);
    return this.withStage(schema, async (stageName) => {
      let rows = 0;
      let f = 0;
      for await (const file of files.paths) {
        const i = f++;
        assertNotAborted(opts.signal, schema.name);
        rows += await this.stageCsvFile(schema, stageName, files, file, i, rows);
      }
      if (mode.kind === 'merge' && rows > 0) {
        const keys = mode.keys.map(q).join(', ');
        const [r] = await this.run(
          `SELECT COUNT(*) - COUNT(DISTINCT TO_JSON_STRING(STRUCT(${keys}))) AS n FROM ${this.fq(stageName)}`,
        );
        if (Number(jsValue(r?.n)) > 0)
          throw new CsvDialectError(`merge into ${schema.name}: keys repeat in the files (the last row must win)`);
      }
      const { rowsLoaded } = await this.applyStaged(schema, stageName, rows, mode, opts);
      return { rowsLoaded, files: f, rowsParsed: rows, badRows: 0, badRowSamples: [] };
    });
  }

  /**
   * One landed file into the staging table (`_seq` from `seqBase`: no order is kept within a file): uploaded
   * into a raw table of its own, checked, typed. Returns its rows.
   */
  private async stageCsvFile(
    schema: TableSchema,
    stageName: string,
    files: CsvLoad,
    file: string,
    i: number,
    seqBase: number,
  ): Promise<number> {
    const header = await readCsvHeader(file, i, files.fileColumns); // one-column files are the JavaScript reader's
    const rawName = `_csv_${schema.name}_${randomUUID().replace(/-/g, '')}`;
    const fields = Array.from({ length: header.fields }, (_, k) => ({ name: `f${k}`, type: 'STRING' }));
    await this.createTable(rawName, fields, Date.now() + STAGE_TTL_MS);
    const raw = this.dataset.table(rawName);
    try {
      const upload = raw.createWriteStream({
        sourceFormat: 'CSV',
        skipLeadingRows: 1,
        allowQuotedNewlines: true,
        encoding: 'UTF-8',
        writeDisposition: 'WRITE_APPEND',
      });
      try {
        const source = fs.createReadStream(file);
        await (file.endsWith('.gz') ? pipeline(source, zlib.createGunzip(), upload) : pipeline(source, upload));
      } catch (err) {
        const refused = csvReaderRefusal(err);
        if (refused === undefined) throw err;
        throw new CsvDialectError(`BigQuery's CSV reader refused report file ${i + 1}: ${refused}`);
      }
      const [check] = await this.run(checkSql(this.fq(rawName), files.fileColumns, header.index, header.fields));
      if (Number(jsValue(check?.replaced)) > 0)
        throw new CsvDialectError(
          `report file ${i + 1} has replacement characters (bytes that may not be UTF-8): read with the JavaScript ` +
            `reader's rules`,
        );
      const unclean = files.fileColumns
        .map((c, k) => ({ c, n: Number(jsValue(check?.[`bad_${k}`])) }))
        .filter((x) => x.n > 0);
      if (unclean.length)
        throw new CsvDialectError(
          `report file ${i + 1} has values the native load does not type (${unclean
            .map((x) => `${x.c.name}: ${x.n}`)
            .join(', ')}): read with the JavaScript reader's rules`,
        );
      const n = Number(jsValue(check?.n));
      if (n === 0) return 0;
      const values = schema.columns.map((c) => {
        const k = files.fileColumns.findIndex((x) => x.name === c.name);
        return k >= 0
          ? typedSql(`f${header.index[k]}`, files.fileColumns[k]!.type)
          : constantSql(files.constants![c.name]!, c.type);
      });
      const required = schema.columns.filter((c) => c.nullable === false);
      if (required.length) {
        const [r] = await this.run(
          `SELECT COUNTIF(${required.map((c) => `(${values[schema.columns.indexOf(c)]}) IS NULL`).join(' OR ')}) ` +
            `AS n FROM ${this.fq(rawName)}`,
        );
        if (Number(jsValue(r?.n)) > 0)
          throw new CsvDialectError(`report file ${i + 1} leaves a NOT NULL column of ${schema.name} empty`);
      }
      const names = [...schema.columns.map((c) => q(c.name)), '_seq'].join(', ');
      await this.run(
        `INSERT INTO ${this.fq(stageName)} (${names}) SELECT ${values.join(', ')}, ${seqBase} FROM ${this.fq(rawName)}`,
      );
      return n;
    } finally {
      await raw.delete().catch(() => undefined); // expires anyway
    }
  }

  /** Runs `work` with a fresh staging table (the schema's columns and `_seq`), dropped after it. */
  private async withStage<T>(schema: TableSchema, work: (stageName: string) => Promise<T>): Promise<T> {
    const stageName = `_stage_${schema.name}_${randomUUID().replace(/-/g, '')}`;
    const fields = schema.columns.map((c) => ({ name: c.name, type: stageType(c.type) }));
    await this.createTable(stageName, [...fields, { name: '_seq', type: 'INT64' }], Date.now() + STAGE_TTL_MS);
    try {
      return await work(stageName);
    } finally {
      await this.dataset
        .table(stageName)
        .delete()
        .catch(() => undefined); // expires anyway
    }
  }

  /** Checks the staged rows against `mode` and applies them in one script job. */
  private async applyStaged(
    schema: TableSchema,
    stageName: string,
    staged: number,
    mode: ResolvedWriteMode,
    opts: LoadOptions,
  ): Promise<LoadResult> {
    if (staged === 0 && mode.kind !== 'replaceRange') return { rowsLoaded: 0 }; // nothing to apply
    if (mode.kind === 'replaceRange' && staged > 0) {
      const [r] = await this.run(
        `SELECT COUNT(*) AS n FROM ${this.fq(stageName)} WHERE NOT COALESCE(${this.owned(schema, mode)}, FALSE)`,
      );
      const outside = Number(jsValue(r?.n));
      if (outside > 0) throw outsideRange(schema, mode, outside);
    }
    // An attempt given up meanwhile (cancelled, timed out: a retry may be loading) must not apply.
    assertNotAborted(opts.signal, schema.name);
    const [result] = await this.run(this.applyScript(schema, stageName, mode));
    return { rowsLoaded: mode.kind === 'merge' ? Number(result.n) : staged };
  }

  /**
   * Streams the rows into the staging table with one load job; returns how many were staged. When the
   * source fails midway, the upload is ended cleanly (an aborted upload request would hang on the open
   * connection) and the error rethrown: the partial staging table is dropped, never applied.
   */
  private async stage(table: Table, schema: TableSchema, batches: AsyncIterable<Row[]>): Promise<number> {
    let seq = 0;
    let failure: { error: unknown } | undefined;
    async function* ndjson(): AsyncGenerator<string> {
      try {
        for await (const batch of batches) {
          let chunk = '';
          for (const row of batch) {
            const rec: Record<string, string | number | boolean | null> = { _seq: seq };
            for (const c of schema.columns) {
              const cell = checkedCell(schema, c, row, seq);
              rec[c.name] = cell === null ? null : stageValue(cell, c.type);
            }
            seq++;
            chunk += JSON.stringify(rec) + '\n';
          }
          if (chunk) yield chunk;
        }
      } catch (error) {
        failure = { error };
      }
    }
    const lines = ndjson();
    const first = await lines.next(); // no load job for no rows
    if (!first.done) {
      const source = Readable.from(
        (async function* () {
          yield first.value;
          yield* lines;
        })(),
      );
      // The write stream finishes only once the load job is done (and fails with the job's error).
      await pipeline(
        source,
        table.createWriteStream({ sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_APPEND' }),
      );
    }
    if (failure) throw failure.error;
    return seq;
  }

  /**
   * The one-job script of a small append or merge (file comment), or undefined when its SQL would be too
   * large. Checks NOT NULL and JSON on the way, as staging does.
   */
  private inlineScript(
    schema: TableSchema,
    mode: Exclude<ResolvedWriteMode, { kind: 'replaceRange' }>,
    rows: Row[],
  ): { sql: string; rows: number } | undefined {
    const cells = rows.map((row, i) =>
      schema.columns.map((c) => {
        const cell = checkedCell(schema, c, row, i);
        return cell === null ? null : inlineCell(cell, c.type);
      }),
    );
    const value = (cell: string | null, type: ColumnType) =>
      cell === null
        ? `CAST(NULL AS ${type})`
        : type === 'JSON'
          ? `PARSE_JSON(${literal(cell)})`
          : type === 'STRING'
            ? literal(cell)
            : `CAST(${literal(cell)} AS ${type})`;
    const target = this.fq(schema.name);
    const cols = schema.columns.map((c) => q(c.name)).join(', ');
    const at = mode.kind === 'merge' ? mode.keys.map((k) => schema.columns.findIndex((c) => c.name === k)) : [];
    let kept = cells;
    if (mode.kind === 'merge') {
      // Last row of each key wins (as the staged MERGE's dedupe).
      const last = new Map<string, (string | null)[]>();
      for (const r of cells) last.set(JSON.stringify(at.map((i) => r[i])), r);
      kept = [...last.values()];
    }
    const tuples = kept.map((r) => `(${r.map((cell, i) => value(cell, schema.columns[i].type)).join(', ')})`);
    const insert = `INSERT INTO ${target} (${cols}) VALUES ${tuples.join(',\n')};`;
    let sql: string;
    if (mode.kind === 'append') sql = insert;
    else {
      const match = kept
        .map(
          (r) =>
            `(${at.map((i) => `${q(schema.columns[i].name)} = ${value(r[i], schema.columns[i].type)}`).join(' AND ')})`,
        )
        .join(' OR ');
      const structs = kept.map(
        (r) => `STRUCT(${r.map((cell, i) => `${value(cell, schema.columns[i].type)} AS c${i}`).join(', ')})`,
      );
      sql = [
        'BEGIN TRANSACTION;',
        `SELECT COUNT(*) AS n FROM UNNEST([${structs.join(', ')}]);`,
        `DELETE FROM ${target} WHERE ${match};`,
        insert,
        'COMMIT TRANSACTION;',
      ].join('\n');
    }
    return Buffer.byteLength(sql) > INLINE_MAX_SQL_BYTES ? undefined : { sql, rows: kept.length };
  }

  private applyScript(schema: TableSchema, stageName: string, mode: ResolvedWriteMode): string {
    const target = this.fq(schema.name);
    const stage = this.fq(stageName);
    const cols = schema.columns.map((c) => q(c.name));
    const values = (prefix: string) => schema.columns.map((c) => fromStage(prefix + q(c.name), c.type));
    const insert = `INSERT INTO ${target} (${cols.join(', ')}) SELECT ${values('').join(', ')} FROM ${stage};`;
    switch (mode.kind) {
      case 'append':
        return insert;
      case 'replaceRange': {
        return [
          'BEGIN TRANSACTION;',
          `DELETE FROM ${target} WHERE ${this.owned(schema, mode)};`,
          insert,
          'COMMIT TRANSACTION;',
        ].join('\n');
      }
      case 'merge': {
        const keys = mode.keys.map(q);
        const on = keys.map((k) => `T.${k} = S.${k}`).join(' AND ');
        const sources = values('S.');
        const updates = cols.flatMap((c, i) => (keys.includes(c) ? [] : [`${c} = ${sources[i]}`]));
        return [
          `DELETE FROM ${stage} WHERE _seq NOT IN (SELECT MAX(_seq) FROM ${stage} GROUP BY ${keys.join(', ')});`,
          `MERGE ${target} T USING ${stage} S ON ${on}`,
          updates.length ? `WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}` : '',
          `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${sources.join(', ')});`,
          `SELECT COUNT(*) AS n FROM ${stage};`,
        ].join('\n');
      }
    }
  }

  /** The condition on a row this replaceRange owns: in the range, and of the `where` values (as literals). */
  private owned(schema: TableSchema, mode: Extract<WriteMode, { kind: 'replaceRange' }>): string {
    const typeOf = (name: string) => stageType(schema.columns.find((c) => c.name === name)!.type);
    const value = (name: string, v: string) => `CAST(${literal(v)} AS ${typeOf(name)})`;
    return [
      `${q(mode.column)} BETWEEN ${value(mode.column, mode.from)} AND ${value(mode.column, mode.to)}`,
      ...Object.entries(mode.where ?? {}).map(([k, v]) => `${q(k)} = ${value(k, v)}`),
    ].join(' AND ');
  }

  /**
   * Runs a query (a script's result is its last statement's) and returns its rows. Through `jobs.query`, the
   * client library's fast path: one request that waits for the result and returns its first page, instead
   * of inserting a job then polling it (the library falls back to a job and `getQueryResults` for a long
   * query or more pages). It also spares the emulator a result table per query, which it keeps in memory for
   * good (measured: +9–22 MB a query through jobs.insert, so ~100 queries passed its 1.5 GB restart line).
   */
  private async run(query: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const [rows] = await this.client.query({
      query,
      ...(params ? queryParams(params) : {}),
      defaultDataset: { projectId: this.opts.projectId, datasetId: this.opts.datasetId },
      location: this.opts.location,
      wrapIntegers: true,
    });
    return rows as Record<string, unknown>[];
  }

  /**
   * EXPORT DATA writes only to Cloud Storage: the rows are read page by page (tabledata.list, no query job)
   * and written here (src/sinks/export-rows.ts).
   */
  async exportTable(name: string, format: ExportFormat, file: string): Promise<{ rows: number }> {
    const columns = await exportedColumns(this, name);
    const table = this.dataset.table(name);
    async function* rows(): AsyncGenerator<Record<string, unknown>> {
      for await (const r of table.createReadStream({ wrapIntegers: true })) yield jsValue(r) as Record<string, unknown>;
    }
    return { rows: await writeRows(rows(), columns, format, file) };
  }

  protected async dropChecked(name: string): Promise<void> {
    await this.ensureDataset();
    await this.dataset.table(name).delete({ ignoreNotFound: true });
  }

  async listTables(): Promise<string[]> {
    await this.ensureDataset();
    const [tables] = await this.dataset.getTables();
    return tables
      .map((t) => t.id ?? '')
      .filter(Boolean)
      .sort();
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    const rows = await this.run(sql, params);
    return rows.map((r) => jsValue(r) as T);
  }

  /** Nothing to release: every call is a stateless HTTP request. */
  async close(): Promise<void> {}
}
