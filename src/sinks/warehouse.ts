/**
 * The warehouse every pipeline writes to. Two implementations: DuckDB (embedded default, one file) and
 * BigQuery (production). Tables are created from a declared schema; every load goes through a staging
 * table and lands in one atomic step with the chosen write mode, so a retried or rerun load never
 * duplicates rows.
 */
import type { JsonField } from './json-fields';
import { ApplicationFailure } from '@temporalio/common';
import type { SelectSpec, Where } from './read';

export { columns, type ColumnSpec } from '../shared/columns';

export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'DATE' | 'TIMESTAMP' | 'JSON';

export interface Column {
  name: string;
  type: ColumnType;
  /** Defaults to true. */
  nullable?: boolean;
}

export interface TableSchema {
  /** Table name: letters, digits and underscores. */
  name: string;
  columns: Column[];
  /** The columns identifying a row: a merge replaces the rows with the same key; BigQuery clusters on them. */
  primaryKey?: string[];
  /** How a load writes the table unless the call says otherwise (default: append). */
  write?: WriteDisposition;
}

/**
 * A table's write disposition, declared once with its schema (as dlt declares it on the resource):
 * - `append`: rows are added;
 * - `merge`: upsert on the primary key;
 * - `replaceRange`: a load replaces the rows whose `column` lies in the range it gives (and, with `ownedBy`,
 *   whose owner columns hold the load's values): the way to reload a date range. The table is partitioned on
 *   `column` in BigQuery (`partition`, default DAY), so a replace touches only its partitions.
 */
export type WriteDisposition =
  | { kind: 'append' }
  | { kind: 'merge' }
  | { kind: 'replaceRange'; column: string; ownedBy?: string[]; partition?: 'HOUR' | 'DAY' | 'MONTH' };

export type Row = Record<string, string | number | boolean | null | undefined>;

export type WriteMode =
  | { kind: 'append' }
  /**
   * Delete the rows whose `column` lies in [from, to] (inclusive) — and, with `where`, whose STRING columns
   * equal the given values (the rows this load owns, e.g. one report configuration's) — then insert: the
   * way to reload a date range. Every loaded row must lie in the range (and match `where`), or the load
   * fails before anything is replaced (RowsOutsideRangeError).
   */
  | { kind: 'replaceRange'; column: string; from: string; to: string; where?: Record<string, string> }
  /** Upsert on key columns (default: the table's primary key): rows with the same key replace the existing ones. */
  | { kind: 'merge'; keys?: string[] };

/** A write mode with everything resolved from the table's declaration. */
export type ResolvedWriteMode = Exclude<WriteMode, { kind: 'merge' }> | { kind: 'merge'; keys: string[] };

/**
 * The write mode of a load: the call's own (an override) or the table's declared disposition. A table that
 * replaces ranges needs the range from the call (`replaceRangeOf`).
 */
export function resolveWriteMode(schema: TableSchema, mode?: WriteMode): ResolvedWriteMode {
  const declared = schema.write ?? { kind: 'append' };
  const m: WriteMode =
    mode ??
    (declared.kind === 'replaceRange'
      ? (() => {
          throw new Error(`load into ${schema.name} replaces a range of ${declared.column}: the load must give it`);
        })()
      : declared);
  if (m.kind !== 'merge') return m;
  const keys = m.keys ?? schema.primaryKey;
  if (!keys) throw new Error(`merge into ${schema.name} needs key columns: the table declares no primary key`);
  return { kind: 'merge', keys };
}

/** The replace of [from, to] of a table that declares `replaceRange`, owned by `owner`'s values. */
export function replaceRangeOf(
  schema: TableSchema,
  from: string,
  to: string,
  owner: Record<string, string> = {},
): Extract<WriteMode, { kind: 'replaceRange' }> {
  const w = schema.write;
  if (w?.kind !== 'replaceRange') throw new Error(`${schema.name} does not declare a replaceRange disposition`);
  const owners = w.ownedBy ?? [];
  const given = Object.keys(owner);
  if (owners.length !== given.length || owners.some((o) => !given.includes(o)))
    throw new Error(`a replace of ${schema.name} must give the values of ${owners.join(', ') || 'no owner column'}`);
  return { kind: 'replaceRange', column: w.column, from, to, ...(owners.length ? { where: owner } : {}) };
}

export interface LoadResult {
  rowsLoaded: number;
}

