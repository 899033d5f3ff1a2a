/**
 * DuckDB warehouse: one file under the data folder. The file is opened only while an operation runs
 * (and closed when the process goes idle), so `longhaul query`, a notebook or a test can read it
 * between loads; an operation that finds the file locked by another process waits and tries again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import { logger } from '../node/logger';
import type { Dialect } from './read';
import { WarehouseBase } from './warehouse-base';
import { csvFileRows, literal, q } from './duckdb-csv';
import { readCsvHeader } from './csv-header';
import { jsonFieldSql, jsonValuesSql } from './duckdb-json';
import { assertJsonFields } from './json-fields';
import { BAD_ROW_SAMPLES, emptyParseStats, overTolerance } from './file-rows';
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
  type JsonLoad,
  type JsonLoadResult,
  type LoadOptions,
  type LoadResult,
  type TableColumn,
  type Row,
  type TableSchema,
  type WriteMode,
  type ExportFormat,
  csvLoadMode,
  exportedColumns,
  type ResolvedWriteMode,
} from './warehouse';

export const DUCK_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'VARCHAR',
};

/** DuckDB's COPY options per export format. */
const EXPORT_OPTIONS: Record<ExportFormat, string> = {
  ndjson: 'FORMAT json',
  json: 'FORMAT json, ARRAY true',
  csv: 'FORMAT csv, HEADER true',
  parquet: 'FORMAT parquet, COMPRESSION zstd',
};

