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
export interface VideoUpsert {
  videoId: string;
  query: string;
  title: string;
  description: string;
  publishedAt: string;
  channelId: string;
  channelTitle: string;
  thumbnails: Record<string, string>;
  raw: unknown;
  seenAt: string;
}

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
