/**
 * DuckDB's own NDJSON load (`loadJson`: read_ndjson_objects, the mapping read in SQL) against the JavaScript
 * reading of the same mapping (`jsonRow` + `load`), on the YouTube video mapping: sandbox videos with every
 * part, and records shaped to hit each reading's edges (missing parts, nulls, flags as strings and booleans,
 * counts with leading zeros, beyond 2^53 or not digits, durations in weeks, days, or not durations, unicode).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { VIDEO_FIELDS, YOUTUBE_VIDEOS_COLUMNS } from '../../src/pipelines/youtube/connector/flatten';
import { VIDEO_PARTS } from '../../src/pipelines/youtube/connector/enums';
import { fakeId, fakeVideo } from '../../src/pipelines/youtube/sandbox/videos';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { jsonRow } from '../../src/sinks/json-fields';
import { fromArray, type TableSchema } from '../../src/sinks/warehouse';
import { tmpDir } from '../helpers/temporal';

const table = (name: string): TableSchema => ({
  name,
  columns: YOUTUBE_VIDEOS_COLUMNS,
  primaryKey: ['video_id'],
  write: { kind: 'merge' },
});

const edges: Record<string, unknown>[] = [
  { id: 'only-id' },
  { id: 'nulls', snippet: null, contentDetails: { duration: null, caption: null }, statistics: { viewCount: null } },
  {
    id: 'strings-and-booleans',
    snippet: {
      title: 'Café — « ok » 🎬 "q" \\ / \n line',
      tags: ['a', 'é', '"x"'],
      publishedAt: '2024-02-29T23:59:59Z',
    },
    contentDetails: { duration: 'P1W2DT3H4M5S', caption: 'true', licensedContent: true },
    status: { embeddable: 'false', madeForKids: false, privacyStatus: 'public' },
    statistics: { viewCount: '00042', likeCount: '9007199254740993', commentCount: '-1', favoriteCount: 12 },
    topicDetails: { topicCategories: [] },
  },
  {
    id: 'odd-durations',
    contentDetails: { duration: 'P', caption: 'TRUE' },
    status: { embeddable: 1 },
    statistics: { viewCount: '1.5', likeCount: '' },
  },
  { id: 'duration-t', contentDetails: { duration: 'PT' }, snippet: { tags: 'not-an-array' } },
  { id: 'duration-bogus', contentDetails: { duration: 'bogus' }, topicDetails: { topicCategories: ['https://x/y'] } },
  { id: 'duration-days', contentDetails: { duration: 'P3D' }, snippet: { title: '' } },
];

const open: DuckDbWarehouse[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});
/** A warehouse in `dir`, closed after the test. */
function warehouseIn(dir: string): DuckDbWarehouse {
  const w = new DuckDbWarehouse({ path: path.join(dir, 'w.duckdb') });
  open.push(w);
  return w;
}

describe('DuckDB loadJson (the warehouse reads NDJSON by the mapping)', () => {
  it('gives the rows the JavaScript reading gives, across gzipped files with their own constants', async () => {
    const dir = tmpDir();
    const videos = Array.from({ length: 120 }, (_, i) => fakeVideo(7, fakeId(7, 'json', i), new Set(VIDEO_PARTS)));
    const files = [videos.slice(0, 60), [...edges, ...videos.slice(60)]].map((records, i) => {
      const p = path.join(dir, `part-${i}.ndjson.gz`);
      fs.writeFileSync(p, zlib.gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
      return { path: p, constants: { source_shard: `shard-${i}` }, records };
    });
    const w = warehouseIn(dir);
    const native = await w.loadJson(table('native'), { files, fields: VIDEO_FIELDS });
    expect(native).toMatchObject({ rowsParsed: 120 + edges.length, rowsLoaded: 120 + edges.length });
    const rows = files.flatMap((f) => f.records.map((r) => jsonRow(r, VIDEO_FIELDS, f.constants)));
    await w.load(table('js'), fromArray(rows));
    const order = { orderBy: [{ column: 'video_id' }] };
    const a = await w.select(table('native'), order);
    expect(a).toEqual(await w.select(table('js'), order));
    // The edges, read as the mapping says.
    const byId = Object.fromEntries(a.map((r) => [r.video_id, r]));
    expect(byId['strings-and-booleans']).toMatchObject({
      title: 'Café — « ok » 🎬 "q" \\ / \n line',
      duration_seconds: (((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5,
      caption: true,
      licensed_content: true,
      embeddable: false,
      made_for_kids: false,
      view_count: 42,
      like_count: '9007199254740993',
      comment_count: null,
      favorite_count: null,
      topic_categories: '[]',
      source_shard: 'shard-1',
    });
    expect(JSON.parse(String(byId['strings-and-booleans']!.tags))).toEqual(['a', 'é', '"x"']);
    expect(byId['only-id']).toMatchObject({ title: null, caption: null, view_count: null, duration_seconds: null });
    expect(byId['nulls']).toMatchObject({ duration: null, caption: false, view_count: null });
    expect(byId['odd-durations']).toMatchObject({ duration_seconds: null, caption: false, embeddable: false });
    expect(byId['duration-t']).toMatchObject({ duration_seconds: null, tags: null });
    expect(byId['duration-days']).toMatchObject({ duration_seconds: 3 * 86_400, title: '' });
  });

  it('refuses a path that is not keys (it becomes SQL), and a record that is not JSON fails the load', async () => {
    const dir = tmpDir();
    const w = warehouseIn(dir);
    const p = path.join(dir, 'bad.ndjson');
    fs.writeFileSync(p, '{"id":"a"}\nnot json\n');
    await expect(
      w.loadJson(table('bad'), { files: [{ path: p }], fields: [{ column: 'video_id', path: ["id') --"] }] }),
    ).rejects.toThrow(/must be keys/);
    await expect(w.loadJson(table('bad'), { files: [{ path: p }], fields: VIDEO_FIELDS })).rejects.toThrow();
    expect(await w.count(table('bad'))).toBe(0);
  });

  it('refuses a file listed twice (its records would share their order numbers, and a merge keep both)', async () => {
    const dir = tmpDir();
    const w = warehouseIn(dir);
    const p = path.join(dir, 'one.ndjson');
    fs.writeFileSync(p, '{"id":"a"}\n');
    await expect(
      w.loadJson(table('twice'), { files: [{ path: p }, { path: p }], fields: VIDEO_FIELDS }),
    ).rejects.toThrow(`loadJson: ${p} is listed twice`);
    expect(await w.describeTable('twice')).toBeUndefined(); // refused before anything is made
  });
});
