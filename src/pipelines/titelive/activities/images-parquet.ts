/**
 * Titelive's images hand-off file (`imagesOutput`, the replaced images script's `--output-parquet-path`): the
 * run's parsed rows, each with the eight columns the script added — `recto`, `verso` (source URLs),
 * `recto_uuid`, `verso_uuid`, `recto_gcs_path`, `verso_gcs_path` (the bucket URI of the copied image, when it
 * was copied) and `recto_upload_status`, `verso_upload_status` (a struct `{success, url, message}`: the
 * script's `(success, url, message)` tuple). Built by DuckDB from the parsed Parquet and the run's rows of
 * `titelive_images` (read in pages), written with `COPY … (FORMAT PARQUET)`; a retry rewrites the same key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { literal } from '../../../sinks/duckdb-csv';
import { withScratchDuckDb } from '../../../sinks/duckdb';
import type { Warehouse } from '../../../sinks/warehouse';
import { TITELIVE_IMAGES_TABLE } from './images';
import type { ScratchDeps } from './parse';

export interface ImagesParquetArgs {
  runId: string;
  /** The run's parsed Parquet. */
  parsedKey: string;
  /** Where the file goes. */
  outputKey: string;
}

interface ImageRow {
  product_id: string;
  article_id: string;
  side: string;
  source_url: string | null;
  uuid: string | null;
  object_key: string | null;
  status: string;
  reason: string | null;
}

/** Image rows per warehouse read. */
const PAGE = 10_000;

/** The run's image rows, a page at a time, in product order (keyset pages that never split a product). */
async function* imageRows(warehouse: Warehouse, runId: string): AsyncGenerator<ImageRow[]> {
  let after: string | undefined;
  for (;;) {
    const page = await warehouse.select<ImageRow>(TITELIVE_IMAGES_TABLE, {
      columns: ['product_id', 'article_id', 'side', 'source_url', 'uuid', 'object_key', 'status', 'reason'],
      where: { run_id: runId, ...(after === undefined ? {} : { product_id: { gt: after } }) },
      orderBy: ['product_id'],
      limit: PAGE,
    });
    if (page.length < PAGE) {
      if (page.length) yield page;
      return;
    }
    // The page may end inside a product: leave that product to the next page.
    const last = page[page.length - 1].product_id;
    const whole = page.filter((r) => r.product_id !== last);
    if (!whole.length) throw new Error(`titelive_images: more than ${PAGE} image rows for product ${last}`);
    yield whole;
    after = whole[whole.length - 1].product_id;
  }
}

export function createTiteliveImagesParquetActivities({ bucket, warehouse, duckdb = {} }: ScratchDeps) {
  async function write(args: ImagesParquetArgs, progress: { images: number }): Promise<{ rows: number }> {
    return withScratchDuckDb('titelive-images-parquet', duckdb, async ({ conn, dir: tmp }) => {
      const parsed = path.join(tmp, 'parsed.parquet');
      await pipeline(await bucket.getStream(args.parsedKey), fs.createWriteStream(parsed, { mode: 0o600 }));
      await conn.run(
        'CREATE TABLE imgs (product_id VARCHAR, article_id VARCHAR, side VARCHAR, source_url VARCHAR, uuid VARCHAR, ' +
          'uri VARCHAR, status VARCHAR, reason VARCHAR)',
      );
      await warehouse.ensureTable(TITELIVE_IMAGES_TABLE);
      const appender = await conn.createAppender('imgs');
      const text = (v: string | null) => (v === null ? appender.appendNull() : appender.appendVarchar(v));
      for await (const page of imageRows(warehouse, args.runId)) {
        for (const r of page) {
          text(r.product_id);
          text(r.article_id);
          text(r.side);
          text(r.source_url);
          text(r.uuid);
          text(r.status === 'ok' && r.object_key ? bucket.uri(r.object_key) : null);
          text(r.status);
          text(r.reason);
          appender.endRow();
        }
        appender.flushSync();
        progress.images += page.length;
      }
      appender.closeSync();
      const side = (s: 'recto' | 'verso') =>
        `${s}.source_url AS ${s}, ${s}.uuid AS ${s}_uuid, ${s}.uri AS ${s}_gcs_path, ` +
        `CASE WHEN ${s}.status IS NULL THEN NULL ELSE struct_pack(success := ${s}.status = 'ok', url := ${s}.uri, ` +
        `message := coalesce(${s}.reason, ${s}.status)) END AS ${s}_upload_status`;
      const join = (s: 'recto' | 'verso') =>
        `LEFT JOIN imgs ${s} ON ${s}.product_id = p.id AND ${s}.article_id = p.article_id AND ${s}.side = '${s}'`;
      const out = path.join(tmp, 'images.parquet');
      await conn.run(
        `COPY (SELECT p.*, ${side('recto')}, ${side('verso')} FROM read_parquet(${literal(parsed)}) p ` +
          `${join('recto')} ${join('verso')} ORDER BY p.id, p.article_id) TO ${literal(out)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
      );
      const rows = Number(
        (await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${literal(out)})`)).getRowObjectsJS()[0].n,
      );
      await bucket.put(args.outputKey, fs.createReadStream(out), { contentType: 'application/vnd.apache.parquet' });
      return { rows };
    });
  }

  return {
    /** The parsed rows with their eight recto/verso columns, as Parquet at `outputKey`. */
    async titeliveImagesParquet(args: ImagesParquetArgs): Promise<{ rows: number }> {
      const progress = { images: 0 };
      return heartbeating(() => write(args, progress), { details: () => progress });
    },
  };
}
