/**
 * Both stores keep each filter's total between requests while nothing is written: a write through another
 * instance (another process, as the worker is to the API) must show in the next answer's total.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresVideosStore } from '../../src/sinks/videos-postgres';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import type { VideoListParams, VideosStore } from '../../src/sinks/videos-store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { tmpDir } from '../helpers/temporal';
import { makeVideos, referenceList, refRows } from '../helpers/videos';

const dir = tmpDir('videos-totals-');
let pg: TestPostgres | undefined;
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await pg?.stop();
});

/** Each store's maker: a new instance on the same database at every call. */
const stores: [string, () => Promise<() => VideosStore>][] = [
  [
    'SQLite',
    async () => {
      const file = path.join(dir, 'videos.sqlite');
      return () => new SqliteVideosStore({ path: file });
    },
  ],
  [
    'PostgreSQL 15',
    async () => {
      pg = await startPostgres();
      const url = pg.url;
      return () => new PostgresVideosStore({ connectionString: url });
    },
  ],
];

describe.each(stores)('%s', (_name, maker) => {
  it('a total kept by one instance follows another instance’s inserts, merges, new queries and text changes', async () => {
    const make = await maker();
    const [reader, writer] = [make(), make()];
    await reader.init();
    await writer.init();
    try {
      const filters: Omit<VideoListParams, 'pageSize'>[] = [
        {},
        { query: 'tq' },
        { query: 'tq2' },
        { search: 'cricket' },
        { query: 'tq', search: 'cricket', publishedAfter: '2024-01-01T00:05:00Z' },
      ];
      const totals = async () =>
        Promise.all(
          filters.map(async (f) => [await reader.count(f), (await reader.list({ ...f, pageSize: 5 })).total]),
        );
      const batch = makeVideos(40, 'tq', 't');
      // the reference: what was written, filtered in JavaScript (the database holds nothing else)
      const expected = (rows: ReturnType<typeof refRows>) =>
        filters.map((f) => referenceList(rows, f).length).map((n) => [n, n]);
      await writer.upsert(batch.slice(0, 20));
      const before = await totals();
      expect(before).toEqual(expected(refRows(batch.slice(0, 20))));
      expect(await totals()).toEqual(before); // kept, unchanged
      await writer.upsert(batch.slice(20)); // 20 more videos
      await writer.upsert([{ ...batch[0]!, query: 'tq2' }]); // a known video found by another query
      await writer.upsert([{ ...batch[1]!, title: 'now about cricket', description: 'cricket' }]); // text changed
      const rows = refRows(batch);
      rows[0]!.queries.push('tq2');
      Object.assign(rows[1]!, { title: 'now about cricket', description: 'cricket' });
      const after = await totals();
      expect(after).toEqual(expected(rows));
      expect(after[0]![0]).toBe((before[0]![0] as number) + 20);
      expect(after[2]![0]).toBe(1);
      expect(after[3]![0]).toBeGreaterThan(before[3]![0] as number);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});

it('SQLite: a total is kept while nothing is written, and a change that leaves the text adds nothing to the log', async () => {
  const store = new SqliteVideosStore({ path: path.join(dir, 'kept.sqlite') });
  await store.init();
  try {
    const batch = makeVideos(10, 'k', 'k');
    const other = makeVideos(1, 'o', 'o')[0]!;
    await store.upsert([...batch, other]);
    expect(await store.count({ query: 'k' })).toBe(10);
    // a row written behind the store's back on its own connection (a write it does not know of): the kept total
    store.db.prepare(`INSERT INTO video_queries (video_id, query) VALUES (?, 'k')`).run(other.videoId);
    expect(await store.count({ query: 'k' })).toBe(10);
    await store.upsert([batch[1]!]); // a write it knows of: counted again
    expect(await store.count({ query: 'k' })).toBe(11);
    const log = () => store.db.prepare<[], number>('SELECT count(*) FROM videos_changes').pluck().get()!;
    const before = log();
    await store.upsert([{ ...batch[2]!, raw: { changed: true } }]); // raw only
    expect(log()).toBe(before);
    await store.upsert([{ ...batch[2]!, title: 'another title' }]);
    expect(log()).toBe(before + 1);
  } finally {
    await store.close();
  }
});

it('PostgreSQL: a total is kept while videos_version stands still; an upsert of what is stored leaves it, a truncate moves it', async () => {
  pg ??= await startPostgres();
  const store = new PostgresVideosStore({ connectionString: pg.url });
  await store.init();
  const version = async () =>
    (await store.pool.query<{ v: string }>('SELECT v FROM videos_version WHERE one = 1')).rows[0]!.v;
  try {
    const batch = makeVideos(10, 'pk', 'p');
    await store.upsert(batch);
    expect(await store.count({ query: 'pk' })).toBe(10);
    const v0 = await version();
    await store.upsert(batch); // nothing changes
    expect(await version()).toBe(v0);
    // a row written with the version's triggers off: the kept total shows
    await store.pool.query('ALTER TABLE video_queries DISABLE TRIGGER USER');
    await store.pool.query(`INSERT INTO video_queries (video_id, query) VALUES ($1, 'pk2')`, [batch[0]!.videoId]);
    await store.pool.query(`DELETE FROM video_queries WHERE video_id = $1 AND query = 'pk'`, [batch[0]!.videoId]);
    await store.pool.query('ALTER TABLE video_queries ENABLE TRIGGER USER');
    expect(await store.count({ query: 'pk' })).toBe(10);
    await store.upsert([{ ...batch[1]!, title: 'changed' }]);
    expect(await version()).not.toBe(v0);
    expect(await store.count({ query: 'pk' })).toBe(9);
    const v1 = await version();
    await store.pool.query('TRUNCATE video_queries');
    expect(await version()).not.toBe(v1);
    expect(await store.count({ query: 'pk' })).toBe(0);
  } finally {
    await store.close();
  }
});
