/**
 * The VideosStore contract, written once and run against every implementation (SQLite in a temp folder,
 * PostgreSQL on a throwaway server), so the stores cannot drift apart. Each test works under its own
 * watched query (and ids), so one database can serve the whole file.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VideosStoreInputError,
  type VideoListParams,
  type VideoOrdering,
  type VideosStore,
} from '../../src/sinks/videos-store';
import { rejection } from './rejection';
import { makeVideos, referenceList, refRows } from './videos';

const unique = () => randomUUID().replace(/-/g, '').slice(0, 8);

/** Every id of a listing, following `nextCursor` from the first page. */
async function walkForward(store: VideosStore, p: Omit<VideoListParams, 'cursor' | 'page'>): Promise<string[]> {
  const ids: string[] = [];
  let page = await store.list(p);
  ids.push(...page.items.map((v) => v.videoId));
  while (page.nextCursor) {
    page = await store.list({ ...p, cursor: page.nextCursor });
    ids.push(...page.items.map((v) => v.videoId));
  }
  return ids;
}

export function videosStoreContract(name: string, make: () => Promise<VideosStore>): void {
  describe(`${name}: VideosStore contract`, () => {
    let store: VideosStore;
    beforeAll(async () => {
      store = await make();
      await store.init();
      await store.init(); // idempotent
    });
    afterAll(async () => {
      await store?.close();
    });

    it('inserts new videos, merges known ones, and the same batch twice changes nothing more', async () => {
      const q = `q-${unique()}`;
      const batch = makeVideos(6, q, `u${unique()}`);
      expect(await store.upsert(batch)).toEqual({ inserted: 6, merged: 0 });
      const before = await store.get(batch[0].videoId);
      expect(await store.upsert(batch)).toEqual({ inserted: 0, merged: 6 });
      expect(await store.get(batch[0].videoId)).toEqual(before);
      expect(await store.count({ query: q })).toBe(6);
      expect(before).toEqual({
        videoId: batch[0].videoId,
        title: batch[0].title,
        description: batch[0].description,
        publishedAt: batch[0].publishedAt,
        channelId: batch[0].channelId,
        channelTitle: batch[0].channelTitle,
        thumbnails: batch[0].thumbnails,
        queries: [q],
        raw: batch[0].raw,
        firstSeenAt: '2024-06-01T00:00:00Z',
        updatedAt: '2024-06-01T00:00:00Z',
      });
      // a duplicate inside one batch is stored once
      const dup = makeVideos(1, q, `d${unique()}`)[0];
      expect(await store.upsert([dup, { ...dup, title: 'second copy' }])).toEqual({ inserted: 1, merged: 1 });
      expect((await store.get(dup.videoId))?.title).toBe('second copy');
    });

    it('a merge refreshes changed fields, keeps firstSeenAt and remembers every query', async () => {
      const q1 = `q-${unique()}`;
      const q2 = `q-${unique()}`;
      const [v] = makeVideos(1, q1, `m${unique()}`);
      await store.upsert([v]);
      await store.upsert([{ ...v, query: q2, seenAt: '2024-06-02T00:00:00Z' }]);
      let got = await store.get(v.videoId);
      expect(got?.queries).toEqual([q1, q2].sort());
      expect(got?.updatedAt).toBe('2024-06-02T00:00:00Z');
      await store.upsert([{ ...v, title: 'New title', raw: { changed: true }, seenAt: '2024-06-03T10:00:00Z' }]);
      got = await store.get(v.videoId);
      expect(got).toMatchObject({
        title: 'New title',
        raw: { changed: true },
        firstSeenAt: '2024-06-01T00:00:00Z',
        updatedAt: '2024-06-03T10:00:00Z',
      });
      expect(await store.count({ query: q2 })).toBe(1);
      expect(await store.count({ query: q1, search: 'new TITLE' })).toBe(1);
    });

    it('times come back in YouTube form (UTC, no zero milliseconds), whatever offset they came with', async () => {
      const q = `q-${unique()}`;
      const [v] = makeVideos(1, q, `t${unique()}`);
      await store.upsert([{ ...v, publishedAt: '2024-03-10T12:30:00+02:00', seenAt: '2024-06-01T00:00:00.250Z' }]);
      const got = await store.get(v.videoId);
      expect(got?.publishedAt).toBe('2024-03-10T10:30:00Z');
      expect(got?.firstSeenAt).toBe('2024-06-01T00:00:00.250Z');
      await expect(store.upsert([{ ...v, publishedAt: 'yesterday' }])).rejects.toThrow(VideosStoreInputError);
    });

    it('every way of counting agrees: unfiltered, by query, by search alone, combined', async () => {
      const q = `q-${unique()}`;
      const token = `tok${unique()}`;
      const before = await store.count();
      const batch = makeVideos(12, q, `k${unique()}`).map((v, i) =>
        i % 3 === 0 ? { ...v, title: `${v.title} ${token}` } : v,
      );
      await store.upsert(batch);
      await store.upsert(batch.slice(0, 4)); // merges do not count twice
      expect(await store.count()).toBe(before + 12);
      expect(await store.count({ query: q })).toBe(12);
      expect(await store.count({ search: token })).toBe(4);
      expect(await store.count({ search: token.toUpperCase() })).toBe(4);
      expect(await store.count({ search: `${token} video` })).toBe(4);
      expect(await store.count({ query: q, search: token, publishedAfter: '2024-01-01T00:02:00Z' })).toBe(2); // videos 6 and 9
      expect((await store.list({ search: token, pageSize: 10 })).total).toBe(4);
    });

    it('newestPublishedAt is per query, undefined for an unknown one', async () => {
      const q = `q-${unique()}`;
      const batch = makeVideos(9, q, `n${unique()}`, Date.UTC(2023, 5, 1));
      await store.upsert(batch);
      expect(await store.newestPublishedAt(q)).toBe('2023-06-01T00:04:00Z');
      expect(await store.newestPublishedAt(`q-${unique()}`)).toBeUndefined();
      expect(await store.get(`missing${unique()}`)).toBeUndefined();
    });

    describe('listing', () => {
      const q = `q-${unique()}`;
      const other = `q-${unique()}`;
      const batch = makeVideos(57, q, `l${unique()}`);
      const otherBatch = makeVideos(5, other, `o${unique()}`);
      const rows = refRows([...batch, ...otherBatch]);
      beforeAll(async () => {
        await store.upsert(batch);
        await store.upsert(otherBatch);
      });

      const filters: Omit<VideoListParams, 'pageSize'>[] = [
        { query: q },
        { query: q, search: 'cricket' },
        { query: q, search: 'CRICKET final' },
        { query: q, search: 'ick' },
        { query: q, search: 'cu' },
        { query: q, search: '100%' },
        { query: q, search: '%' },
        { query: q, search: 'pure_fun' },
        { query: q, search: '_' },
        { query: q, search: 'number 1' },
        { query: q, publishedAfter: '2024-01-01T00:05:00Z' },
        { query: q, publishedBefore: '2024-01-01T00:05:00Z' },
        { query: q, publishedAfter: '2024-01-01T00:03:00Z', publishedBefore: '2024-01-01T00:10:30Z', search: 'live' },
        { query: other },
      ];
      it.each(filters)('filter %j: count and rows as the reference', async (f) => {
        const want = referenceList(rows, f);
        expect(await store.count(f)).toBe(want.length);
        const page = await store.list({ ...f, pageSize: 100 });
        expect(page.total).toBe(want.length);
        expect(page.items.map((v) => v.videoId)).toEqual(want);
      });

      it('search text is data, never SQL or FTS syntax', async () => {
        for (const search of [
          "'; DROP TABLE videos; --",
          '" OR 1=1 --',
          'cricket" OR "india',
          'NEAR(a b)',
          '*',
          'title:cricket',
          "') OR ('1'='1",
          '\\',
        ]) {
          const want = referenceList(rows, { query: q, search });
          expect(await store.count({ query: q, search })).toBe(want.length);
          expect((await store.list({ query: q, search, pageSize: 100 })).items.map((v) => v.videoId)).toEqual(want);
        }
        expect(await store.count({ query: "' OR '1'='1" })).toBe(0);
        expect(await store.count({ query: q })).toBe(57);
      });

      const orderings: VideoOrdering[] = ['-publishedAt', 'publishedAt', 'title', '-title'];
      it.each(orderings)(
        'ordering %s, ties broken by videoId; pages and cursors give the same rows',
        async (ordering) => {
          const want = referenceList(rows, { query: q, ordering });
          const all = await store.list({ query: q, ordering, pageSize: 100 });
          expect(all.items.map((v) => v.videoId)).toEqual(want);
          expect(all.nextCursor).toBeUndefined();
          expect(all.prevCursor).toBeUndefined();
          // offset pages
          const paged: string[] = [];
          for (let page = 1; page <= 8; page++) {
            const r = await store.list({ query: q, ordering, pageSize: 8, page });
            expect(r.total).toBe(57);
            paged.push(...r.items.map((v) => v.videoId));
            expect(Boolean(r.nextCursor)).toBe(page < 8);
            expect(Boolean(r.prevCursor)).toBe(page > 1);
          }
          expect(paged).toEqual(want);
          expect((await store.list({ query: q, ordering, pageSize: 8, page: 9 })).items).toEqual([]);
          // cursors forward
          expect(await walkForward(store, { query: q, ordering, pageSize: 8 })).toEqual(want);
          // and back from the last page
          let r = await store.list({ query: q, ordering, pageSize: 8, page: 8 });
          const back: string[] = r.items.map((v) => v.videoId);
          while (r.prevCursor) {
            r = await store.list({ query: q, ordering, pageSize: 8, cursor: r.prevCursor });
            expect(r.items).toHaveLength(8);
            back.unshift(...r.items.map((v) => v.videoId));
          }
          expect(back).toEqual(want);
        },
      );

      it('cursors with filters, and a cursor is refused under another ordering or other filters', async () => {
        const f = { query: q, search: 'cricket', publishedAfter: '2024-01-01T00:02:00Z' };
        expect(await walkForward(store, { ...f, pageSize: 3 })).toEqual(referenceList(rows, f));
        const first = await store.list({ ...f, pageSize: 3 });
        const cursor = first.nextCursor!;
        const refused = async (p: VideoListParams) => {
          const err = await rejection(store.list(p), VideosStoreInputError);
          expect(err.parameter).toBe('cursor');
        };
        await refused({ ...f, pageSize: 3, cursor, ordering: 'title' });
        await refused({ ...f, search: 'india', pageSize: 3, cursor });
        await refused({ pageSize: 3, cursor });
        await refused({ ...f, pageSize: 3, cursor: 'garbage!' });
        await refused({ ...f, pageSize: 3, cursor: Buffer.from('{"a":1}').toString('base64url') });
        await refused({
          ...f,
          pageSize: 3,
          cursor: Buffer.from(JSON.stringify(['-publishedAt', "'; DROP TABLE videos; --", 'x', 'n', 'y'])).toString(
            'base64url',
          ),
        });
        await expect(store.list({ pageSize: 0 })).rejects.toThrow(VideosStoreInputError);
        await expect(store.list({ pageSize: 5, page: 0 })).rejects.toThrow(VideosStoreInputError);
        await expect(store.list({ pageSize: 5, publishedAfter: 'soon' })).rejects.toThrow(VideosStoreInputError);
      });
    });
  });
}
