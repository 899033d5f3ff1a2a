/**
 * The embedded videos store: one SQLite file in WAL mode (better-sqlite3), so the API and CLI processes
 * read while the worker writes. Text search is an FTS5 trigram index on title and description
 * (case-insensitive substring match; terms under 3 characters fall back to LIKE). Times are stored as
 * fixed-width ISO-8601 text (`toISOString()`), so text order is time order. All SQL is parameterized.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  finishVideoList,
  formatVideoTime,
  planVideoList,
  toDate,
  type StoredVideo,
  type UpsertResult,
  type VideoListParams,
  type VideoListResult,
  type VideosStore,
  type VideoUpsert,
} from './videos-store';

export interface SqliteVideosStoreOptions {
  /** The database file (created with its folder when missing), or `:memory:`. */
  path: string;
  /** How long a statement waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS videos (
  video_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  published_at TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  channel_title TEXT NOT NULL,
  thumbnails TEXT NOT NULL,
  raw TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_published ON videos (published_at DESC, video_id DESC);
CREATE INDEX IF NOT EXISTS videos_title ON videos (title, video_id);
CREATE TABLE IF NOT EXISTS video_queries (
  video_id TEXT NOT NULL REFERENCES videos (video_id) ON DELETE CASCADE,
  query TEXT NOT NULL,
  PRIMARY KEY (video_id, query)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS video_queries_query ON video_queries (query, video_id);
CREATE VIRTUAL TABLE IF NOT EXISTS videos_fts USING fts5 (
  title, description, content = 'videos', content_rowid = 'rowid', tokenize = 'trigram'
);
-- the row count, kept by triggers: the unfiltered total without scanning a million rows
CREATE TABLE IF NOT EXISTS videos_count (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO videos_count (one, n) SELECT 1, count(*) FROM videos;
CREATE TRIGGER IF NOT EXISTS videos_count_insert AFTER INSERT ON videos BEGIN
  UPDATE videos_count SET n = n + 1 WHERE one = 1;
END;
CREATE TRIGGER IF NOT EXISTS videos_count_delete AFTER DELETE ON videos BEGIN
  UPDATE videos_count SET n = n - 1 WHERE one = 1;
END;
CREATE TRIGGER IF NOT EXISTS videos_fts_insert AFTER INSERT ON videos BEGIN
  INSERT INTO videos_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
CREATE TRIGGER IF NOT EXISTS videos_fts_delete AFTER DELETE ON videos BEGIN
  INSERT INTO videos_fts (videos_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
END;
CREATE TRIGGER IF NOT EXISTS videos_fts_update AFTER UPDATE OF title, description ON videos BEGIN
  INSERT INTO videos_fts (videos_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
  INSERT INTO videos_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
`;

interface Row {
  video_id: string;
  title: string;
  description: string;
  published_at: string;
  channel_id: string;
  channel_title: string;
  thumbnails: string;
  raw: string;
  first_seen_at: string;
  updated_at: string;
  queries: string;
}

const COLUMNS = `v.video_id, v.title, v.description, v.published_at, v.channel_id, v.channel_title, v.thumbnails, v.raw,
  v.first_seen_at, v.updated_at,
  (SELECT json_group_array(q.query) FROM (SELECT query FROM video_queries WHERE video_id = v.video_id ORDER BY query) q) AS queries`;

const toVideo = (r: Row): StoredVideo => ({
  videoId: r.video_id,
  title: r.title,
  description: r.description,
  publishedAt: formatVideoTime(r.published_at),
  channelId: r.channel_id,
  channelTitle: r.channel_title,
  thumbnails: JSON.parse(r.thumbnails) as Record<string, string>,
  queries: JSON.parse(r.queries) as string[],
  raw: JSON.parse(r.raw) as unknown,
  firstSeenAt: formatVideoTime(r.first_seen_at),
  updatedAt: formatVideoTime(r.updated_at),
});

/** Escapes LIKE wildcards (used with `ESCAPE '\'`). */
const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The search box's words: each must appear (case-insensitively) in the title or the description. */
export function searchTerms(search: string | undefined): string[] {
  return (search ?? '').split(/\s+/).filter(Boolean);
}

type Filter = Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>;

/**
 * The WHERE clause of a filter. `+v.rowid` keeps the planner from driving the query by the text matches
 * (one random row read per match: seconds for a common word over a million videos): it walks the
 * ordering's covering index instead and tests each rowid against the matches, built once.
 */
