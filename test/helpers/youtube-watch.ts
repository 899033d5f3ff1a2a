/**
 * youtube-watch test helpers: an in-memory VideosStore (the watcher's time-skipping tests check what it
 * wrote without a database; the integration test uses the real store) and the sandbox feed's expected
 * videos over a time range.
 */
import type {
  StoredVideo,
  UpsertResult,
  VideoListParams,
  VideoListResult,
  VideosStore,
  VideoUpsert,
} from '../../src/sinks/videos-store';
import type { SearchFeed } from '../../src/pipelines/youtube/sandbox/videos';

export class MemoryVideosStore implements VideosStore {
  readonly videos = new Map<string, StoredVideo>();
  /** Every upsert call's size and outcome, in order. */
  readonly upserts: (UpsertResult & { size: number })[] = [];
  /**
   * Upserts to fail before writing anything, each with this error (a worker dying between the API's answer
   * and the write, as the activity sees it: its attempt fails and a retry comes later).
   */
  readonly failing: Error[] = [];

  async init(): Promise<void> {}

  async upsert(rows: VideoUpsert[]): Promise<UpsertResult> {
    const fail = this.failing.shift();
    if (fail) throw fail;
    let inserted = 0;
    let merged = 0;
    for (const r of rows) {
      const prev = this.videos.get(r.videoId);
      const { query, seenAt, ...fields } = r;
      if (prev) {
        merged++;
        this.videos.set(r.videoId, {
          ...prev,
          ...fields,
          queries: prev.queries.includes(query) ? prev.queries : [...prev.queries, query],
          updatedAt: seenAt,
        });
      } else {
        inserted++;
        this.videos.set(r.videoId, { ...fields, queries: [query], firstSeenAt: seenAt, updatedAt: seenAt });
      }
    }
    this.upserts.push({ inserted, merged, size: rows.length });
    return { inserted, merged };
  }

  private matching(f: Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'> = {}) {
    const text = f.search?.toLowerCase();
    return [...this.videos.values()].filter(
      (v) =>
        (!f.query || v.queries.includes(f.query)) &&
        (!text || v.title.toLowerCase().includes(text) || v.description.toLowerCase().includes(text)) &&
        (!f.publishedAfter || Date.parse(v.publishedAt) >= Date.parse(f.publishedAfter)) &&
        (!f.publishedBefore || Date.parse(v.publishedAt) <= Date.parse(f.publishedBefore)),
    );
  }

  async newestPublishedAt(query: string): Promise<string | undefined> {
    const all = this.matching({ query }).map((v) => v.publishedAt);
    return all.sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  }

  async count(f?: Pick<VideoListParams, 'query' | 'search' | 'publishedAfter' | 'publishedBefore'>): Promise<number> {
    return this.matching(f).length;
  }

  async list(p: VideoListParams): Promise<VideoListResult> {
    if (p.cursor) throw new Error('MemoryVideosStore: cursor pagination is not implemented (offset pages only)');
    const ordering = p.ordering ?? '-publishedAt';
    const dir = ordering.startsWith('-') ? -1 : 1;
    const field = ordering.replace('-', '') as 'publishedAt' | 'title';
    const all = this.matching(p).sort((a, b) => {
      const x =
        field === 'publishedAt'
          ? Date.parse(a.publishedAt) - Date.parse(b.publishedAt)
          : a.title.localeCompare(b.title);
      return dir * x || a.videoId.localeCompare(b.videoId);
    });
    const page = p.page ?? 1;
    return { items: all.slice((page - 1) * p.pageSize, page * p.pageSize), total: all.length };
  }

  async get(videoId: string): Promise<StoredVideo | undefined> {
    return this.videos.get(videoId);
  }

  async close(): Promise<void> {}
}

/** The feed's video IDs published in [fromMs, toMs] (inclusive), newest first. */
export function feedIds(feed: SearchFeed, fromMs: number, toMs: number): string[] {
  return feed.window(fromMs - 1, toMs, 1_000_000).map((k) => feed.videoId(k));
}

/** Stored videos of a store, newest first (publishedAt, then videoId). */
export function newestFirst(videos: Iterable<StoredVideo>): StoredVideo[] {
  return [...videos].sort(
    (a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt) || a.videoId.localeCompare(b.videoId),
  );
}
