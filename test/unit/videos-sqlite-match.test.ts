/**
 * The embedded store keeps the matches of a text search between requests and brings them up to date from
 * its change log when another process writes: after inserts, title and description updates and deletes by
 * another connection, its answers equal the reference's (test/helpers/videos.ts) over the rows the file holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import type { VideoListParams } from '../../src/sinks/videos-store';
import { tmpDir } from '../helpers/temporal';
import { makeVideos, referenceList } from '../helpers/videos';

const dir = tmpDir('videos-match-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('kept matches follow another connection’s inserts, updates and deletes, and are built again when the log is gone', async () => {
  const file = path.join(dir, 'videos.sqlite');
  const reader = new SqliteVideosStore({ path: file });
  await reader.init();
  await reader.upsert(makeVideos(300, 'm', 'a'));
  const writer = new Database(file);
  writer.pragma('busy_timeout = 10000');
  const filters: Omit<VideoListParams, 'pageSize'>[] = [
    { search: 'cricket' },
    { search: 'ick' },
    { search: 'cricket final' },
    { search: 'cricket', query: 'm', publishedAfter: '2024-01-01T00:30:00Z' },
    { search: 'cricket', ordering: 'title' },
  ];
  // the reference: the filters applied in JavaScript to the rows as the file holds them now
  const rowsNow = () =>
    writer
      .prepare<[], { videoId: string; title: string; description: string; publishedAt: string; queries: string }>(
        `SELECT video_id AS videoId, title, description, published_at AS publishedAt,
           (SELECT json_group_array(query) FROM video_queries q WHERE q.video_id = v.video_id) AS queries
         FROM videos v`,
      )
      .all()
      .map((r) => ({ ...r, queries: JSON.parse(r.queries) as string[] }));
  const same = async () => {
    const rows = rowsNow();
    for (const f of filters) {
      const want = referenceList(rows, f);
      const got = await reader.list({ ...f, pageSize: 400 });
      expect(got.total, JSON.stringify(f)).toBe(want.length);
      expect(got.items.map((v) => v.videoId)).toEqual(want);
      expect(await reader.count(f)).toBe(want.length);
    }
  };
  await same();
  const built = reader.matchSetStats.builds;
  expect(built).toBeGreaterThan(0);

  const ids = writer.prepare<[], string>('SELECT video_id FROM videos ORDER BY rowid').pluck().all();
  const insert = writer.prepare(
    `INSERT INTO videos (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw,
       first_seen_at, updated_at) VALUES (?, ?, ?, ?, 'UCw', 'W', '{}', '{}', ?, ?)`,
  );
  let n = 0;
  for (let round = 0; round < 12; round++) {
    writer.transaction(() => {
      for (let k = 0; k < 5; k++) {
        const id = ids[(round * 37 + k * 11) % ids.length];
        switch ((round + k) % 4) {
          case 0: // text changed to match, or not to
            writer
              .prepare('UPDATE videos SET title = ? WHERE video_id = ?')
              .run(k % 2 ? 'a cricket final' : 'tennis', id);
            break;
          case 1:
            writer
              .prepare('UPDATE videos SET description = ? WHERE video_id = ?')
              .run(k % 2 ? 'nothing' : 'wicket', id);
            break;
          case 2:
            writer.prepare('DELETE FROM videos WHERE video_id = ?').run(id);
            break;
          default: {
            const at = new Date(Date.UTC(2024, 0, 1, 1, n)).toISOString();
            insert.run(`new${n++}`, k % 2 ? 'cricket final new' : 'golf', 'x', at, at, at);
          }
        }
      }
    })();
    await same();
  }
  expect(reader.matchSetStats.builds).toBe(built); // every change was caught up with, nothing built again
  expect(reader.matchSetStats.catchUps).toBeGreaterThanOrEqual(12);

  // entries the reader has not seen removed from the log (as pruning would): it cannot catch up, so it builds again
  const at = new Date(Date.UTC(2024, 0, 1, 2)).toISOString();
  insert.run('in-the-gap', 'cricket in the gap', 'x', at, at, at);
  writer.exec('DELETE FROM videos_changes');
  insert.run('after-gap', 'cricket after the gap', 'x', at, at, at);
  await same();
  expect(reader.matchSetStats.builds).toBeGreaterThan(built);
  writer.close();
  await reader.close();
});
