/**
 * DuckDB warehouse: one file under the data folder. The file is opened only while an operation runs
 * (and closed when the process goes idle), so `longhaul query`, a notebook or a test can read it
 * between loads; an operation that finds the file locked by another process waits and tries again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import {
  assertSchema,
  toCell,
  type ColumnType,
  type LoadResult,
  type Row,
  type TableSchema,
  type Warehouse,
  type WriteMode,
} from './warehouse';

const DUCK_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'VARCHAR',
};

const q = (ident: string) => `"${ident}"`;

/**
 * SQL converting staged text to a column type. A TIMESTAMP goes through TIMESTAMPTZ: a plain cast would
 * drop a UTC offset ('…T05:00+02:00' must be 03:00 UTC, as in BigQuery); text without offset is UTC.
 * JSON is stored as text, but validated on the way in (BigQuery refuses malformed JSON too).
 */
function cast(expr: string, type: ColumnType): string {
  if (type === 'TIMESTAMP') return `(CAST(${expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')`;
  if (type === 'JSON') return `CAST(CAST(${expr} AS JSON) AS VARCHAR)`;
  return `CAST(${expr} AS ${DUCK_TYPES[type]})`;
}

/** Query results in the warehouse-neutral shape: DATE 'YYYY-MM-DD', TIMESTAMP ISO 8601 UTC, exact integers. */
function jsValue(v: unknown, type: DuckDBTypeId): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return type === DuckDBTypeId.DATE ? v.toISOString().slice(0, 10) : v.toISOString();
  return v;
}

export interface DuckDbOptions {
  path: string;
  /** How long to wait for another process's lock on the file. */
  lockTimeoutMs?: number;
}

export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  private instance?: DuckDBInstance;
  private users = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly known = new Set<string>();

  constructor(private readonly opts: DuckDbOptions) {
    fs.mkdirSync(path.dirname(opts.path), { recursive: true });
  }

  /** Runs `fn` with a connection; operations of this process are serialized (one writer at a time). */
  private withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = async () => {
      const conn = await this.acquire();
      try {
        return await fn(conn);
      } finally {
        conn.closeSync();
        this.release();
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async acquire(): Promise<DuckDBConnection> {
    const deadline = Date.now() + (this.opts.lockTimeoutMs ?? 60_000);
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        this.instance ??= await DuckDBInstance.create(this.opts.path);
        this.users++;
        const conn = await this.instance.connect();
        // Text without offset loaded into a TIMESTAMP is UTC, as in BigQuery (see cast()).
        await conn.run("SET TimeZone = 'UTC'");
        return conn;
      } catch (err) {
        if (!/lock/i.test(String(err)) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private release(): void {
    if (--this.users === 0 && this.instance) {
      this.instance.closeSync();
      this.instance = undefined;
    }
  }

  private createSql(schema: TableSchema): string {
    const cols = schema.columns.map(
      (c) => `${q(c.name)} ${DUCK_TYPES[c.type]}${c.nullable === false ? ' NOT NULL' : ''}`,
    );
    return `CREATE TABLE IF NOT EXISTS ${q(schema.name)} (${cols.join(', ')})`;
  }

  async ensureTable(schema: TableSchema): Promise<void> {
    assertSchema(schema);
    await this.withConnection((c) => c.run(this.createSql(schema)));
    this.known.add(schema.name);
  }

  async load(schema: TableSchema, batches: AsyncIterable<Row[]>, mode: WriteMode): Promise<LoadResult> {
    assertSchema(schema, mode);
    return this.withConnection(async (c) => {
      await c.run(this.createSql(schema));
      const stage = `_stage_${schema.name}`;
      const names = schema.columns.map((col) => col.name);
      await c.run(
        `CREATE OR REPLACE TEMP TABLE ${q(stage)} (${names.map((n) => `${q(n)} VARCHAR`).join(', ')}, _seq BIGINT)`,
      );
      let seq = 0;
      const appender = await c.createAppender(stage, 'main', 'temp');
      try {
        for await (const batch of batches) {
          for (const row of batch) {
            for (const n of names) {
              const cell = toCell(row[n]);
              if (cell === null) appender.appendNull();
              else appender.appendVarchar(cell);
            }
            appender.appendBigInt(BigInt(seq++));
            appender.endRow();
          }
          appender.flushSync();
        }
      } finally {
        appender.closeSync();
      }
      const casts = schema.columns.map((col) => `${cast(q(col.name), col.type)} AS ${q(col.name)}`);
      let source = `SELECT ${casts.join(', ')} FROM ${q(stage)}`;
      let rowsLoaded = seq;
      if (mode.kind === 'merge') {
        // Dedupe on the typed keys (text '2024-01-02T03:00Z' and '…05:00+02:00' are one key): last row wins.
        const keys = mode.keys.map(q).join(', ');
        source =
          `SELECT * EXCLUDE (_seq) FROM (SELECT ${casts.join(', ')}, _seq FROM ${q(stage)}) ` +
          `QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY _seq DESC) = 1`;
        const r = await c.runAndReadAll(`SELECT count(*) AS n FROM (${source})`);
        rowsLoaded = Number(r.getRowObjectsJS()[0]?.n);
      }
      await c.run('BEGIN TRANSACTION');
      try {
        if (mode.kind === 'replaceRange') {
          const col = schema.columns.find((x) => x.name === mode.column)!;
          await c.run(
            `DELETE FROM ${q(schema.name)} WHERE ${q(col.name)} BETWEEN ${cast('$from', col.type)} AND ${cast('$to', col.type)}`,
            { from: mode.from, to: mode.to },
          );
        } else if (mode.kind === 'merge') {
          const keys = mode.keys.map(q).join(', ');
          await c.run(`DELETE FROM ${q(schema.name)} WHERE (${keys}) IN (SELECT ${keys} FROM (${source}))`);
        }
        await c.run(`INSERT INTO ${q(schema.name)} (${names.map(q).join(', ')}) ${source}`);
        await c.run('COMMIT');
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await c.run(`DROP TABLE IF EXISTS temp.${q(stage)}`).catch(() => undefined);
      }
      return { rowsLoaded };
    });
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    return this.withConnection(async (c) => {
      const reader = await c.runAndReadAll(sql, params as never);
      const types = new Map(reader.columnNames().map((n, i) => [n, reader.columnTypes()[i].typeId]));
      return reader.getRowObjectsJS().map((row) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) out[k] = jsValue(v, types.get(k)!);
        return out as T;
      });
    });
  }

  async close(): Promise<void> {
    await this.queue;
  }
}
