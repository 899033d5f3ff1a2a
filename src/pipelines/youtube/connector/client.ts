/**
 * YouTube Data API v3 client (axios + zod): `videos.list` for up to 50 IDs and `search.list`, with the
 * key passed per call (the caller picks it from the quota ledger). Error answers become typed
 * YoutubeErrors (quota exceeded, key invalid, rate limited, transient, invalid request); network errors,
 * timeouts and malformed bodies are transient. The caller decides how to retry.
 */
import type { AxiosInstance } from 'axios';
import { apiHttpClient } from '../../../kit/activity/http-client';
import type { Config } from '../../../config';
import { MAX_IDS_PER_CALL } from './enums';
import { classifyError, YoutubeError } from './errors';
import { parseRetryAfter } from '../../../kit/activity/http';
import { searchListSchema, VIDEO_ID, videoListSchema, type SearchResult, type Video, type VideoPart } from './schemas';

export { MAX_IDS_PER_CALL };

export interface VideosListResult {
  items: Video[];
  /** Requested IDs the API did not return (deleted, private or unknown). */
  missing: string[];
}

export interface SearchQuery {
  q: string;
  publishedAfter?: string;
  publishedBefore?: string;
  order?: 'date' | 'relevance' | 'viewCount' | 'rating' | 'title';
  maxResults?: number;
  pageToken?: string;
}

export interface SearchPage {
  items: SearchResult[];
  nextPageToken?: string;
  totalResults?: number;
}

export interface YoutubeClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  maxSockets?: number;
}

export class YoutubeClient {
  private readonly http: AxiosInstance;

  constructor(private readonly opts: YoutubeClientOptions) {
    this.http = apiHttpClient({
      baseUrl: opts.baseUrl,
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxSockets: opts.maxSockets ?? 64,
    });
  }

  private async get(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    let res;
    try {
      res = await this.http.get<string>(path, { params, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      const e = err as { code?: string; message?: string };
      throw new YoutubeError(
        'transient',
        `YouTube API unreachable: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(res.data);
    } catch {
      if (res.status >= 200 && res.status < 300)
        throw new YoutubeError('transient', `YouTube API sent a malformed body (HTTP ${res.status})`, res.status);
      body = undefined;
    }
    if (res.status < 200 || res.status >= 300)
      throw classifyError(res.status, body, parseRetryAfter(res.headers['retry-after']));
    return body;
  }

  /** `videos.list` for at most 50 IDs. */
  async videosList(
    ids: string[],
    parts: readonly VideoPart[],
    key: string,
    signal?: AbortSignal,
  ): Promise<VideosListResult> {
    if (ids.length === 0 || ids.length > MAX_IDS_PER_CALL)
      throw new YoutubeError('invalidRequest', `videos.list takes 1 to ${MAX_IDS_PER_CALL} IDs, got ${ids.length}`);
    const bad = ids.find((id) => !VIDEO_ID.test(id));
    if (bad !== undefined) throw new YoutubeError('invalidRequest', `not a video ID: ${JSON.stringify(bad)}`);
    const body = await this.get('/videos', { part: parts.join(','), id: ids.join(','), key }, signal);
    const parsed = videoListSchema.safeParse(body);
    if (!parsed.success)
      throw new YoutubeError('transient', `videos.list answer does not match the contract: ${parsed.error.message}`);
    const got = new Set(parsed.data.items.map((v) => v.id));
    return { items: parsed.data.items, missing: ids.filter((id) => !got.has(id)) };
  }

  /** One page of `search.list` (videos only). */
  async searchList(query: SearchQuery, key: string): Promise<SearchPage> {
    const params: Record<string, string> = {
      part: 'snippet',
      type: 'video',
      q: query.q,
      order: query.order ?? 'date',
      maxResults: String(query.maxResults ?? 50),
      key,
    };
    if (query.publishedAfter) params.publishedAfter = query.publishedAfter;
    if (query.publishedBefore) params.publishedBefore = query.publishedBefore;
    if (query.pageToken) params.pageToken = query.pageToken;
    const body = await this.get('/search', params);
    const parsed = searchListSchema.safeParse(body);
    if (!parsed.success)
      throw new YoutubeError('transient', `search.list answer does not match the contract: ${parsed.error.message}`);
    return {
      items: parsed.data.items,
      nextPageToken: parsed.data.nextPageToken,
      totalResults: parsed.data.pageInfo?.totalResults,
    };
  }
}

export function createYoutubeClient(config: Config): YoutubeClient {
  return new YoutubeClient({ baseUrl: config.YOUTUBE_BASE_URL });
}
