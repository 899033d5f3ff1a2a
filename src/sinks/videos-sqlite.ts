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
  KeptMap,
  likePattern,
  planVideoList,
  searchTerms,
  toDate,
  toStoredVideo,
  type StoredVideo,
  type StoredVideoRow,
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
  /** The largest rowid for which text searches keep a match set (tests: 0, never; default 64,000,000). */
  maxMatchRowid?: number;
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
-- what changed a video's text search (inserted, deleted, title or description updated): the match sets readers
-- keep (MatchSet) are brought up to date from it instead of built again; the store's writes keep its last
-- CHANGES_KEPT entries
CREATE TABLE IF NOT EXISTS videos_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, rid INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS videos_changes_insert AFTER INSERT ON videos BEGIN
  INSERT INTO videos_changes (rid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS videos_changes_delete AFTER DELETE ON videos BEGIN
  INSERT INTO videos_changes (rid) VALUES (old.rowid);
END;
CREATE TRIGGER IF NOT EXISTS videos_changes_update AFTER UPDATE OF title, description ON videos
  WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
  INSERT INTO videos_changes (rid) VALUES (new.rowid);
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

const COLUMNS = `v.video_id, v.title, v.description, v.published_at, v.channel_id, v.channel_title, v.thumbnails, v.raw,
  v.first_seen_at, v.updated_at,
  (SELECT json_group_array(q.query) FROM (SELECT query FROM video_queries WHERE video_id = v.video_id ORDER BY query) q) AS queries`;

/** Terms of 3 characters or more use the trigram index; shorter ones a LIKE scan. */
const isLong = (term: string) => [...term].length >= 3;

type Filter = Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>;

/**
 * The WHERE clause of a filter. The text search's matches are tested as a set: `+v.rowid IN (matches)`, the
 * set built by SQLite for this statement (the `+` keeps the planner from driving the query by the matches:
 * one random row read per match, seconds for a common word over a million videos; it walks the ordering's
 * index and tests each rowid), or — `matches`, the key of a match set the store keeps (MatchSets) — a
 * function asking that set, with nothing to build.
 */
function where(f: Filter, matches?: string): { sql: string; args: unknown[] } {
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
  const long = terms.filter(isLong);
  if (long.length > 0) {
    if (matches !== undefined) {
      parts.push(`${MATCHES_FN}(?, v.rowid)`);
      args.push(matches);
    } else {
      parts.push('+v.rowid IN (SELECT rowid FROM videos_fts WHERE videos_fts MATCH ?)');
      args.push(ftsQuery(long));
    }
  }
  for (const t of terms.filter((x) => !isLong(x))) {
    parts.push("(v.title LIKE ? ESCAPE '\\' OR v.description LIKE ? ESCAPE '\\')");
    args.push(likePattern(t), likePattern(t));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

const MATCHES_FN = 'longhaul_matches';
/** Totals remembered per filter while nothing has been written (entries at most). */
const TOTALS_KEPT = 1000;
/** Match sets kept while nothing has been written: at most this many, and none for a rowid beyond MAX_ROWID. */
const MATCH_SETS_KEPT = 16;
const MAX_ROWID = 64_000_000; // an 8 MB bitmap

/** Entries of videos_changes the store's writes keep (a reader further behind builds its sets again). */
const CHANGES_KEPT = 100_000;
/** The most changed videos a match set is brought up to date by (each asks the FTS index: ~0.4 ms). */
const MAX_DELTA = 2_000;

/**
 * The rowids a text search matches, as a bitmap over rowids (1,000,000 videos: 125 KB), with their count.
 * A common word over 1,000,000 videos matches ~241,000 rows, and building that set (~80 ms) is most of what
 * a page of it costs; kept, the page walks the ordering's index asking the bitmap (bench/videos-api.ts: below
 * 1 ms for the first page). After a write it is brought up to date from videos_changes (the changed videos
 * asked again), not built again.
 */
interface MatchSet {
  bits: Uint8Array;
  count: number;
  /** The store's version it is true for, and the last videos_changes entry it has seen. */
  version: string;
  seq: number;
}

/** Whether rowid `r` is in a match set's bitmap. */
const hasBit = (bits: Uint8Array, r: number) => r >> 3 < bits.length && (bits[r >> 3]! & (1 << (r & 7))) !== 0;

// FTS5 phrase strings: quotes doubled, so the user's text is never FTS5 syntax.
const ftsQuery = (terms: string[]) => terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');

export class SqliteVideosStore implements VideosStore {
  readonly db: Database.Database;
  private readonly totals = new KeptMap<number>(TOTALS_KEPT);
  private readonly matchSets = new KeptMap<MatchSet>(MATCH_SETS_KEPT);
  /** How the match sets were kept: built from the whole FTS index, or brought up to date (diagnostics, tests). */
  readonly matchSetStats = { builds: 0, catchUps: 0 };
  private version = '';
  /** Commits made through this connection (SQLite's data_version does not count them). */
  private writes = 0;

  constructor(readonly options: SqliteVideosStoreOptions) {
    if (options.path !== ':memory:') fs.mkdirSync(path.dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.function(MATCHES_FN, { deterministic: false }, (key: unknown, rowid: unknown) => {
      const set = this.matchSets.peek(key as string); // called per row: matchSet() made it the latest
      if (set === undefined) throw new Error(`videos store: no match set for ${String(key)}`);
      return hasBit(set.bits, rowid as number) ? 1 : 0;
    });
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
    const prune = this.db.prepare('DELETE FROM videos_changes WHERE seq <= (SELECT max(seq) FROM videos_changes) - ?');
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
      prune.run(CHANGES_KEPT); // in the batch's transaction: one commit, and no failure after it
      return result;
    });
    try {
      return run.immediate(videos);
    } finally {
      this.writes++;
    }
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
    return this.db.transaction(() => this.countNow(filter)).deferred();
  }

  /**
   * Forgets the remembered totals once anything was written (match sets are brought up to date when next
   * used): the version is SQLite's `data_version` (it changes when another connection — the worker —
   * commits) and this store's own writes. Read inside a read transaction, both describe its snapshot.
   */
  private checkVersion(): void {
    const version = `${String(this.db.pragma('data_version', { simple: true }))}:${this.writes}`;
    if (version === this.version) return;
    this.totals.clear();
    this.version = version;
  }

  /** The exact count, remembered per filter while nothing is written. Inside a read transaction. */
  private countNow(f: Filter): number {
    this.checkVersion();
    const key = JSON.stringify(where(f));
    let n = this.totals.get(key);
    if (n === undefined) {
      n = this.countExact(f);
      this.totals.set(key, n);
    }
    return n;
  }

  /**
   * The match set of a filter's text search (terms of 3 characters or more), up to date with the snapshot;
   * undefined when there is no such search or the rowids are too large for a bitmap (then SQLite builds the
   * matches in the statement). Inside a read transaction.
   */
  private matchSet(f: Filter): { key: string; set: MatchSet } | undefined {
    const long = searchTerms(f.search).filter(isLong);
    if (long.length === 0) return undefined;
    this.checkVersion();
    const key = ftsQuery(long);
    let set = this.matchSets.get(key);
    if (set !== undefined && set.version !== this.version && !this.catchUp(key, set)) {
      this.matchSets.delete(key);
      set = undefined;
    }
    if (set === undefined) {
      const max = this.db.prepare<[], number | null>('SELECT max(rowid) FROM videos').pluck().get() ?? 0;
      if (max > this.maxRowid()) return undefined;
      const rowids = this.db
        .prepare<[string], number>('SELECT rowid FROM videos_fts WHERE videos_fts MATCH ?')
        .pluck()
        .all(key);
      const bits = new Uint8Array((max >> 3) + 1);
      for (const r of rowids) bits[r >> 3] |= 1 << (r & 7);
      set = { bits, count: rowids.length, version: this.version, seq: this.lastChange() };
      this.matchSetStats.builds++;
      this.matchSets.set(key, set);
    }
    return { key, set };
  }

  private maxRowid(): number {
    return Math.min(this.options.maxMatchRowid ?? MAX_ROWID, MAX_ROWID);
  }

  private lastChange(): number {
    return this.db.prepare<[], number | null>('SELECT max(seq) FROM videos_changes').pluck().get() ?? 0;
  }

  /**
   * Brings a match set up to date: the videos changed since its last videos_changes entry are asked again
   * (deleted ones match nothing). False when it cannot (entries pruned, too many changes, a rowid too
   * large): the set is then built again.
   */
  private catchUp(key: string, set: MatchSet): boolean {
    const range = this.db
      .prepare<[], { lo: number | null; hi: number | null }>(
        'SELECT min(seq) AS lo, max(seq) AS hi FROM videos_changes',
      )
      .get()!;
    const hi = range.hi ?? 0;
    if (hi < set.seq) return false; // another file, or entries removed by hand
    if (hi > set.seq) {
      if (range.lo === null || range.lo > set.seq + 1 || hi - set.seq > MAX_DELTA) return false;
      const changed = this.db
        .prepare<[number], number>('SELECT DISTINCT rid FROM videos_changes WHERE seq > ?')
        .pluck()
        .all(set.seq);
      if (changed.some((r) => r > this.maxRowid())) return false;
      const matched = new Set(
        this.db
          .prepare<[string, number], number>(
            'SELECT rowid FROM videos_fts WHERE videos_fts MATCH ? AND rowid IN (SELECT rid FROM videos_changes WHERE seq > ?)',
          )
          .pluck()
          .all(key, set.seq),
      );
      const top = Math.max(...changed);
      if (top >> 3 >= set.bits.length) {
        const grown = new Uint8Array(
          Math.max((top >> 3) + 1, Math.min(set.bits.length * 2, (this.maxRowid() >> 3) + 1)),
        );
        grown.set(set.bits);
        set.bits = grown;
      }
      for (const r of changed) {
        const was = hasBit(set.bits, r);
        const now = matched.has(r);
        if (was === now) continue;
        set.bits[r >> 3] ^= 1 << (r & 7);
        set.count += now ? 1 : -1;
      }
      set.seq = hi;
      this.matchSetStats.catchUps++;
    }
    set.version = this.version;
    return true;
  }

  /** The count, by the cheapest exact way the filter allows. */
  private countExact(f: Filter): number {
    const matches = this.matchSet(f);
    const one = <T>(sql: string, ...args: unknown[]) => this.db.prepare<unknown[], T>(sql).get(...args)!;
    const terms = searchTerms(f.search);
    const dates = f.publishedAfter !== undefined || f.publishedBefore !== undefined;
    if (!dates && terms.length === 0)
      return f.query === undefined
        ? one<{ n: number }>('SELECT n FROM videos_count WHERE one = 1').n
        : one<{ n: number }>('SELECT count(*) AS n FROM video_queries WHERE query = ?', f.query).n;
    if (!dates && f.query === undefined && terms.every(isLong))
      return matches
        ? matches.set.count
        : one<{ n: number }>('SELECT count(*) AS n FROM videos_fts WHERE videos_fts MATCH ?', ftsQuery(terms)).n;
    const w = where(f, matches?.key);
    return one<{ n: number }>(`SELECT count(*) AS n FROM videos v ${w.sql}`, ...w.args).n;
  }

  async list(params: VideoListParams): Promise<VideoListResult> {
    const plan = planVideoList(params);
    const col = plan.field === 'title' ? 'v.title' : 'v.published_at';
    const dir = plan.sqlDesc ? 'DESC' : 'ASC';
    const read = this.db.transaction(() => {
      const total = this.countNow(params);
      const w = where(params, this.matchSet(params)?.key);
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
      const rows = this.db.prepare<unknown[], StoredVideoRow>(sql).all(...args, plan.limit, plan.offset);
      return { rows, total };
    });
    const { rows, total } = read.deferred();
    return finishVideoList(params, plan, rows.map(toStoredVideo), total);
  }

  async get(videoId: string): Promise<StoredVideo | undefined> {
    const row = this.db
      .prepare<[string], StoredVideoRow>(`SELECT ${COLUMNS} FROM videos v WHERE v.video_id = ?`)
      .get(videoId);
    return row && toStoredVideo(row);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
