/**
 * The production videos store: PostgreSQL through `pg`. Same semantics as the SQLite store: text search is
 * a case-insensitive substring match of every word in title or description (ILIKE, served by pg_trgm GIN
 * indexes), titles and ids compare byte-wise (`COLLATE "C"`, as SQLite does), times are `timestamptz`.
 * `raw` is kept as `json` (the text as sent, key order included). All SQL is parameterized.
 */
import { Pool, type PoolClient } from 'pg';
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

export interface PostgresVideosStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

type StatementEvent = 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';

/** A trigger run once per statement, seeing the rows it changed as `changed` (a TRUNCATE has no such table). */
const statementTrigger = (name: string, event: StatementEvent, table: string, fn: string) =>
  `CREATE OR REPLACE TRIGGER ${name} AFTER ${event} ON ${table}\n  ` +
  (event === 'TRUNCATE' ? '' : `REFERENCING ${event === 'DELETE' ? 'OLD' : 'NEW'} TABLE AS changed `) +
  `FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`;

/** Moves the kept row count by the number of rows a statement changed. */
const countFunction = (
  name: string,
  sign: '+' | '-',
) => `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE videos_count SET n = n ${sign} (SELECT count(*) FROM changed) WHERE one = 1;
  RETURN NULL;
END $$;`;

/** Every write that moves the version: to the videos (insert, update, delete, truncate) and their queries. */
const VERSION_EVENTS: [string, StatementEvent][] = [
  ['videos', 'INSERT'],
  ['videos', 'UPDATE'],
  ['videos', 'DELETE'],
  ['videos', 'TRUNCATE'],
  ['video_queries', 'INSERT'],
  ['video_queries', 'DELETE'],
  ['video_queries', 'TRUNCATE'],
];

