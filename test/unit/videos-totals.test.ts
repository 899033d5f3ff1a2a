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
import { makeVideos } from '../helpers/videos';

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
      await writer.upsert(batch.slice(0, 20));
      const before = await totals();
      expect(await totals()).toEqual(before); // kept, unchanged
      await writer.upsert(batch.slice(20)); // 20 more videos
      await writer.upsert([{ ...batch[0]!, query: 'tq2' }]); // a known video found by another query
      await writer.upsert([{ ...batch[1]!, title: 'now about cricket', description: 'cricket' }]); // text changed
      const after = await totals();
      const fresh = make(); // keeps nothing yet
      const want = await Promise.all(filters.map((f) => fresh.count(f)));
      await fresh.close();
      expect(after.map((t) => t[0])).toEqual(want);
      expect(after.map((t) => t[1])).toEqual(want);
      expect(want[0]).toBe((before[0]![0] as number) + 20);
      expect(want[2]).toBe(1);
      expect(want[3]).toBeGreaterThan(before[3]![0] as number);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