function where(f: Filter): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.query !== undefined) {
    parts.push('EXISTS (SELECT 1 FROM video_queries q WHERE q.query = ? AND q.video_id = v.video_id)');
    args.push(f.query);
  }
  if (f.publishedAfter !== undefined) {
    parts.push('v.published_at >= ?');
    args.push(toDate(f.publishedAfter, 'publishedAfter').toISOString());
  }
  if (f.publishedBefore !== undefined) {
    parts.push('v.published_at <= ?');
    args.push(toDate(f.publishedBefore, 'publishedBefore').toISOString());
  }
  const terms = searchTerms(f.search);
  const long = terms.filter((t) => [...t].length >= 3);
  if (long.length > 0) {
    parts.push('+v.rowid IN (SELECT rowid FROM videos_fts WHERE videos_fts MATCH ?)');
    args.push(ftsQuery(long));
  }
  for (const t of terms.filter((x) => [...x].length < 3)) {
    parts.push("(v.title LIKE ? ESCAPE '\\' OR v.description LIKE ? ESCAPE '\\')");
    args.push(likePattern(t), likePattern(t));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

// FTS5 phrase strings: quotes doubled, so the user's text is never FTS5 syntax.
const ftsQuery = (terms: string[]) => terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');

export class SqliteVideosStore implements VideosStore {
  readonly db: Database.Database;

  constructor(readonly options: SqliteVideosStoreOptions) {
    if (options.path !== ':memory:') fs.mkdirSync(path.dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  async init(): Promise<void> {
    this.db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
  }

  async upsert(videos: VideoUpsert[]): Promise<UpsertResult> {
    const exists = this.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM videos WHERE video_id = ?');
    const insert = this.db.prepare(
      `INSERT INTO videos (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw,
         first_seen_at, updated_at)
       VALUES (@videoId, @title, @description, @publishedAt, @channelId, @channelTitle, @thumbnails, @raw, @seenAt, @seenAt)
       ON CONFLICT (video_id) DO UPDATE SET
         title = excluded.title, description = excluded.description, published_at = excluded.published_at,
         channel_id = excluded.channel_id, channel_title = excluded.channel_title, thumbnails = excluded.thumbnails,
         raw = excluded.raw, updated_at = max(videos.updated_at, excluded.updated_at)
       WHERE videos.title IS NOT excluded.title OR videos.description IS NOT excluded.description
         OR videos.published_at IS NOT excluded.published_at OR videos.channel_id IS NOT excluded.channel_id
         OR videos.channel_title IS NOT excluded.channel_title OR videos.thumbnails IS NOT excluded.thumbnails
         OR videos.raw IS NOT excluded.raw`,
    );
    const addQuery = this.db.prepare('INSERT OR IGNORE INTO video_queries (video_id, query) VALUES (?, ?)');
    const touch = this.db.prepare('UPDATE videos SET updated_at = max(updated_at, ?) WHERE video_id = ?');
    const run = this.db.transaction((batch: VideoUpsert[]) => {
      const result: UpsertResult = { inserted: 0, merged: 0 };
      for (const v of batch) {
        const known = exists.get(v.videoId) !== undefined;
        const seenAt = toDate(v.seenAt, 'seenAt').toISOString();
        insert.run({
          videoId: v.videoId,
          title: v.title,
          description: v.description,
          publishedAt: toDate(v.publishedAt, 'publishedAt').toISOString(),
          channelId: v.channelId,
          channelTitle: v.channelTitle,
          thumbnails: JSON.stringify(v.thumbnails),
          raw: JSON.stringify(v.raw ?? null),
          seenAt,
        });
        if (addQuery.run(v.videoId, v.query).changes > 0 && known) touch.run(seenAt, v.videoId);
        if (known) result.merged++;
        else result.inserted++;
      }
      return result;
    });
    return run.immediate(videos);
  }

  async newestPublishedAt(query: string): Promise<string | undefined> {
    const row = this.db
      .prepare<[string], { p: string | null }>(
        `SELECT max(v.published_at) AS p FROM videos v JOIN video_queries q ON q.video_id = v.video_id WHERE q.query = ?`,
      )
      .get(query);
    return row?.p ? formatVideoTime(row.p) : undefined;
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.countNow(filter);
  }

  /** The count, by the cheapest exact way the filter allows. */
  private countNow(f: Filter): number {
    const one = <T>(sql: string, ...args: unknown[]) => this.db.prepare<unknown[], T>(sql).get(...args)!;
    const terms = searchTerms(f.search);
    const dates = f.publishedAfter !== undefined || f.publishedBefore !== undefined;
    if (!dates && terms.length === 0)
      return f.query === undefined
        ? one<{ n: number }>('SELECT n FROM videos_count WHERE one = 1').n
        : one<{ n: number }>('SELECT count(*) AS n FROM video_queries WHERE query = ?', f.query).n;
    if (!dates && f.query === undefined && terms.every((t) => [...t].length >= 3))
      return one<{ n: number }>('SELECT count(*) AS n FROM videos_fts WHERE videos_fts MATCH ?', ftsQuery(terms)).n;
    const w = where(f);
    return one<{ n: number }>(`SELECT count(*) AS n FROM videos v ${w.sql}`, ...w.args).n;
  }

  async list(params: VideoListParams): Promise<VideoListResult> {
    const plan = planVideoList(params);
    const w = where(params);
    const col = plan.field === 'title' ? 'v.title' : 'v.published_at';
    const dir = plan.sqlDesc ? 'DESC' : 'ASC';
    const conds = w.sql ? [w.sql.slice('WHERE '.length)] : [];
    const args = [...w.args];
    if (plan.after) {
      conds.push(`(${col}, v.video_id) ${plan.after.op} (?, ?)`);
      args.push(plan.after.key, plan.after.videoId);
    }
    // the page's rowids first, then their columns (the per-row queries list is built for the page only);
    // CROSS JOIN keeps that order: the planner would otherwise scan all videos and probe the page
    const sql = `SELECT ${COLUMNS} FROM (
        SELECT v.rowid AS rid FROM videos v ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
        ORDER BY ${col} ${dir}, v.video_id ${dir} LIMIT ? OFFSET ?
      ) page CROSS JOIN videos v ON v.rowid = page.rid
      ORDER BY ${col} ${dir}, v.video_id ${dir}`;
    const read = this.db.transaction(() => {
      const rows = this.db.prepare<unknown[], Row>(sql).all(...args, plan.limit, plan.offset);
      const total = this.countNow(params);
      return { rows, total };
    });
    const { rows, total } = read.deferred();
    return finishVideoList(params, plan, rows.map(toVideo), total);
  }

  async get(videoId: string): Promise<StoredVideo | undefined> {
    const row = this.db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM videos v WHERE v.video_id = ?`).get(videoId);
    return row && toVideo(row);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