/** DuckDB's names of the types longhaul declares (JSON is VARCHAR: schemaDifferences knows). */
const FROM_DUCK: Record<string, ColumnType | undefined> = {
  VARCHAR: 'STRING',
  BIGINT: 'INT64',
  DOUBLE: 'FLOAT64',
  BOOLEAN: 'BOOL',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/**
 * How an apply step's rows get into its stage table, each with `_seq` (their order, for merges): as text
 * (`text`, cast on the way to the table) or typed (`typed`). Either returns how many rows it staged.
 */
type Staged = { text: (stage: string) => Promise<number> } | { typed: (stage: string) => Promise<number> };

/** The rows a replaceRange load owns: in the range and, with `where`, of the given values (SQL + parameters). */
function ownedRows(
  schema: TableSchema,
  mode: Extract<ResolvedWriteMode, { kind: 'replaceRange' }>,
): { sql: string; params: Record<string, string> } {
  const col = schema.columns.find((x) => x.name === mode.column)!;
  const conds = [`${q(col.name)} BETWEEN ${cast('$from', col.type)} AND ${cast('$to', col.type)}`];
  const params: Record<string, string> = { from: mode.from, to: mode.to };
  Object.entries(mode.where ?? {}).forEach(([k, v], i) => {
    const wc = schema.columns.find((x) => x.name === k)!;
    conds.push(`${q(wc.name)} = ${cast(`$w${i}`, wc.type)}`);
    params[`w${i}`] = v;
  });
  return { sql: conds.join(' AND '), params };
}

interface Spool {
  dir: string;
  file: string;
  rows: number;
  /** The longest line (bytes): read_json's buffer is sized on it, within DuckDB's memory limit. */
  maxLine: number;
}

/**
 * Writes the batches as newline-delimited JSON (every cell as its canonical text or null, plus `_seq`) to
 * a private temporary file, honouring the file stream's backpressure: memory stays bounded by one batch.
 */
async function spoolRows(schema: TableSchema, batches: AsyncIterable<Row[]>): Promise<Spool> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-duckdb-spool-'));
  const file = path.join(dir, 'rows.ndjson');
  const out = fs.createWriteStream(file, { mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let rows = 0;
  let maxLine = 0;
  try {
    for await (const batch of batches) {
      let chunk = '';
      for (const row of batch) {
        const rec: Record<string, string | number | null> = {};
        for (const col of schema.columns) rec[col.name] = toCell(row[col.name]);
        rec._seq = rows++;
        const line = JSON.stringify(rec);
        maxLine = Math.max(maxLine, Buffer.byteLength(line));
        chunk += line + '\n';
      }
      if (chunk && !out.write(chunk)) {
        await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      }
    }
    await Promise.race([new Promise<void>((r) => out.end(r)), failed]);
    return { dir, file, rows, maxLine };
  } catch (err) {
    out.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** read_json's `maximum_object_size` for lines of up to `maxLine` bytes (its buffers are twice that). */
const objectSize = (maxLine: number) => Math.max(1 << 20, 2 ** Math.ceil(Math.log2(maxLine + 2)));

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

/** As `cast`, NULL where `expr` is not a value of the type. */
function tryCast(expr: string, type: ColumnType): string {
  if (type === 'TIMESTAMP') return `(TRY_CAST(${expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')`;
  if (type === 'JSON') return `CAST(TRY_CAST(${expr} AS JSON) AS VARCHAR)`;
  return `TRY_CAST(${expr} AS ${DUCK_TYPES[type]})`;
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
  /** DuckDB's `memory_limit` (e.g. '256MB'): its buffers stay within it, large loads spill to `tempDirectory`. */
  memoryLimit?: string;
  /** DuckDB's `threads`. */
  threads?: number;
  /** DuckDB's `temp_directory` (spilled data). */
  tempDirectory?: string;
}

/** DuckDB's bounds in a worker (`DUCKDB_MEMORY_LIMIT`, `DUCKDB_THREADS`, `DUCKDB_TEMP_DIR`). */
type DuckDbBounds = Pick<DuckDbOptions, 'memoryLimit' | 'threads' | 'tempDirectory'>;

/**
 * The settings bounding a DuckDB instance — the warehouse's, and the scratch databases activities open in
 * the same process (DuckDB's own default is most of the machine's memory and all its cores).
 */
function duckDbSettings({ memoryLimit, threads, tempDirectory }: DuckDbBounds): Record<string, string> {
  if (tempDirectory) fs.mkdirSync(tempDirectory, { recursive: true });
  return {
    ...(memoryLimit ? { memory_limit: memoryLimit } : {}),
    ...(threads ? { threads: String(threads) } : {}),
    ...(tempDirectory ? { temp_directory: tempDirectory } : {}),
  };
}

/** DuckDB ran out of memory within a worker's bounds (the message names the variables; DuckDB's error is its cause). */
class DuckDbMemoryError extends Error {}

/** DuckDB's words for running out of memory (an appender's error drops the "Out of Memory Error" prefix). */
const OUT_OF_MEMORY =
  /Out of Memory Error|could not allocate block of size|failed to (allocate|pin) (data|block) of size/i;

/**
 * DuckDB's out-of-memory error says how to raise its limit in SQL; a worker's operator sets it in the
 * environment, so the error becomes one naming the variables. Other errors pass unchanged.
 */
function duckDbOutOfMemory(err: unknown, { memoryLimit, threads }: DuckDbBounds): unknown {
  const said = err instanceof Error ? err.message : String(err);
  if (err instanceof DuckDbMemoryError || !OUT_OF_MEMORY.test(said)) return err;
  return new DuckDbMemoryError(
    `DuckDB ran out of memory within its limit (DUCKDB_MEMORY_LIMIT=${memoryLimit ?? 'unset: its own default'}, ` +
      `DUCKDB_THREADS=${threads ?? 'unset'}): raise DUCKDB_MEMORY_LIMIT or lower DUCKDB_THREADS ` +
      `(docs/operations.md). DuckDB said: ${said.split('\n')[0]}`,
    { cause: err },
  );
}

/** The bounds a scratch database takes from the worker (it spills to its own folder, not DUCKDB_TEMP_DIR). */
export type ScratchBounds = Omit<DuckDbBounds, 'tempDirectory'>;

/**
 * Runs `fn` with a scratch DuckDB database of its own — a file `<name>.duckdb` in a fresh temporary folder
 * (`dir`, where it also spills), bounded as the worker's warehouse is — then closes and removes it. Running out
 * of memory inside `fn` fails with the error naming the worker's variables.
 */
export async function withScratchDuckDb<T>(
  name: string,
  bounds: ScratchBounds,
  fn: (scratch: { db: DuckDBInstance; conn: DuckDBConnection; dir: string }) => Promise<T>,
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  try {
    const db = await DuckDBInstance.create(path.join(dir, `${name}.duckdb`), duckDbSettings(bounds));
    try {
      const conn = await db.connect();
      try {
        return await fn({ db, conn, dir });
      } finally {
        conn.closeSync();
      }
    } finally {
      db.closeSync();
    }
  } catch (err) {
    throw duckDbOutOfMemory(err, bounds);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A merge's "last row wins", as a condition on the rows of `table` (quoted): each key's row with the largest
 * `_seq`, which must be unique. Found from the keys (SQL expressions) and `_seq` alone — a window over whole rows
 * (`QUALIFY row_number() OVER (PARTITION BY …)`) holds every column of every row in memory, and ran out of a
 * worker's 256MB merging 600,000 YouTube videos of 75 columns.
 */
export const lastOfEachKey = (table: string, keys: string[]) =>
  `_seq IN (SELECT max(_seq) FROM ${table} GROUP BY ${keys.join(', ')})`;

export class DuckDbWarehouse extends WarehouseBase {
  readonly kind = 'duckdb' as const;
  protected readonly readDialect: Dialect = { table: q, ident: q, param: (n) => `$${n}`, cast: (e, t) => cast(e, t) };
  private instance?: DuckDBInstance;
  /** The instance being opened (connections asked meanwhile share it). */
  private opening?: Promise<DuckDBInstance>;
  private users = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Tables checked against a declared schema by this instance: name → the columns checked. */
  private readonly known = new Map<string, string>();

  constructor(private readonly opts: DuckDbOptions) {
    super();
    fs.mkdirSync(path.dirname(opts.path), { recursive: true });
  }

  /** Runs `fn` with a connection; operations of this process are serialized (one writer at a time). */
  private withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = () => this.withOwnConnection(fn);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Runs `fn` with a connection of its own, outside this process's queue: for a load that holds one
   * transaction while its files arrive (`loadCsv`). DuckDB isolates it from the queued operations; appends
   * never conflict, and the rows it deletes (its own range of a table) are no other load's.
   */
  private async withOwnConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } catch (err) {
      throw duckDbOutOfMemory(err, this.opts);
    } finally {
      conn.closeSync();
      this.release();
    }
  }

  private async acquire(): Promise<DuckDBConnection> {
    const deadline = Date.now() + (this.opts.lockTimeoutMs ?? 60_000);
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      // Counted before the instance is awaited: a release meanwhile does not close what this connects to.
      this.users++;
      try {
        if (!this.instance) {
          this.opening ??= DuckDBInstance.create(this.opts.path, duckDbSettings(this.opts));
          this.instance = await this.opening.finally(() => (this.opening = undefined));
        }
        const conn = await this.instance.connect();
        // Text without offset loaded into a TIMESTAMP is UTC, as in BigQuery (see cast()).
        await conn.run("SET TimeZone = 'UTC'");
        return conn;
      } catch (err) {
        this.release();
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

  /**
   * Creates the table, or moves an existing one to the declared schema: declared nullable columns it lacks are
   * added (and logged); an incompatible difference fails with IncompatibleTableError, changing nothing.
   */
  async ensureTable(schema: TableSchema): Promise<void> {
    assertSchema(schema);
    const shape = JSON.stringify(schema.columns);
    if (this.known.get(schema.name) === shape) return;
    const existing = await this.describeTable(schema.name);
    if (!existing) await this.withConnection((c) => c.run(this.createSql(schema)));
    else {
      const { add, incompatible } = planEvolution(schema, existing);
      if (incompatible.length) throw new IncompatibleTableError(schema.name, incompatible);
      if (add.length) {
        await this.withConnection(async (c) => {
          for (const col of add)
            await c.run(
              `ALTER TABLE ${q(schema.name)} ADD COLUMN IF NOT EXISTS ${q(col.name)} ${DUCK_TYPES[col.type]}`,
            );
        });
        logger.warn(
          { table: schema.name, added: add.map((c) => c.name) },
          `table ${schema.name}: added column(s) ${add.map((c) => `${c.name} ${c.type}`).join(', ')} (declared, nullable)`,
        );
      }
    }
    this.known.set(schema.name, shape);
  }

  async describeTable(name: string): Promise<TableColumn[] | undefined> {
    const rows = await this.withConnection(async (c) => {
      const r = await c.runAndReadAll(
        'SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns ' +
          "WHERE table_schema = 'main' AND lower(table_name) = lower($t) AND table_catalog = current_database() " +
          'ORDER BY ordinal_position',
        { t: name },
      );
      return r.getRowObjectsJS() as { name: string; type: string; nullable: string }[];
    });
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      name: r.name,
      type: FROM_DUCK[r.type.toUpperCase()],
      nativeType: r.type,
      nullable: r.nullable !== 'NO',
    }));
  }

  /**
   * Spools the caller's batches to a file first (outside the per-process queue: a slow download holds no
   * lock and makes no other operation of this worker wait), then takes the queue only for the short
   * step: stage the file, check it, and apply it in one transaction.
   */
  protected async loadRows(
    schema: TableSchema,
    mode: ResolvedWriteMode,
    batches: AsyncIterable<Row[]>,
    opts: LoadOptions,
  ): Promise<LoadResult> {
    const spool = await spoolRows(schema, batches);
    try {
      return await this.withConnection((c) =>
        this.apply(c, schema, mode, opts.signal, {
          text: async (stage) => {
            if (spool.rows > 0) {
              const names = schema.columns.map((col) => col.name);
              const columns = `{${[...names.map((n) => `${literal(n)}: 'VARCHAR'`), "'_seq': 'BIGINT'"].join(', ')}}`;
              await c.run(
                `INSERT INTO temp.${q(stage)} SELECT ${[...names.map(q), '_seq'].join(', ')} FROM read_json(${literal(spool.file)}, ` +
                  `format = 'newline_delimited', columns = ${columns}, maximum_object_size = ${objectSize(spool.maxLine)})`,
              );
            }
            return spool.rows;
          },
        }),
      );
    } finally {
      fs.rmSync(spool.dir, { recursive: true, force: true });
    }
  }

  /**
   * Landed CSV files through DuckDB's own reader (`read_csv`: quotes, BOM, CRLF, gzip; the malformed records
   * in its rejects table), typed and checked in SQL with the same rules as the JavaScript reader
   * (src/kit/activity/csv.ts) — an integer is digits, a date YYYY-MM-DD, … (DuckDB's own casts would round
   * "1.5" into an integer column). `files.paths` may be a sequence that lands the files one by one: each is
   * read as it arrives, while the next one downloads, straight into the table inside one transaction of a
   * connection of its own (begun at the first file, committed after the last: nobody sees a part of the load,
   * and the rows are written once). A merge stages the rows first (it dedupes them), then applies like `load`.
   */
  async loadCsv(
    schema: TableSchema,
    files: CsvLoad,
    declaredOr?: WriteMode,
    opts: LoadOptions = {},
  ): Promise<CsvLoadResult> {
    const mode = csvLoadMode(schema, files, declaredOr);
    await this.ensureTable(schema);
    const stats = emptyParseStats();
    const max = files.maxBadRows ?? 0;
    // The bad rows in file and line order, as many as the samples and the tolerance need.
    const bad: string[] = [];
    const names = schema.columns.map((col) => q(col.name)).join(', ');
    const owned = mode.kind === 'replaceRange' ? ownedRows(schema, mode) : undefined;
    const typedCasts = { typed: cast, tryTyped: tryCast };
    /** Reads every file, handing each one's good rows to `write`; returns how many rows were written. */
    const readAll = async (c: DuckDBConnection, write: (goodRows: string) => Promise<void>): Promise<number> => {
      let rows = 0;
      let f = 0;
      for await (const file of files.paths) {
        const i = f++;
        stats.files++;
        // Past the tolerance the load fails: the files still to come are taken (they land) but not read.
        if (stats.badRows > max) continue;
        assertNotAborted(opts.signal, schema.name);
        const header = await readCsvHeader(file, i, files.fileColumns);
        const want = Math.max(0, Math.max(BAD_ROW_SAMPLES, max + 1) - bad.length);
        // A file's rows are numbered (`_seq`, for a merge's last row wins) from stats.rowsParsed: past every
        // record of the files before it, bad ones too (its good rows' numbers skip its bad ones), so no two
        // rows of a load share a number.
        const r = await csvFileRows(c, schema, files, i, header, stats.rowsParsed, want, typedCasts, write);
        rows += r.good;
        stats.rowsParsed += r.good + r.bad;
        stats.badRows += r.bad;
        bad.push(...r.samples.map((x) => x.text));
      }
      stats.badRowSamples = bad.slice(0, BAD_ROW_SAMPLES);
      // As the JavaScript reader: the error names the row that takes the count past the tolerance.
      if (stats.badRows > max) throw overTolerance(bad[max]!, max + 1, max);
      return rows;
    };
    if (mode.kind === 'merge') {
      const result = await this.withConnection((c) =>
        this.apply(c, schema, mode, opts.signal, {
          typed: (stage) => readAll(c, (good) => c.run(`INSERT INTO temp.${q(stage)} ${good}`).then(() => undefined)),
        }),
      );
      return { ...result, ...stats };
    }
    const rowsLoaded = await this.withOwnConnection(async (c) => {
      await c.run('BEGIN TRANSACTION');
      try {
        if (owned) await c.run(`DELETE FROM ${q(schema.name)} WHERE ${owned.sql}`, owned.params);
        const rows = await readAll(c, async (good) => {
          if (owned) {
            // Nothing outside the rows this load owns is written (the whole load rolls back).
            const r = await c.runAndReadAll(
              `SELECT count(*) AS n FROM (${good}) WHERE (${owned.sql}) IS NOT TRUE`,
              owned.params,
            );
            const outside = Number(r.getRowObjectsJS()[0]?.n);
            if (outside > 0 && mode.kind === 'replaceRange') throw outsideRange(schema, mode, outside);
          }
          await c.run(`INSERT INTO ${q(schema.name)} (${names}) SELECT ${names} FROM (${good})`);
        });
        // An attempt given up meanwhile (cancelled, timed out: a retry may be loading) must not commit.
        assertNotAborted(opts.signal, schema.name);
        await c.run('COMMIT');
        return rows;
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    return { rowsLoaded, ...stats };
  }

  /**
   * NDJSON files read by DuckDB itself (`read_ndjson_objects`), each record's fields read in SQL by the
   * mapping (src/sinks/duckdb-json.ts) into the text `jsonRow` gives, then staged and applied as `load`
   * applies its rows — no record parsed in JavaScript.
   */
  async loadJson(
    schema: TableSchema,
    files: JsonLoad,
    declaredOr?: WriteMode,
    opts: LoadOptions = {},
  ): Promise<JsonLoadResult> {
    assertJsonFields(files.fields);
    // Each record's `_seq` must be unique (a merge keeps its key's largest): a file listed twice would be read
    // twice and joined to both entries of its constants.
    const seen = new Set<string>();
    for (const f of files.files) {
      if (seen.has(f.path)) throw new Error(`loadJson: ${f.path} is listed twice (each file is read once)`);
      seen.add(f.path);
    }
    const mode = await this.prepareLoad(schema, declaredOr);
    const constantNames = [...new Set(files.files.flatMap((f) => Object.keys(f.constants ?? {})))];
    const values = schema.columns.map((col) => {
      const i = files.fields.findIndex((f) => f.column === col.name);
      if (i >= 0) return jsonFieldSql(files.fields[i]!, i);
      return constantNames.includes(col.name) ? `k.${q(col.name)}` : 'CAST(NULL AS VARCHAR)';
    });
    let rowsParsed = 0;
    const result = await this.withConnection((c) =>
      this.apply(c, schema, mode, opts.signal, {
        text: async (stage) => {
          if (!files.files.length) return 0;
          const list = `[${files.files.map((f) => literal(f.path)).join(', ')}]`;
          // Each file's constants, joined on the file name the reader gives every record.
          const keys = files.files
            .map(
              (f) => `(${[literal(f.path), ...constantNames.map((n) => literal(f.constants?.[n] ?? ''))].join(', ')})`,
            )
            .join(', ');
          const kCols = ['file', ...constantNames.map(q)].join(', ');
          const names = [...schema.columns.map((col) => q(col.name)), '_seq'].join(', ');
          await c.run(
            `INSERT INTO temp.${q(stage)} (${names}) SELECT ${values.join(', ')}, r._seq ` +
              `FROM (SELECT ${jsonValuesSql(files.fields)} AS v, filename, row_number() OVER () AS _seq ` +
              `FROM read_ndjson_objects(${list}, filename = true)) r ` +
              `JOIN (VALUES ${keys}) AS k(${kCols}) ON r.filename = k.file`,
          );
          const counted = await c.runAndReadAll(`SELECT count(*) AS n FROM temp.${q(stage)}`);
          rowsParsed = Number(counted.getRowObjectsJS()[0]?.n);
          return rowsParsed;
        },
      }),
    );
    return { ...result, rowsParsed };
  }

  /**
   * Stages the rows (see Staged: with `_seq`), checks them against `mode`, and applies them to the table in
   * one transaction.
   */
  private async apply(
    c: DuckDBConnection,
    schema: TableSchema,
    mode: ResolvedWriteMode,
    signal: AbortSignal | undefined,
    staged: Staged,
  ): Promise<LoadResult> {
    assertNotAborted(signal, schema.name); // e.g. timed out while waiting for the queue
    await c.run(this.createSql(schema));
    const stage = `_stage_${schema.name}`;
    const names = schema.columns.map((col) => col.name);
    const typed = 'typed' in staged;
    const stageCols = [
      ...schema.columns.map((col) => `${q(col.name)} ${typed ? DUCK_TYPES[col.type] : 'VARCHAR'}`),
      '_seq BIGINT',
    ];
    await c.run(`CREATE OR REPLACE TEMP TABLE ${q(stage)} (${stageCols.join(', ')})`);
    try {
      const stagedRows = await ('typed' in staged ? staged.typed : staged.text)(stage);
      const casts = schema.columns.map((col) =>
        typed ? q(col.name) : `${cast(q(col.name), col.type)} AS ${q(col.name)}`,
      );
      let source = `SELECT ${casts.join(', ')} FROM ${q(stage)}`;
      let rowsLoaded = stagedRows;
      if (mode.kind === 'merge') {
        // Dedupe on the typed keys (text '2024-01-02T03:00Z' and '…05:00+02:00' are one key): last row wins.
        // Only the kept rows are converted, so a value that does not convert in a row a later one replaces does
        // not fail the load (as on BigQuery, which deletes the replaced rows from its stage first).
        const keys = mode.keys.map((k) => {
          const col = schema.columns.find((x) => x.name === k)!;
          return typed ? q(k) : cast(q(k), col.type);
        });
        source = `SELECT ${casts.join(', ')} FROM ${q(stage)} WHERE ${lastOfEachKey(q(stage), keys)}`;
        const r = await c.runAndReadAll(`SELECT count(*) AS n FROM (${source})`);
        rowsLoaded = Number(r.getRowObjectsJS()[0]?.n);
      }
      const owned = mode.kind === 'replaceRange' ? ownedRows(schema, mode) : undefined;
      if (mode.kind === 'replaceRange') {
        const r = await c.runAndReadAll(
          `SELECT count(*) AS n FROM (${source}) WHERE (${owned!.sql}) IS NOT TRUE`,
          owned!.params,
        );
        const outside = Number(r.getRowObjectsJS()[0]?.n);
        if (outside > 0) throw outsideRange(schema, mode, outside);
      }
      await c.run('BEGIN TRANSACTION');
      try {
        if (owned) {
          await c.run(`DELETE FROM ${q(schema.name)} WHERE ${owned.sql}`, owned.params);
        } else if (mode.kind === 'merge') {
          const keys = mode.keys.map(q).join(', ');
          await c.run(`DELETE FROM ${q(schema.name)} WHERE (${keys}) IN (SELECT ${keys} FROM (${source}))`);
        }
        await c.run(`INSERT INTO ${q(schema.name)} (${names.map(q).join(', ')}) ${source}`);
        // An attempt given up meanwhile (cancelled, timed out: a retry may be loading) must not commit.
        assertNotAborted(signal, schema.name);
        await c.run('COMMIT');
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return { rowsLoaded };
    } finally {
      await c.run(`DROP TABLE IF EXISTS temp.${q(stage)}`).catch(() => undefined);
    }
  }

  async exportTable(name: string, format: ExportFormat, file: string): Promise<{ rows: number }> {
    const columns = await exportedColumns(this, name);
    // Text formats: timestamps as query results give them (ISO 8601 UTC, milliseconds); Parquet keeps types.
    const select = columns
      .map((c) =>
        format !== 'parquet' && c.nativeType.startsWith('TIMESTAMP')
          ? `strftime(${q(c.name)}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${q(c.name)}`
          : q(c.name),
      )
      .join(', ');
    const options = EXPORT_OPTIONS[format];
    const [row] = await this.withConnection(async (c) =>
      (
        await c.runAndReadAll(`COPY (SELECT ${select} FROM ${q(name)}) TO ${literal(file)} (${options})`)
      ).getRowObjectsJS(),
    );
    return { rows: Number(row?.Count ?? 0) };
  }

  protected async dropChecked(name: string): Promise<void> {
    await this.withConnection((c) => c.run(`DROP TABLE IF EXISTS ${q(name)}`));
    this.known.delete(name);
  }

  async listTables(): Promise<string[]> {
    const rows = await this.withConnection(async (c) => {
      const r = await c.runAndReadAll(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' " +
          'AND table_catalog = current_database() ORDER BY 1',
      );
      return r.getRowObjectsJS() as { name: string }[];
    });
    return rows.map((r) => r.name);
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
