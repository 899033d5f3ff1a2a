/**
 * The worker's videos store: nothing is opened until a watcher uses it (no SQLite file appears), the first
 * use opens and initializes it, and close() closes it (the file can then be opened again by another).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { LazyVideosStore } from '../../src/sinks/videos';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpConfig() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazy-videos-'));
  dirs.push(dir);
  const file = path.join(dir, 'videos.sqlite');
  return { file, config: parseConfig({ LONGHAUL_DATA_DIR: dir, VIDEOS_SQLITE_PATH: file }) };
}

describe('LazyVideosStore', () => {
  it('opens nothing until used, and closing an unused store is a no-op', async () => {
    const { file, config } = tmpConfig();
    const store = new LazyVideosStore(config);
    await store.close();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('the first use opens and initializes the store; close() closes it; a later use opens it again', async () => {
    const { file, config } = tmpConfig();
    const store = new LazyVideosStore(config);
    expect(await store.count()).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    const video = {
      videoId: 'vid00000001',
      query: 'q',
      title: 't',
      description: '',
      channelId: 'c',
      channelTitle: 'C',
      publishedAt: '2026-01-01T00:00:00Z',
      thumbnails: { default: 'https://i.ytimg.com/vi/x/default.jpg' },
      raw: {},
      seenAt: '2026-01-01T00:00:01Z',
    };
    expect(await store.upsert([video])).toMatchObject({ inserted: 1 });
    await store.close();
    // Closed: the WAL is checkpointed into the file, which another process reads whole.
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const other = new SqliteVideosStore({ path: file });
    expect(await other.count()).toBe(1);
    await other.close();
    expect((await store.get('vid00000001'))?.title).toBe('t');
    await store.close();
  });
});
