/**
 * What every warehouse does the same way around its own SQL: a load's checks (a safe schema, a write mode
 * the table allows) and the table created or moved to the declared schema before any row is read; typed
 * reads rendered in the warehouse's dialect; counts; a safe identifier before a drop. DuckDB and BigQuery
 * extend it and give only what is theirs (src/sinks/duckdb.ts, src/sinks/bigquery.ts).
 */
import { renderSelect, type Dialect, type SelectSpec, type Where } from './read';
import {
  assertSchema,
  countRows,
  resolveWriteMode,
  type ExportFormat,
  type LoadOptions,
  type LoadResult,
  type ResolvedWriteMode,
  type Row,
  type TableColumn,
  type TableSchema,
  type Warehouse,
  type WriteMode,
} from './warehouse';

export abstract class WarehouseBase implements Warehouse {
  abstract readonly kind: Warehouse['kind'];
  /** How this warehouse writes a read's table names, identifiers, parameters and casts. */
  protected abstract readonly readDialect: Dialect;

  abstract ensureTable(schema: TableSchema): Promise<void>;
  abstract describeTable(name: string): Promise<TableColumn[] | undefined>;
  abstract query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  abstract exportTable(name: string, format: ExportFormat, file: string): Promise<{ rows: number }>;
  abstract listTables(): Promise<string[]>;
  abstract close(): Promise<void>;
  /** Stages `batches` and applies them with `mode` (the table exists, in its declared schema). */
  protected abstract loadRows(
    schema: TableSchema,
    mode: ResolvedWriteMode,
    batches: AsyncIterable<Row[]>,
    opts: LoadOptions,
  ): Promise<LoadResult>;
  /** Drops `name` (a checked identifier) if it exists. */
  protected abstract dropChecked(name: string): Promise<void>;

  /** The write mode of a load after its checks, with the table ready for it. */
  protected async prepareLoad(schema: TableSchema, declaredOr?: WriteMode): Promise<ResolvedWriteMode> {
    assertSchema(schema, declaredOr);
    const mode = resolveWriteMode(schema, declaredOr);
    await this.ensureTable(schema); // created, or moved to the declared schema (before anything is read)
    return mode;
  }

  async load(
    schema: TableSchema,
    batches: AsyncIterable<Row[]>,
    declaredOr?: WriteMode,
    opts: LoadOptions = {},
  ): Promise<LoadResult> {
    const mode = await this.prepareLoad(schema, declaredOr);
    return this.loadRows(schema, mode, batches, opts);
  }

  /** Async: a read that refuses (an undeclared column, …) rejects like any other failure. */
  async select<T = Record<string, unknown>>(schema: TableSchema, spec?: SelectSpec): Promise<T[]> {
    const { sql, params } = renderSelect(this.readDialect, schema, spec);
    return this.query<T>(sql, params);
  }

  count(schema: TableSchema, where?: Where): Promise<number> {
    return countRows(this, schema, where);
  }

  async dropTable(name: string): Promise<void> {
    assertSchema({ name, columns: [{ name: 'x', type: 'STRING' }] }); // a safe identifier
    await this.dropChecked(name);
  }
}
