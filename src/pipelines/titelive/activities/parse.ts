/**
 * Titelive parse: reads the run's raw pages from the bucket — or, parse only, a raw Parquet file (`id`, `data`)
 * named by `parseFrom` — turns every product into article rows (pure functions in
 * pipelines/titelive/connector/parse.ts), de-duplicates on (product id, article id) — the same product can come
 * back in several queries — and writes one Parquet file (DuckDB `COPY … (FORMAT PARQUET)` from a temporary
 * DuckDB file) to the bucket, merges the same rows into the warehouse table, and writes the image work list
 * (recto/verso per article) as gzip NDJSON chunks. When asked (`rawOutput`), the raw products read go to a
 * Parquet file too (`id`, `data`: the replaced extract script's output). `titeliveImagesParquet` joins the
 * parsed Parquet with the run's image results into the replaced images script's output (8 recto/verso columns).
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Bucket } from '../../../sinks/bucket';
import { literal } from '../../../sinks/duckdb-csv';
import { lastOfEachKey, withScratchDuckDb, type ScratchBounds } from '../../../sinks/duckdb';
import { openInput, type InputSource } from '../../../kit/activity/input';
import type { ColumnType, Row, Warehouse } from '../../../sinks/warehouse';
import {
  emptyStats,
  imagesOf,
  parseProduct,
  PRODUCT_KEYS,
  TITELIVE_PRODUCTS_TABLE,
  type ImageRef,
  type ParseStats,
} from '../connector/parse';
import { rawPrefix } from './extract';

export interface ParseArgs {
  runId: string;
  category: string;
  /** Articles modified before this day are dropped (parse only: none dropped when absent). */
  minModifiedDate?: string;
  /** Images per work-list chunk. */
  imageBatch: number;
  /** Parse only (`parseFrom`): read the products from this raw Parquet file instead of the run's pages. */
  source?: string;
  /** Bucket key of the parsed Parquet (`parsedOutput`); default parquetKeyOf(category, runId). */
  parsedKey?: string;
  /** Also write the raw products read (`id`, `data`; one per product id) as Parquet at this key (`rawOutput`). */
  rawKey?: string;
}

export interface ParseOutcome extends ParseStats {
  rawPages: number;
  /** Rows after de-duplication (= Parquet rows = rows merged into the table). */
  uniqueRows: number;
  parquetKey: string;
  /** Where the raw products went as Parquet (rawKey), if asked. */
  rawKey?: string;
  table: string;
  images: number;
  imageChunks: number;
  imageChunkPrefix: string;
}

const SQL_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  JSON: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};
const q = (s: string) => `"${s}"`;
const PARQUET = 'application/vnd.apache.parquet';
export const parquetKeyOf = (category: string, runId: string) =>
  `titelive/parquet/${category}/${runId}/products.parquet`;
export const imageChunkKey = (prefix: string, i: number) => `${prefix}images-${String(i).padStart(5, '0')}.ndjson.gz`;

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidInput');
/** The flag a parse-only source is named by in errors. */
const PARSE_FROM = '--parse-from';

interface RawProduct {
  id: string;
  data: string;
}

/** Yields the raw products of every page under a prefix (one page in memory at a time). */
async function* pageProducts(bucket: Bucket, prefix: string, onPage: (i: number) => void): AsyncGenerator<RawProduct> {
  const pages = (await bucket.list(prefix)).filter((o) => o.key.endsWith('.ndjson.gz'));
  for (let i = 0; i < pages.length; i++) {
    const text = gunzipSync(await bucket.get(pages[i].key)).toString('utf8');
    for (const line of text.split('\n')) if (line) yield JSON.parse(line) as RawProduct;
    onPage(i + 1);
  }
}

/**
 * Yields the products of a raw Parquet file (`id`, `data`: the replaced extract script's output, or longhaul's
 * `rawOutput`) in batches of 1,000 rows. The file is read by DuckDB from the worker's input folder, or from a
 * private temporary copy of the S3 object. Errors name `--parse-from` and never quote the file's content.
 */
