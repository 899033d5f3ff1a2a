/**
 * Titelive parse: reads the run's raw pages from the bucket, turns every product into article rows
 * (pure functions in pipelines/titelive/connector/parse.ts), de-duplicates on (product id, article id) — the same
 * product can come back in several queries — and writes one Parquet file (DuckDB `COPY … (FORMAT
 * PARQUET)` from a temporary DuckDB file) to the bucket, merges the same rows into the warehouse
 * table, and writes the image work list (recto/verso per article) as gzip NDJSON chunks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Bucket } from '../../../sinks/bucket';
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
  /** Articles modified before this day are dropped. */
  minModifiedDate: string;
  /** Images per work-list chunk. */
  imageBatch: number;
}

export interface ParseOutcome extends ParseStats {
  rawPages: number;
  /** Rows after de-duplication (= Parquet rows = rows merged into the table). */
  uniqueRows: number;
  parquetKey: string;
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
export const parquetKeyOf = (category: string, runId: string) =>
  `titelive/parquet/${category}/${runId}/products.parquet`;
export const imageChunkKey = (prefix: string, i: number) => `${prefix}images-${String(i).padStart(5, '0')}.ndjson.gz`;

/** Yields the raw products of every page under a prefix (one page in memory at a time). */
async function* rawProducts(bucket: Bucket, prefix: string, onPage: (i: number) => void) {
  const pages = (await bucket.list(prefix)).filter((o) => o.key.endsWith('.ndjson.gz'));
  for (let i = 0; i < pages.length; i++) {
    const text = gunzipSync(await bucket.get(pages[i].key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const rec = JSON.parse(line) as { id: string; data: string };
      yield JSON.parse(rec.data) as Record<string, unknown>;
    }
    onPage(i + 1);
  }
}

export function createTiteliveParseActivities({ bucket, warehouse }: { bucket: Bucket; warehouse: Warehouse }) {
  async function parse(args: ParseArgs, progress: Record<string, number>): Promise<ParseOutcome> {
    /** What the next heartbeat reports. */
    const note = (d: Record<string, number>) => Object.assign(progress, d);
    const cols = TITELIVE_PRODUCTS_TABLE.columns;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'titelive-parse-'));
    const db = await DuckDBInstance.create(path.join(tmp, 'parse.duckdb')); // on disk: bounded memory
    const conn: DuckDBConnection = await db.connect();
    try {
      await conn.run(`CREATE TABLE stage (${cols.map((c) => `${q(c.name)} VARCHAR`).join(', ')}, _seq BIGINT)`);
      const stats = emptyStats();
      const extractedAt = new Date().toISOString();
      let seq = 0;
      let rawPages = 0;
      const appender = await conn.createAppender('stage');
      for await (const raw of rawProducts(bucket, rawPrefix(args.category, args.runId), (i) => {
        rawPages = i;
        appender.flushSync();
        note({ page: i });
      })) {
        const rows = parseProduct(
          raw,
          { category: args.category, runId: args.runId, extractedAt, minModifiedDate: args.minModifiedDate },
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
      // One row per (product id, article id): the last one read wins.
      const casts = cols.map((c) => `CAST(${q(c.name)} AS ${SQL_TYPES[c.type]}) AS ${q(c.name)}`).join(', ');
      const keys = PRODUCT_KEYS.map(q).join(', ');
      await conn.run(
        `CREATE TABLE final AS SELECT ${casts} FROM stage QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY _seq DESC) = 1 ORDER BY ${keys}`,
      );
      const file = path.join(tmp, 'products.parquet');
      await conn.run(`COPY final TO '${file.replace(/'/g, "''")}' (FORMAT PARQUET, COMPRESSION ZSTD)`);
      const parquetKey = parquetKeyOf(args.category, args.runId);
      await bucket.put(parquetKey, fs.createReadStream(file), { contentType: 'application/vnd.apache.parquet' });

      // The same rows into the warehouse (merge on the keys), read back in batches as text.
      const uniqueRows = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM final')).getRowObjectsJS()[0].n);
      const textCols = cols.map((c) => `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}`).join(', ');
      async function* batches(): AsyncGenerator<Row[]> {
        for (let off = 0; off < uniqueRows; off += 5000) {
          const r = await conn.runAndReadAll(`SELECT ${textCols} FROM final ORDER BY ${keys} LIMIT 5000 OFFSET ${off}`);
          note({ loaded: off });
          yield r.getRowObjectsJS() as Row[];
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
      for (let off = 0; off < uniqueRows; off += 5000) {
        const r = await conn.runAndReadAll(
          `SELECT id, article_id, article_imagesUrl FROM final ORDER BY ${keys} LIMIT 5000 OFFSET ${off}`,
        );
        note({ imagesListed: images });
        for (const row of r.getRowObjectsJS() as Row[])
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
        table: TITELIVE_PRODUCTS_TABLE.name,
        images,
        imageChunks,
        imageChunkPrefix,
      };
    } finally {
      conn.closeSync();
      db.closeSync();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
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