/**
 * Landed CSV files for a warehouse's own loader (`Warehouse.loadCsv`): each a header row then records (UTF-8,
 * BOM, CRLF, RFC 4180 quotes; gzip when the name ends `.gz`); columns found by header name, case-insensitive,
 * in any order, columns the table does not declare ignored.
 */
export interface CsvLoad {
  /**
   * Local files, in order: a list, or a sequence that yields each file when it is there (the loader reads
   * one while the next is produced, e.g. downloaded and landed).
   */
  paths: Iterable<string> | AsyncIterable<string>;
  /** The declared columns the files carry; the table's other columns come from `constants`. */
  fileColumns: Column[];
  /** Values of the table's columns the files do not carry (e.g. the report's configuration). */
  constants?: Record<string, string>;
  /** Bad rows tolerated (counted, with samples) before the load fails with BadRowsError: default 0. */
  maxBadRows?: number;
}

/**
 * NDJSON files for a warehouse's own reader (`Warehouse.loadJson`): one JSON object a line (gzip when the name
 * ends `.gz`), each record a row by `fields` (src/sinks/json-fields.ts), with the file's `constants`.
 */
export interface JsonLoad {
  /** Local files, in order, each with the values of the table's columns its records do not carry. */
  files: { path: string; constants?: Record<string, string> }[];
  fields: JsonField[];
}

export interface CsvLoadResult extends LoadResult {
  files: number;
  rowsParsed: number;
  badRows: number;
  badRowSamples: string[];
}

export interface JsonLoadResult extends LoadResult {
  /** Records read. */
  rowsParsed: number;
}

export interface LoadOptions {
  /**
   * Aborted when the caller gives up (e.g. the activity was cancelled or timed out): the load then fails
   * before it writes the target (checked before the transaction starts and again before it commits).
   */
  signal?: AbortSignal;
}

/** A column of an existing table, as the warehouse describes it. */
export interface TableColumn {
  name: string;
  /** The longhaul type it maps to; undefined for a native type longhaul never declares. */
  type: ColumnType | undefined;
  /** The warehouse's own type name (e.g. BIGINT, INTEGER). */
  nativeType: string;
  nullable: boolean;
}

/**
 * An existing table that cannot take its declared schema by adding nullable columns (a column of another type,
 * a column no longer declared, a NOT NULL column missing). Nothing was changed; retrying cannot help, so it is
 * a non-retryable failure wherever it is thrown (an activity fails at once, naming the table and columns).
 */
export class IncompatibleTableError extends ApplicationFailure {
  constructor(table: string, problems: string[]) {
    super(
      `table ${table} does not match its declared schema: ${problems.join('; ')}. Nothing was changed: migrate ` +
        `the table by hand (or load into another table)`,
      'IncompatibleTable',
      true,
    );
  }
  override name = 'IncompatibleTableError';
}

/**
 * How an existing table moves to a declared schema: the declared nullable columns it lacks are added (a new
 * metric, a new field); anything else that differs is incompatible. Pure.
 */
export function planEvolution(schema: TableSchema, existing: TableColumn[]): { add: Column[]; incompatible: string[] } {
  const found = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const missing = schema.columns.filter((c) => !found.has(c.name.toLowerCase()));
  const add = missing.filter((c) => c.nullable !== false);
  const incompatible = schemaDifferences(schema, existing).filter((d) => !d.startsWith('missing column'));
  const required = missing.filter((c) => c.nullable === false).map((c) => c.name);
  if (required.length)
    incompatible.unshift(`NOT NULL column(s) ${required.join(', ')} missing (cannot be added to existing rows)`);
  return { add, incompatible };
}

/** A load aborted by its caller's signal (nothing was written). */
export class LoadAbortedError extends Error {
  override name = 'LoadAbortedError';
}

/** Loaded rows fall outside a replaceRange's range: nothing was written. */
export class RowsOutsideRangeError extends Error {
  override name = 'RowsOutsideRangeError';
}

export function assertNotAborted(signal: AbortSignal | undefined, table: string): void {
  if (signal?.aborted)
    throw new LoadAbortedError(
      `load into ${table} abandoned before writing: the caller gave up (cancelled or timed out)`,
    );
}

/**
 * How an existing table differs from a declared schema: columns missing from the table, columns the
 * schema does not declare, and columns of another type (each as one readable phrase; empty = they match).
 * Nullability is not compared; a declared JSON column matches DuckDB's VARCHAR (how DuckDB stores it).
 */
