/**
 * The warehouse every pipeline writes to. Two implementations: DuckDB (embedded default, one file) and
 * BigQuery (production). Tables are created from a declared schema; every load goes through a staging
 * table and lands in one atomic step with the chosen write mode, so a retried or rerun load never
 * duplicates rows.
 */
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
}

export type Row = Record<string, string | number | boolean | null | undefined>;

export type WriteMode =
  | { kind: 'append' }
  /** Delete the rows whose `column` lies in [from, to] (inclusive), then insert: the way to reload a date range. */
  | { kind: 'replaceRange'; column: string; from: string; to: string }
  /** Upsert on key columns: rows with the same key replace the existing ones. */
  | { kind: 'merge'; keys: string[] };

export interface LoadResult {
  rowsLoaded: number;
}

export interface Warehouse {
  readonly kind: 'duckdb' | 'bigquery';
  ensureTable(schema: TableSchema): Promise<void>;
  /** Loads batches (memory stays bounded by one batch) and applies them atomically with `mode`. */
  load(schema: TableSchema, batches: AsyncIterable<Row[]>, mode: WriteMode): Promise<LoadResult>;
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  close(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

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
  const need = mode?.kind === 'merge' ? mode.keys : mode?.kind === 'replaceRange' ? [mode.column] : [];
  if (mode?.kind === 'merge' && mode.keys.length === 0) throw new Error('merge needs at least one key column');
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
