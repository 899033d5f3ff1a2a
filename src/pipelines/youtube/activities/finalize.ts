/**
 * youtube-enrich, step 3: the chunks' shards into the warehouse (one flat row per video, merged on
 * video_id: read by the warehouse itself where it can — DuckDB over a local bucket — else streamed shard by shard), the missing IDs into a sorted gzip file and a `<table>_missing`
 * table, and the manifest that lists every shard with its counts. Idempotent: a rerun rewrites the same
 * objects and the merge replaces rows instead of duplicating them.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzipSync } from 'node:zlib';
import { Context } from '@temporalio/activity';
import type { Bucket } from '../../../sinks/bucket';
import { LocalBucket } from '../../../sinks/local-bucket';
import type { Row, TableSchema, Warehouse } from '../../../sinks/warehouse';
import { columns, fromArray } from '../../../sinks/warehouse';
import { flattenVideo, VIDEO_FIELDS, YOUTUBE_VIDEOS_COLUMNS } from '../connector/flatten';
import type { Video } from '../connector/schemas';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { readDone } from './fetch';

export interface FinalizeArgs {
  workKey: string;
  outPrefix: string;
  chunks: number;
  table: string;
  /** Written into the manifest as is (counts from the prepare step, parts, the input's source). */
  summary: Record<string, unknown>;
}

export interface FinalizeResult {
  fetched: number;
  missing: number;
  shards: number;
  rowsInTable: number;
  manifestKey: string;
  missingKey: string;
  table: string;
}

export const videosTable = (name: string): TableSchema => ({
  name,
  columns: YOUTUBE_VIDEOS_COLUMNS,
  primaryKey: ['video_id'],
  write: { kind: 'merge' },
});
export const missingTable = (name: string): TableSchema => ({
  name: `${name}_missing`,
  columns: columns({
    video_id: 'STRING!',
    source_shard: 'STRING',
  }),
  primaryKey: ['video_id'],
  write: { kind: 'merge' },
});

export function createYoutubeFinalizeActivities({ bucket, warehouse }: { bucket: Bucket; warehouse: Warehouse }) {
  return {
    async youtubeFinalize(args: FinalizeArgs): Promise<FinalizeResult> {
      const ctx = Context.current();
      const shards: { key: string; videos: number; missing: number }[] = [];
      const missingRows: Row[] = [];
      for (let c = 0; c < args.chunks; c++) {
        const d = await readDone(bucket, args.workKey, c);
        if (!d) throw new Error(`chunk ${c} has no done record: it was not fetched`);
        shards.push({ key: d.shardKey, videos: d.fetched, missing: d.missing.length });
        for (const id of d.missing) missingRows.push({ video_id: id, source_shard: d.shardKey });
      }
      // The next shard is read and decompressed (on the thread pool) while this one is flattened and loaded.
      const gunzip = promisify(gunzipCb);
      const read = (i: number) => {
        const p = i < shards.length ? bucket.get(shards[i]!.key).then((gz) => gunzip(gz)) : Promise.resolve(undefined);
        p.catch(() => {}); // awaited below; a load that stops early must not leave it unhandled
        return p;
      };
      async function* rows(): AsyncGenerator<Row[]> {
        let next = read(0);
        for (const [i, s] of shards.entries()) {
          const current = await next;
          next = read(i + 1);
          const text = current!.toString('utf8');
          const batch = text
            .split('\n')
            .filter(Boolean)
            .map((l) => flattenVideo(JSON.parse(l) as Video, s.key));
          ctx.heartbeat({ shard: i });
          if (batch.length) yield batch;
        }
      }
      const schema = videosTable(args.table);
      await warehouse.ensureTable(schema);
      if (warehouse.loadJson && bucket instanceof LocalBucket) {
        // The warehouse reads the shards itself, each video's row by the same mapping (VIDEO_FIELDS).
        // Heartbeats on a timer while DuckDB reads: there is no batch to report.
        const files = shards.map((sh) => ({ path: bucket.pathOf(sh.key), constants: { source_shard: sh.key } }));
        const loadJson = warehouse.loadJson.bind(warehouse);
        const read = await heartbeating(() => loadJson(schema, { files, fields: VIDEO_FIELDS }), {
          details: () => ({ shards: shards.length, reader: 'warehouse' }),
        });
        // Every video the chunks recorded was read (a file whose rows the reader lost must not pass).
        const expected = shards.reduce((n, sh) => n + sh.videos, 0);
        if (read.rowsParsed !== expected)
          throw new Error(
            `the warehouse read ${read.rowsParsed} videos from the shards, the chunks recorded ${expected}`,
          );
      } else await warehouse.load(schema, rows());
      await warehouse.ensureTable(missingTable(args.table));
      if (missingRows.length) await warehouse.load(missingTable(args.table), fromArray(missingRows));

      const missingIds = missingRows.map((r) => String(r.video_id)).sort();
      const missingKey = `${args.outPrefix}/missing.txt.gz`;
      await bucket.put(missingKey, gzipSync(missingIds.length ? missingIds.join('\n') + '\n' : ''), {
        contentType: 'text/plain',
      });
      const fetched = shards.reduce((n, s) => n + s.videos, 0);
      const manifestKey = `${args.outPrefix}/manifest.json`;
      const manifest = {
        format: 'youtube#video resources, one per line, gzip NDJSON',
        ...args.summary,
        fetched,
        missing: missingIds.length,
        table: args.table,
        missingTable: `${args.table}_missing`,
        missingKey,
        shards,
      };
      await bucket.put(manifestKey, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
      const n = await warehouse.count(schema);
      return {
        fetched,
        missing: missingIds.length,
        shards: shards.length,
        rowsInTable: Number(n),
        manifestKey,
        missingKey,
        table: args.table,
      };
    },
  };
}