export function schemaDifferences(schema: TableSchema, existing: TableColumn[]): string[] {
  const sameType = (d: ColumnType, f: TableColumn) =>
    f.type === d || (d === 'JSON' && f.nativeType.toUpperCase() === 'VARCHAR');
  const found = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const declared = new Set(schema.columns.map((c) => c.name.toLowerCase()));
  const out: string[] = [];
  const missing = schema.columns.filter((c) => !found.has(c.name.toLowerCase())).map((c) => c.name);
  if (missing.length) out.push(`missing column(s) ${missing.join(', ')}`);
  const extra = existing.filter((c) => !declared.has(c.name.toLowerCase())).map((c) => c.name);
  if (extra.length) out.push(`undeclared column(s) ${extra.join(', ')}`);
  for (const c of schema.columns) {
    const f = found.get(c.name.toLowerCase());
    if (f && !sameType(c.type, f)) out.push(`column ${c.name} is ${f.nativeType}, declared ${c.type}`);
  }
  return out;
}

/** The formats `longhaul export` writes (src/cli/export.ts). */
export const EXPORT_FORMATS = ['ndjson', 'json', 'csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** An export (or a read) of a table the warehouse does not hold; names the tables it does hold. */
export class UnknownTableError extends Error {
  override name = 'UnknownTableError';
  constructor(
    readonly table: string,
    readonly known: string[],
  ) {
    super(
      `No table "${table}" in the warehouse` +
        (known.length
          ? ` (it holds: ${known.slice(0, 30).join(', ')}${known.length > 30 ? ', …' : ''})`
          : ' (it holds none)'),
    );
  }
}

/**
 * The write mode of a `loadCsv` (assertSchema, resolveWriteMode), once every column of the table is known to
 * come from the files or from a constant.
 */
export function csvLoadMode(schema: TableSchema, files: CsvLoad, declaredOr?: WriteMode): ResolvedWriteMode {
  assertSchema(schema, declaredOr);
  const mode = resolveWriteMode(schema, declaredOr);
  const carried = new Set(files.fileColumns.map((c) => c.name));
  const missing = schema.columns.filter((c) => !carried.has(c.name) && files.constants?.[c.name] === undefined);
  if (missing.length)
    throw new Error(`loadCsv into ${schema.name}: no value for ${missing.map((c) => c.name).join(', ')}`);
  return mode;
}

/** The columns of a table about to be exported: its name checked as a safe identifier, an unknown table refused. */
export async function exportedColumns(
  w: Pick<Warehouse, 'describeTable' | 'listTables'>,
  name: string,
): Promise<TableColumn[]> {
  assertSchema({ name, columns: [{ name: 'x', type: 'STRING' }] }); // a safe identifier
  const columns = await w.describeTable(name);
  if (!columns) throw new UnknownTableError(name, await w.listTables());
  return columns;
}

export interface Warehouse {
  readonly kind: 'duckdb' | 'bigquery';
  ensureTable(schema: TableSchema): Promise<void>;
  /** The columns of an existing table, in table order; undefined if there is no such table. */
  describeTable(name: string): Promise<TableColumn[] | undefined>;
  /**
   * Loads batches (memory stays bounded by one batch) and applies them atomically with `mode`, by default the
   * table's declared disposition (resolveWriteMode).
   */
  load(schema: TableSchema, batches: AsyncIterable<Row[]>, mode?: WriteMode, opts?: LoadOptions): Promise<LoadResult>;
  /**
   * Loads landed CSV files with the warehouse's own reader, typed by the declared columns (no JavaScript
   * parsing): as `load`, one transaction with `mode`; rows that do not type, or have the wrong number of
   * fields, are counted with samples (file, line, column, reason; never the value) and not loaded; past
   * `maxBadRows` nothing is loaded (BadRowsError). A reader that cannot do so for a file (BigQuery's: it
   * names no line) fails with CsvDialectError before writing anything. Absent, or refused that way: the
   * caller parses (src/kit/activity/csv.ts).
   */
  loadCsv?(schema: TableSchema, files: CsvLoad, mode?: WriteMode, opts?: LoadOptions): Promise<CsvLoadResult>;
  /**
   * Loads NDJSON files with the warehouse's own reader, each record a row by the declared mapping — the rows
   * `jsonRow` gives, loaded as `load` loads them (a value that does not type fails the load, nothing written).
   * Absent: the caller reads the records (jsonRow) and calls `load`.
   */
  loadJson?(schema: TableSchema, files: JsonLoad, mode?: WriteMode, opts?: LoadOptions): Promise<JsonLoadResult>;
  /** A typed read of a declared table (src/sinks/read.ts): every read a pipeline makes. */
  select<T = Record<string, unknown>>(schema: TableSchema, spec?: SelectSpec): Promise<T[]>;
  /** The rows of a declared table matching `where`. */
  count(schema: TableSchema, where?: Where): Promise<number>;
  /**
   * The user's own SQL, in the configured warehouse's dialect (`longhaul query`, tests). Pipelines never call
   * it: their reads go through `select`/`count`, which speak no dialect.
   */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Writes a whole table to a local file (`longhaul export`): NDJSON, a JSON array, CSV with a header, or
   * Parquet with the table's types — with the warehouse's own exporter where it has one (DuckDB's COPY … TO),
   * streamed page by page otherwise (BigQuery's EXPORT DATA writes only to Cloud Storage). DATE and TIMESTAMP
   * values in the text formats as query results give them (YYYY-MM-DD, ISO 8601 UTC). Returns the rows
   * written; an unknown table throws UnknownTableError and writes nothing.
   */
  exportTable(name: string, format: ExportFormat, file: string): Promise<{ rows: number }>;
  /** Drops a table if it exists (scratch tables: `longhaul doctor`). */
  dropTable(name: string): Promise<void>;
  /** The names of the tables the warehouse holds (its schema or dataset), sorted. */
  listTables(): Promise<string[]>;
  close(): Promise<void>;
}

/** `count` through `select`: shared by the warehouses. */
export async function countRows(w: Warehouse, schema: TableSchema, where?: Where): Promise<number> {
  const [row] = await w.select<{ n: number }>(schema, { where, aggregates: { n: { count: true } } });
  return Number(row?.n ?? 0);
}

/** A table or column name every warehouse takes: letters, digits, underscores. */
export const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Validates a schema's identifiers (they are interpolated into SQL) and write-mode columns. */
export function assertSchema(schema: TableSchema, mode?: WriteMode): void {
  if (!IDENT.test(schema.name)) throw new Error(`Invalid table name "${schema.name}"`);
  if (schema.columns.length === 0) throw new Error(`Table ${schema.name} has no columns`);
  const names = new Set<string>();
  for (const c of schema.columns) {
    if (!IDENT.test(c.name)) throw new Error(`Invalid column name "${c.name}" in ${schema.name}`);
    if (names.has(c.name)) throw new Error(`Duplicate column "${c.name}" in ${schema.name}`);
    names.add(c.name);
  }
  const need = [
    ...(schema.primaryKey ?? []),
    ...(schema.write?.kind === 'replaceRange' ? [schema.write.column, ...(schema.write.ownedBy ?? [])] : []),
    ...(mode?.kind === 'merge'
      ? (mode.keys ?? [])
      : mode?.kind === 'replaceRange'
        ? [mode.column, ...Object.keys(mode.where ?? {})]
        : []),
  ];
  if (schema.primaryKey?.length === 0) throw new Error(`Table ${schema.name} declares an empty primary key`);
  if (mode?.kind === 'merge' && mode.keys?.length === 0) throw new Error('merge needs at least one key column');
  for (const k of need) if (!names.has(k)) throw new Error(`Column "${k}" is not in table ${schema.name}`);
}

/** Converts a value to the canonical text the warehouse casts from (null for empty/undefined). */
export function toCell(v: Row[string]): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

/** Collects an async iterable of batches into fixed-size batches. */
export async function* rebatch<T>(source: AsyncIterable<T[]>, size: number): AsyncGenerator<T[]> {
  let buf: T[] = [];
  for await (const batch of source) {
    for (const x of batch) {
      buf.push(x);
      if (buf.length >= size) {
        yield buf;
        buf = [];
      }
    }
  }
  if (buf.length) yield buf;
}

export async function* fromArray<T>(rows: T[], size = 10_000): AsyncGenerator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** The failure of a replaceRange load some of whose rows lie outside its range (no value is quoted). */
export function outsideRange(
  schema: TableSchema,
  mode: Extract<WriteMode, { kind: 'replaceRange' }>,
  n: number,
): RowsOutsideRangeError {
  const where = Object.keys(mode.where ?? {});
  return new RowsOutsideRangeError(
    `${n} row(s) loaded into ${schema.name} lie outside the range being replaced (${mode.column} ` +
      `${mode.from}..${mode.to}${where.length ? `, with its ${where.join(', ')}` : ''}): nothing was replaced`,
  );
}
