/**
 * The videos store of the YouTube watcher (`youtube-watch`) and the videos API (`longhaul api`): one
 * interface, an embedded default that several processes can read while the worker writes, and PostgreSQL
 * for production. A video is stored once (key `videoId`) and remembers every watched query that found it.
 * All SQL behind this interface is parameterized.
 */

export interface StoredVideo {
  videoId: string;
  title: string;
  description: string;
  /** ISO-8601 UTC, as YouTube gives it (`snippet.publishedAt`). */
  publishedAt: string;
  channelId: string;
  channelTitle: string;
  /** Thumbnail URLs by size (`default`, `medium`, `high`, …), as in `snippet.thumbnails`. */
  thumbnails: Record<string, string>;
  /** Watched queries that returned this video (the API's `query` filter matches any of them). */
  queries: string[];
  /** The `youtube#searchResult` item exactly as the API sent it (the latest one seen). */
  raw: unknown;
  /** ISO-8601 UTC: when longhaul first stored it, and last changed it. */
  firstSeenAt: string;
  updatedAt: string;
}

/** What the watcher hands to `upsert`: one search result of one query, seen at `seenAt`. */
export type VideoUpsert = Omit<StoredVideo, 'queries' | 'firstSeenAt' | 'updatedAt'> & {
  query: string;
  seenAt: string;
};

export interface UpsertResult {
  /** Videos not stored before. */
  inserted: number;
  /** Videos already stored (fields refreshed, query added if new); never stored twice. */
  merged: number;
}

export type VideoOrdering = 'publishedAt' | '-publishedAt' | 'title' | '-title';

export interface VideoListParams {
  query?: string;
  /** Case-insensitive text search in title and description. */
  search?: string;
  /** Inclusive bounds, ISO-8601. */
  publishedAfter?: string;
  publishedBefore?: string;
  /** Default `-publishedAt` (newest first); ties broken by videoId so pages are stable. */
  ordering?: VideoOrdering;
  /** Offset pagination (1-based page) … */
  page?: number;
  pageSize: number;
  /** … or an opaque cursor from a previous answer (keyset pagination; wins over `page`). */
  cursor?: string;
}

export interface VideoListResult {
  items: StoredVideo[];
  /** Videos matching the filters (all pages). */
  total: number;
  /** Opaque cursors of the next/previous page, when there is one. */
  nextCursor?: string;
  prevCursor?: string;
}

export interface VideosStore {
  /** Creates the tables and indexes when missing (idempotent). */
  init(): Promise<void>;
  /** Inserts new videos and merges known ones (idempotent: the same batch twice changes nothing more). */
  upsert(videos: VideoUpsert[]): Promise<UpsertResult>;
  /** The newest `publishedAt` stored for a query (the watcher's cursor after a loss of state), if any. */
  newestPublishedAt(query: string): Promise<string | undefined>;
  count(filter?: Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>): Promise<number>;
  list(params: VideoListParams): Promise<VideoListResult>;
  get(videoId: string): Promise<StoredVideo | undefined>;
  close(): Promise<void>;
}

/**
 * A list parameter the store refuses (malformed or foreign cursor, bad date, bad page size): the API
 * answers 400 naming `parameter`.
 */