const SCHEMA = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS videos (
  video_id text COLLATE "C" PRIMARY KEY,
  title text COLLATE "C" NOT NULL,
  description text NOT NULL,
  published_at timestamptz NOT NULL,
  channel_id text NOT NULL,
  channel_title text NOT NULL,
  thumbnails jsonb NOT NULL,
  raw json NOT NULL,
  first_seen_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_published ON videos (published_at DESC, video_id DESC);
CREATE INDEX IF NOT EXISTS videos_title ON videos (title, video_id);
CREATE INDEX IF NOT EXISTS videos_title_trgm ON videos USING gin (title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS videos_description_trgm ON videos USING gin (description gin_trgm_ops);
CREATE TABLE IF NOT EXISTS video_queries (
  video_id text COLLATE "C" NOT NULL REFERENCES videos (video_id) ON DELETE CASCADE,
  query text COLLATE "C" NOT NULL,
  PRIMARY KEY (video_id, query)
);
CREATE INDEX IF NOT EXISTS video_queries_query ON video_queries (query, video_id);
-- the row count, kept by statement triggers: the unfiltered total without a sequential scan
CREATE TABLE IF NOT EXISTS videos_count (one int PRIMARY KEY CHECK (one = 1), n bigint NOT NULL);
INSERT INTO videos_count (one, n) SELECT 1, count(*) FROM videos ON CONFLICT (one) DO NOTHING;
${countFunction('videos_count_add', '+')}
${countFunction('videos_count_remove', '-')}
${statementTrigger('videos_count_insert', 'INSERT', 'videos', 'videos_count_add')}
${statementTrigger('videos_count_delete', 'DELETE', 'videos', 'videos_count_remove')}
-- a number every write that changes the videos or their queries moves (a statement that changes no row, such as
-- an upsert of what is already stored, leaves it): readers keep totals while it stands still
CREATE TABLE IF NOT EXISTS videos_version (one int PRIMARY KEY CHECK (one = 1), v bigint NOT NULL);
INSERT INTO videos_version (one, v) VALUES (1, 0) ON CONFLICT (one) DO NOTHING;
CREATE OR REPLACE FUNCTION videos_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- (a TRUNCATE trigger has no transition table: its branch never reads one)
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE videos_version SET v = v + 1 WHERE one = 1;
  ELSIF EXISTS (SELECT 1 FROM changed) THEN
    UPDATE videos_version SET v = v + 1 WHERE one = 1;
  END IF;
  RETURN NULL;
END $$;
${VERSION_EVENTS.map(([table, event]) =>
  statementTrigger(
    `videos_version_${table === 'videos' ? '' : 'queries_'}${event.toLowerCase()}`,
    event,
    table,
    'videos_version_bump',
  ),
).join('\n')}
`;
/** Totals remembered per filter while the version stands still (entries at most). */
const TOTALS_KEPT = 1000;

// raw::text: the json exactly as stored (pg would parse it into an object otherwise)
const COLUMNS = `v.video_id, v.title, v.description, v.published_at, v.channel_id, v.channel_title, v.thumbnails,
  v.raw::text AS raw, v.first_seen_at, v.updated_at,
  ARRAY(SELECT q.query FROM video_queries q WHERE q.video_id = v.video_id ORDER BY q.query) AS queries`;

type Filter = Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>;

function where(f: Filter, args: unknown[]): string[] {
  const parts: string[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.query !== undefined)
    parts.push(`EXISTS (SELECT 1 FROM video_queries q WHERE q.query = ${arg(f.query)} AND q.video_id = v.video_id)`);
  if (f.publishedAfter !== undefined)
    parts.push(`v.published_at >= ${arg(toDate(f.publishedAfter, 'publishedAfter').toISOString())}::timestamptz`);
  if (f.publishedBefore !== undefined)
    parts.push(`v.published_at <= ${arg(toDate(f.publishedBefore, 'publishedBefore').toISOString())}::timestamptz`);
  for (const t of searchTerms(f.search)) {
    const p = arg(likePattern(t));
    parts.push(`(v.title ILIKE ${p} OR v.description ILIKE ${p})`);
  }
  return parts;
}

const whereSql = (parts: string[]) => (parts.length ? `WHERE ${parts.join(' AND ')}` : '');

export class PostgresVideosStore implements VideosStore {
  readonly pool: Pool;
  private readonly totals = new KeptMap<{ version: string; n: number }>(TOTALS_KEPT);

  constructor(readonly options: PostgresVideosStoreOptions) {
    this.pool = new Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10 });
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async init(): Promise<void> {
    await this.tx(async (c) => {
      // one process at a time creates the schema (CREATE … IF NOT EXISTS races otherwise)
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('longhaul.videos.schema'))`);
      await c.query(SCHEMA);
    });
  }

  async upsert(videos: VideoUpsert[]): Promise<UpsertResult> {
    if (videos.length === 0) return { inserted: 0, merged: 0 };
    return this.tx(async (c) => {
      const result: UpsertResult = { inserted: 0, merged: 0 };
      for (const v of videos) {
        const seenAt = toDate(v.seenAt, 'seenAt').toISOString();
        const known = (await c.query('SELECT 1 FROM videos WHERE video_id = $1', [v.videoId])).rowCount! > 0;
        await c.query(
          `INSERT INTO videos AS o (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw,
             first_seen_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
           ON CONFLICT (video_id) DO UPDATE SET
             title = excluded.title, description = excluded.description, published_at = excluded.published_at,
             channel_id = excluded.channel_id, channel_title = excluded.channel_title, thumbnails = excluded.thumbnails,
             raw = excluded.raw, updated_at = greatest(o.updated_at, excluded.updated_at)
           WHERE (o.title, o.description, o.published_at, o.channel_id, o.channel_title, o.thumbnails, o.raw::text)
             IS DISTINCT FROM (excluded.title, excluded.description, excluded.published_at, excluded.channel_id,
               excluded.channel_title, excluded.thumbnails, excluded.raw::text)`,
          [
            v.videoId,
            v.title,
            v.description,
            toDate(v.publishedAt, 'publishedAt').toISOString(),
            v.channelId,
            v.channelTitle,
            JSON.stringify(v.thumbnails),
            JSON.stringify(v.raw ?? null),
            seenAt,
          ],
        );
        const added = await c.query(
          'INSERT INTO video_queries (video_id, query) VALUES ($1, $2) ON CONFLICT DO NOTHING',
          [v.videoId, v.query],
        );
        if (added.rowCount! > 0 && known)
          await c.query('UPDATE videos SET updated_at = greatest(updated_at, $1) WHERE video_id = $2', [
            seenAt,
            v.videoId,
          ]);
        if (known) result.merged++;
        else result.inserted++;
      }
      return result;
    });
  }

  async newestPublishedAt(query: string): Promise<string | undefined> {
    const r = await this.pool.query<{ p: Date | null }>(
      `SELECT max(v.published_at) AS p FROM videos v JOIN video_queries q ON q.video_id = v.video_id WHERE q.query = $1`,
      [query],
    );
    const p = r.rows[0]?.p;
    return p ? formatVideoTime(p) : undefined;
  }

  /**
   * The exact count, remembered per filter while `videos_version` stands still (any write by any process
   * moves it, in the writing transaction). The version is read before the count: a count that already sees a
   * later write is kept under the earlier version, which nobody reads again once that write has committed.
   */
  async count(filter: Filter = {}): Promise<number> {
    const version = (await this.pool.query<{ v: string }>('SELECT v FROM videos_version WHERE one = 1')).rows[0].v;
    const args: unknown[] = [];
    const key = JSON.stringify([where(filter, args), args]);
    const kept = this.totals.get(key);
    if (kept?.version === version) return kept.n;
    const n = await this.countExact(filter);
    this.totals.set(key, { version, n });
    return n;
  }

  private async countExact(filter: Filter): Promise<number> {
    const only = (k: keyof Filter) =>
      (['query', 'search', 'publishedAfter', 'publishedBefore'] as const).every(
        (x) => x === k || filter[x] === undefined,
      );
    if (only('query') && filter.query === undefined)
      return Number((await this.pool.query<{ n: string }>('SELECT n FROM videos_count WHERE one = 1')).rows[0].n);
    if (only('query'))
      return (
        await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM video_queries WHERE query = $1', [
          filter.query,
        ])
      ).rows[0].n;
    const args: unknown[] = [];
    const sql = `SELECT count(*)::int AS n FROM videos v ${whereSql(where(filter, args))}`;
    return (await this.pool.query<{ n: number }>(sql, args)).rows[0].n;
  }

  async list(params: VideoListParams): Promise<VideoListResult> {
    const plan = planVideoList(params);
    const args: unknown[] = [];
    const conds = where(params, args);
    const col = plan.field === 'title' ? 'v.title' : 'v.published_at';
    const dir = plan.sqlDesc ? 'DESC' : 'ASC';
    if (plan.after) {
      const key =
        plan.field === 'title' ? `$${args.push(plan.after.key)}` : `$${args.push(plan.after.key)}::timestamptz`;
      conds.push(`(${col}, v.video_id) ${plan.after.op} (${key}, $${args.push(plan.after.videoId)})`);
    }
    // the page's ids first, then their columns: the target list (with its queries subquery) would
    // otherwise be computed for every row an OFFSET skips
    const sql = `SELECT ${COLUMNS} FROM (
        SELECT v.video_id FROM videos v ${whereSql(conds)}
        ORDER BY ${col} ${dir}, v.video_id ${dir} LIMIT $${args.push(plan.limit)} OFFSET $${args.push(plan.offset)}
      ) page JOIN videos v ON v.video_id = page.video_id
      ORDER BY ${col} ${dir}, v.video_id ${dir}`;
    const [rows, total] = await Promise.all([this.pool.query<StoredVideoRow>(sql, args), this.count(params)]);
    return finishVideoList(params, plan, rows.rows.map(toStoredVideo), total);
  }

  async get(videoId: string): Promise<StoredVideo | undefined> {
    const r = await this.pool.query<StoredVideoRow>(`SELECT ${COLUMNS} FROM videos v WHERE v.video_id = $1`, [videoId]);
    return r.rows[0] && toStoredVideo(r.rows[0]);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