async function* rawParquet(
  conn: DuckDBConnection,
  ref: string,
  src: InputSource,
  tmp: string,
  onBatch: (rows: number) => void,
): AsyncGenerator<RawProduct> {
  try {
    const input = await openInput(ref, src, PARSE_FROM, 'raw Parquet file');
    let file = input.localPath;
    if (!file) {
      file = path.join(tmp, 'raw-input.parquet');
      await pipeline(await input.stream(), fs.createWriteStream(file, { mode: 0o600 }));
    }
    // DuckDB's own messages may quote the file (an invalid UTF-8 value, say): every read of it is caught and told
    // in our words only.
    const unreadable = (what: string) => refuse(`${PARSE_FROM}: ${ref} ${what} (DuckDB could not read it)`);
    let columns: Map<string, string>;
    try {
      const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`);
      columns = new Map(
        (d.getRowObjectsJS() as { column_name: string; column_type: string }[]).map((c) => [
          c.column_name,
          c.column_type,
        ]),
      );
    } catch {
      throw refuse(`${PARSE_FROM}: ${ref} is not a Parquet file DuckDB can read`);
    }
    for (const c of ['id', 'data'])
      if (!columns.has(c))
        throw refuse(
          `${PARSE_FROM}: ${ref} has no "${c}" column (a raw file has id and data: the raw products as JSON` +
            `; it has ${columns.size} column(s), not named here: a file's content is never quoted)`,
        );
    let total: number;
    try {
      await conn.run(
        `CREATE TEMP TABLE raw_input AS SELECT row_number() OVER () AS n, CAST(id AS VARCHAR) AS id, CAST(data AS VARCHAR) AS data FROM read_parquet(${literal(file)})`,
      );
      total = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM raw_input')).getRowObjectsJS()[0].n);
    } catch {
      throw unreadable('has values that are not text');
    }
    for (let from = 0; from < total; from += 1000) {
      let rows: { n: bigint; id: string | null; data: string | null }[];
      try {
        const r = await conn.runAndReadAll(
          `SELECT n, id, data FROM raw_input WHERE n > ${from} AND n <= ${from + 1000} ORDER BY n`,
        );
        rows = r.getRowObjectsJS() as typeof rows;
      } catch {
        throw unreadable(`rows ${from + 1}..${from + 1000} cannot be read`);
      }
      for (const row of rows) {
        if (row.data === null) throw refuse(`${PARSE_FROM}: ${ref}, row ${row.n}: data is null`);
        yield { id: row.id ?? '', data: row.data };
      }
      onBatch(Math.min(from + 1000, total));
    }
  } finally {
    // Also when the read fails, or the consumer stops early (a row refused): the connection and its table go.
    conn.closeSync();
  }
}

/** A raw product's JSON, which must be an object; `where` names it in the error. */
function productOf(raw: RawProduct, where: () => string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw.data);
  } catch {
    throw refuse(`${where()}: data is not JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw refuse(`${where()}: data is not a JSON object`);
  return v as Record<string, unknown>;
}

/** The rows of `sql` in batches of at least `size` (the last one smaller), read once as DuckDB streams them. */
async function* streamed(conn: DuckDBConnection, sql: string, size = 5000): AsyncGenerator<Row[]> {
  const result = await conn.stream(sql);
  let batch: Row[] = [];
  for await (const rows of result.yieldRowObjectJs()) {
    batch.push(...(rows as Row[]));
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** What an activity with a scratch DuckDB database needs: the sinks, and the worker's bounds for it. */
export interface ScratchDeps {
  bucket: Bucket;
  warehouse: Warehouse;
  /** The worker's DuckDB bounds, for the scratch database. */
  duckdb?: ScratchBounds;
}

export function createTiteliveParseActivities({
  bucket,
  warehouse,
  inputDir,
  s3,
  duckdb = {},
}: ScratchDeps & Partial<Omit<InputSource, 'bucket'>>) {
  const src = (): InputSource => {
    if (!inputDir) throw new Error('titelive parse: no input folder given to read --parse-from from');
    return { bucket, inputDir, ...(s3 ? { s3 } : {}) };
  };
  async function parse(args: ParseArgs, progress: Record<string, number>): Promise<ParseOutcome> {
    /** What the next heartbeat reports. */
    const note = (d: Record<string, number>) => Object.assign(progress, d);
    const cols = TITELIVE_PRODUCTS_TABLE.columns;
    // On disk, bounded as the worker's warehouse is: beyond the limit it spills to its folder.
    return withScratchDuckDb('titelive-parse', duckdb, async ({ db, conn, dir: tmp }) => {
      await conn.run(`CREATE TABLE stage (${cols.map((c) => `${q(c.name)} VARCHAR`).join(', ')}, _seq BIGINT)`);
      if (args.rawKey) await conn.run('CREATE TABLE raw (id VARCHAR, data VARCHAR, _seq BIGINT)');
      const stats = emptyStats();
      const extractedAt = new Date().toISOString();
      let seq = 0;
      let rawPages = 0;
      let read = 0;
      const appender = await conn.createAppender('stage');
      const rawAppender = args.rawKey ? await conn.createAppender('raw') : undefined;
      const flushed = () => {
        appender.flushSync();
        rawAppender?.flushSync();
      };
      // The raw Parquet is read on a connection of its own: `conn` holds the appenders.
      const source = args.source
        ? rawParquet(await db.connect(), args.source, src(), tmp, (rows) => {
            flushed();
            note({ rowsRead: rows });
          })
        : pageProducts(bucket, rawPrefix(args.category, args.runId), (i) => {
            rawPages = i;
            flushed();
            note({ page: i });
          });
      for await (const raw of source) {
        read++;
        const product = args.source
          ? productOf(raw, () => `${PARSE_FROM}: ${args.source}, row ${read}`)
          : (JSON.parse(raw.data) as Record<string, unknown>);
        if (rawAppender) {
          rawAppender.appendVarchar(raw.id);
          rawAppender.appendVarchar(raw.data);
          rawAppender.appendBigInt(BigInt(read));
          rawAppender.endRow();
        }
        const rows = parseProduct(
          product,
          {
            category: args.category,
            runId: args.runId,
            extractedAt,
            ...(args.minModifiedDate ? { minModifiedDate: args.minModifiedDate } : {}),
          },
          stats,
        );
        for (const row of rows) {
          for (const c of cols) {
            const v = row[c.name];
            if (v === null || v === undefined) appender.appendNull();
            else appender.appendVarchar(typeof v === 'boolean' ? String(v) : String(v));
          }
          appender.appendBigInt(BigInt(seq++));
          appender.endRow();
        }
      }
      appender.closeSync();
      rawAppender?.closeSync();
      // One row per (product id, article id): the last one read wins.
      const casts = cols.map((c) => `CAST(${q(c.name)} AS ${SQL_TYPES[c.type]}) AS ${q(c.name)}`).join(', ');
      const keys = PRODUCT_KEYS.map(q);
      await conn.run(
        `CREATE TABLE final AS SELECT ${casts} FROM stage WHERE ${lastOfEachKey('stage', keys)} ORDER BY ${keys.join(', ')}`,
      );
      const file = path.join(tmp, 'products.parquet');
      await conn.run(`COPY final TO ${literal(file)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
      const parquetKey = args.parsedKey ?? parquetKeyOf(args.category, args.runId);
      await bucket.put(parquetKey, fs.createReadStream(file), { contentType: PARQUET });
      if (args.rawKey) {
        // One row per product id (a product can come back in several queries): the last one read wins.
        const rawFile = path.join(tmp, 'raw.parquet');
        await conn.run(
          `COPY (SELECT id, data FROM raw WHERE ${lastOfEachKey('raw', ['id'])} ORDER BY id) ` +
            `TO ${literal(rawFile)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
        );
        await bucket.put(args.rawKey, fs.createReadStream(rawFile), { contentType: PARQUET });
      }

      // The same rows into the warehouse (merge on the keys), read back once as text, in batches. `final` was
      // written in key order, and a scan keeps it (DuckDB preserves insertion order): no batch sorts the
      // table again (an ORDER BY … OFFSET per batch sorted every row of it each time, beyond the memory limit).
      const uniqueRows = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM final')).getRowObjectsJS()[0].n);
      const textCols = cols.map((c) => `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}`).join(', ');
      async function* batches(): AsyncGenerator<Row[]> {
        let loaded = 0;
        for await (const b of streamed(conn, `SELECT ${textCols} FROM final`)) {
          note({ loaded });
          loaded += b.length;
          yield b;
        }
      }
      await warehouse.load(TITELIVE_PRODUCTS_TABLE, batches());

      // The image work list, in chunks the images activity takes one at a time.
      const imageChunkPrefix = `titelive/runs/${args.category}/${args.runId}/`;
      let images = 0;
      let chunk: ImageRef[] = [];
      let imageChunks = 0;
      const flush = async () => {
        if (!chunk.length) return;
        const body = chunk.map((x) => JSON.stringify(x)).join('\n') + '\n';
        await bucket.put(imageChunkKey(imageChunkPrefix, ++imageChunks), gzipSync(Buffer.from(body)));
        chunk = [];
      };
      for await (const b of streamed(conn, 'SELECT id, article_id, article_imagesUrl FROM final')) {
        note({ imagesListed: images });
        for (const row of b)
          for (const ref of imagesOf(row)) {
            chunk.push(ref);
            images++;
            if (chunk.length >= args.imageBatch) await flush();
          }
      }
      await flush();
      return {
        ...stats,
        rawPages,
        uniqueRows,
        parquetKey,
        ...(args.rawKey ? { rawKey: args.rawKey } : {}),
        table: TITELIVE_PRODUCTS_TABLE.name,
        images,
        imageChunks,
        imageChunkPrefix,
      };
    });
  }

  return {
    async titeliveParse(args: ParseArgs): Promise<ParseOutcome> {
      // Progress (pages read, rows loaded, images listed) is heartbeated on a timer too: the warehouse's
      // commit and the Parquet write have no place to report from.
      const progress: Record<string, number> = {};
      return heartbeating(() => parse(args, progress), { details: () => progress });
    },
  };
}
