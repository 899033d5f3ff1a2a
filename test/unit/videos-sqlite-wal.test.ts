/**
 * The embedded store's reason to be: another process writes (and holds its write transaction open) while
 * this one reads — readers are neither blocked nor shown uncommitted rows, and see them once committed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import { tmpDir } from '../helpers/temporal';
import { makeVideos } from '../helpers/videos';

const dir = tmpDir('videos-wal-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The writer: plain better-sqlite3 in a child process, the store's tables, a transaction kept open
// until told to commit on stdin.
const WRITER = `
const db = require('better-sqlite3')(process.argv[1]);
db.pragma('busy_timeout = 10000');
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT INTO videos (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw, first_seen_at, updated_at) VALUES ('childvideo01', 'written by a child', 'd', '2025-01-01T00:00:00.000Z', 'c', 'C', '{}', '{}', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')").run();
db.prepare("INSERT INTO video_queries (video_id, query) VALUES ('childvideo01', 'wal')").run();
process.stdout.write('locked\\n');
process.stdin.once('data', () => { db.exec('COMMIT'); process.stdout.write('committed\\n'); db.close(); process.exit(0); });
`;

it('reads while another process holds a write transaction, and sees its rows after the commit', async () => {
  const file = path.join(dir, 'videos.sqlite');
  const store = new SqliteVideosStore({ path: file, busyTimeoutMs: 2000 });
  await store.init();
  await store.upsert(makeVideos(50, 'wal', 'w'));
  const child = spawn(process.execPath, ['-e', WRITER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  try {
    expect(await next()).toBe('locked');
    const t0 = Date.now();
    expect(await store.count({ query: 'wal' })).toBe(50);
    expect((await store.list({ search: 'written by', pageSize: 5 })).total).toBe(0);
    expect(await store.get('childvideo01')).toBeUndefined();
    expect((await store.list({ query: 'wal', pageSize: 5 })).items).toHaveLength(5);
    expect(Date.now() - t0).toBeLessThan(1000); // not waiting on the writer's lock
    child.stdin.write('go\n');
    expect(await next()).toBe('committed');
    expect((await store.get('childvideo01'))?.title).toBe('written by a child');
    // totals and match sets kept while nothing was written are forgotten after another process's commit …
    expect(await store.count({ query: 'wal' })).toBe(51);
    const found = await store.list({ search: 'written by', pageSize: 5 });
    expect([found.total, found.items.map((v) => v.videoId)]).toEqual([1, ['childvideo01']]);
    // … and after this store's own
    await store.upsert([{ ...makeVideos(1, 'wal', 'x')[0], title: 'also written by me' }]);
    expect((await store.list({ search: 'written by', pageSize: 5 })).total).toBe(2);
    expect(await store.count({ query: 'wal' })).toBe(52);
    expect((await store.list({ query: 'wal', pageSize: 1 })).items[0].videoId).toBe('childvideo01');
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
  } finally {
    child.kill();
    await store.close();
  }
});