export class VideosStoreInputError extends Error {
  override name = 'VideosStoreInputError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

export const VIDEO_ORDERINGS: readonly VideoOrdering[] = ['-publishedAt', 'publishedAt', 'title', '-title'];

/**
 * How both stores write a time: ISO-8601 UTC, without milliseconds when they are zero (YouTube's own
 * form, `2024-05-01T10:00:00Z`). Throws a VideosStoreInputError for an unparseable time.
 */
export function formatVideoTime(value: string | Date, parameter = 'publishedAt'): string {
  return toDate(value, parameter).toISOString().replace('.000Z', 'Z');
}

/** Parses an ISO-8601 time (a date alone is midnight UTC); a VideosStoreInputError when it is not one. */
export function toDate(value: string | Date, parameter: string): Date {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new VideosStoreInputError(parameter, `not an ISO-8601 time: ${String(value)}`);
  return d;
}

/**
 * A stored video as both stores select it (`video_id`, …): PostgreSQL returns times as Date and JSON and
 * arrays parsed, SQLite returns text — `toStoredVideo` takes either. `raw` is always the JSON text as sent.
 */
export interface StoredVideoRow {
  video_id: string;
  title: string;
  description: string;
  published_at: Date | string;
  channel_id: string;
  channel_title: string;
  thumbnails: Record<string, string> | string;
  raw: string;
  first_seen_at: Date | string;
  updated_at: Date | string;
  queries: string[] | string;
}

const parsedJson = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export const toStoredVideo = (r: StoredVideoRow): StoredVideo => ({
  videoId: r.video_id,
  title: r.title,
  description: r.description,
  publishedAt: formatVideoTime(r.published_at),
  channelId: r.channel_id,
  channelTitle: r.channel_title,
  thumbnails: parsedJson(r.thumbnails),
  queries: parsedJson(r.queries),
  raw: JSON.parse(r.raw) as unknown,
  firstSeenAt: formatVideoTime(r.first_seen_at),
  updatedAt: formatVideoTime(r.updated_at),
});

/** The search box's words: each must appear (case-insensitively) in the title or the description. */
export function searchTerms(search: string | undefined): string[] {
  return (search ?? '').split(/\s+/).filter(Boolean);
}

/** A LIKE pattern for a substring, its wildcards escaped (used with `ESCAPE '\'`). */
export const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The position a keyset cursor stands on: the sort key and videoId of a row, and which way to read. */
export interface VideoCursor {
  ordering: VideoOrdering;
  /** `publishedAt` (canonical ISO) or `title` of the row. */
  key: string;
  videoId: string;
  /** `next`: rows after this one; `prev`: rows before it. */
  direction: 'next' | 'prev';
  /** Fingerprint of the filters the cursor was made under (a cursor is refused under other filters). */
  filters: string;
}

/** The filters of a listing, as the fingerprint a cursor carries. */
export function filtersFingerprint(
  p: Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>,
): string {
  const s = JSON.stringify([p.query ?? null, p.search ?? null, p.publishedAfter ?? null, p.publishedBefore ?? null]);
  let h = 0x811c9dc5; // FNV-1a, 32 bits: enough to catch a cursor reused under other filters
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

export function encodeVideoCursor(c: VideoCursor): string {
  return Buffer.from(
    JSON.stringify([c.ordering, c.key, c.videoId, c.direction === 'next' ? 'n' : 'p', c.filters]),
  ).toString('base64url');
}

/** Decodes a cursor made by `encodeVideoCursor`; a VideosStoreInputError (`cursor`) for anything else. */
export function decodeVideoCursor(cursor: string): VideoCursor {
  const bad = (why: string) => new VideosStoreInputError('cursor', `invalid cursor: ${why}`);
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw bad('not a cursor from this API');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor from this API');
  }
  if (
    !Array.isArray(v) ||
    v.length !== 5 ||
    !VIDEO_ORDERINGS.includes(v[0] as VideoOrdering) ||
    typeof v[1] !== 'string' ||
    typeof v[2] !== 'string' ||
    (v[3] !== 'n' && v[3] !== 'p') ||
    typeof v[4] !== 'string'
  )
    throw bad('not a cursor from this API');
  const ordering = v[0] as VideoOrdering;
  if (ordering.endsWith('publishedAt')) toDate(v[1], 'cursor');
  return { ordering, key: v[1], videoId: v[2], direction: v[3] === 'n' ? 'next' : 'prev', filters: v[4] };
}

/** How a store runs one `list` call: shared by both stores so their paging cannot drift apart. */
export interface VideoListPlan {
  field: 'publishedAt' | 'title';
  /** Direction of the SQL ORDER BY (reversed from the ordering when reading backwards from a cursor). */
  sqlDesc: boolean;
  /** Keyset bound: rows strictly after (`>`) or before (`<`) `(key, videoId)` in SQL order. */
  after?: { op: '>' | '<'; key: string; videoId: string };
  offset: number;
  /** pageSize + 1: the extra row tells whether there is more. */
  limit: number;
}

export function planVideoList(p: VideoListParams): VideoListPlan {
  if (!Number.isInteger(p.pageSize) || p.pageSize < 1)
    throw new VideosStoreInputError('pageSize', 'must be a positive integer');
  const ordering = p.ordering ?? '-publishedAt';
  if (!VIDEO_ORDERINGS.includes(ordering)) throw new VideosStoreInputError('ordering', `unknown ordering ${ordering}`);
  const field = ordering.endsWith('title') ? 'title' : 'publishedAt';
  const desc = ordering.startsWith('-');
  if (p.cursor !== undefined) {
    const c = decodeVideoCursor(p.cursor);
    if (c.ordering !== ordering)
      throw new VideosStoreInputError('cursor', `the cursor was made for ordering ${c.ordering}, not ${ordering}`);
    if (c.filters !== filtersFingerprint(p))
      throw new VideosStoreInputError('cursor', 'the cursor was made under other filters');
    const forward = c.direction === 'next';
    const sqlDesc = forward ? desc : !desc;
    return {
      field,
      sqlDesc,
      after: { op: sqlDesc ? '<' : '>', key: c.key, videoId: c.videoId },
      offset: 0,
      limit: p.pageSize + 1,
    };
  }
  const page = p.page ?? 1;
  if (!Number.isInteger(page) || page < 1) throw new VideosStoreInputError('page', 'must be a positive integer');
  return { field, sqlDesc: desc, offset: (page - 1) * p.pageSize, limit: p.pageSize + 1 };
}

/** The sort key a cursor stores for a video under `field`. */
export function cursorKey(v: StoredVideo, field: VideoListPlan['field']): string {
  return field === 'title' ? v.title : new Date(v.publishedAt).toISOString();
}

/** Turns the rows of a planned query (up to pageSize + 1, in SQL order) into the page and its cursors. */
export function finishVideoList(
  p: VideoListParams,
  plan: VideoListPlan,
  rows: StoredVideo[],
  total: number,
): VideoListResult {
  const more = rows.length > p.pageSize;
  const items = rows.slice(0, p.pageSize);
  const ordering = p.ordering ?? '-publishedAt';
  const filters = filtersFingerprint(p);
  const at = (v: StoredVideo | undefined, direction: 'next' | 'prev') =>
    v && encodeVideoCursor({ ordering, key: cursorKey(v, plan.field), videoId: v.videoId, direction, filters });
  let hasNext: boolean;
  let hasPrev: boolean;
  if (plan.after && plan.sqlDesc !== ordering.startsWith('-')) {
    items.reverse(); // read backwards from a `prev` cursor
    hasPrev = more;
    hasNext = items.length > 0;
  } else if (plan.after) {
    hasNext = more;
    hasPrev = items.length > 0;
  } else {
    hasNext = more;
    hasPrev = plan.offset > 0 && items.length > 0;
  }
  return {
    items,
    total,
    ...(hasNext ? { nextCursor: at(items.at(-1), 'next') } : {}),
    ...(hasPrev ? { prevCursor: at(items[0], 'prev') } : {}),
  };
}

/**
 * What a reader keeps between requests (totals, match sets): at most `capacity` entries, the least recently
 * used dropped first.
 */
export class KeptMap<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  /** The entry, its place unchanged (for a hot path that already touched it). */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
