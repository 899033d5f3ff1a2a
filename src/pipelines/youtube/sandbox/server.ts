/**
 * The YouTube Data API v3 sandbox: `GET /youtube/v3/videos` and `GET /youtube/v3/search` with the real
 * parameters, response shapes and error bodies. Keys belong to projects; each project has a daily quota
 * (10,000 units by default; videos.list 1 unit, search.list 100 — or, with `searchCallsPerDay`, the newer
 * model's separate bucket of search calls) counted on the sandbox clock and reset at midnight
 * America/Los_Angeles (computed here with Intl, independently of the ledger's own arithmetic).
 * Errors: 403 quotaExceeded, 400 API_KEY_INVALID (unknown or revoked key), 403 rateLimitExceeded
 * (`rateLimit(n)` or injected '429' faults), 5xx backendError, 400 invalidFilters / missingRequiredParameter.
 * Every call is logged with its project, key fingerprint, units charged and requested IDs.
 */
import { fingerprint } from '../../../node/fingerprint';
import { HttpError, SandboxServer, type SandboxRequest, type SandboxResponse } from '../../../sandbox/server';
import type { FaultKind } from '../../../sandbox/faults';
import { fakeVideo, isMissing, SearchFeed, seedOf, THUMBNAIL_SIZES, YOUTUBE_THUMBNAIL_ORIGIN } from './videos';

export interface SandboxProject {
  id: string;
  keys: string[];
  /** Units per Pacific day (default: the sandbox's `unitsPerDay`). */
  unitsPerDay?: number;
  /** search.list calls per Pacific day under the newer model (default: the sandbox's `searchCallsPerDay`). */
  searchCallsPerDay?: number;
}

export interface YoutubeSandboxOptions {
  seed?: number;
  projects?: SandboxProject[];
  unitsPerDay?: number;
  costs?: { videos?: number; search?: number };
  /** Fraction of well-formed IDs that are deleted/private (absent from answers). */
  missingRate?: number;
  /** Added to every API answer (real time). */
  latencyMs?: number;
  /**
   * List thumbnails on the sandbox's own URL (it serves them at /vi/:id/:file) instead of the real image
   * host's: `longhaul dev` and the demo, whose dashboard then shows pictures. Off by default: answers then
   * hold the same URLs wherever the sandbox listens.
   */
  ownThumbnails?: boolean;
  /** Where search feeds start (epoch ms). */
  searchOriginMs?: number;
  /** Spacing of every search feed's uploads (default: seeded per query, 5 to 60 minutes). */
  searchIntervalMs?: number;
  /**
   * The newer quota model: search.list draws on its own bucket of this many calls per project and Pacific
   * day (1 unit a call) instead of `costs.search` units of the daily units. Unset: the classic model.
   */
  searchCallsPerDay?: number;
  /**
   * A shortened quota day: quotas reset every this many ms from the epoch instead of at midnight
   * America/Los_Angeles (tests and demos that show a reset within minutes; the worker's YOUTUBE_QUOTA_DAY
   * must say the same).
   */
  quotaDayMs?: number;
  /**
   * videos.list answers carry each video's ID only, whatever the parts asked (`longhaul simulate`: hundreds of
   * thousands of IDs answered cheaply; the simulation says so in its output).
   */
  idsOnly?: boolean;
}

/** `project:key` pairs for YOUTUBE_API_KEYS. */
export const youtubeKeyPairs = (projects: SandboxProject[]) =>
  projects.flatMap((p) => p.keys.map((k) => `${p.id}:${k}`)).join(',');

export const YOUTUBE_DEMO_PROJECTS: SandboxProject[] = [
  { id: 'longhaul-demo-1', keys: ['AIzaSandboxDemoKey-project1-a', 'AIzaSandboxDemoKey-project1-b'] },
  { id: 'longhaul-demo-2', keys: ['AIzaSandboxDemoKey-project2-a'] },
  { id: 'longhaul-demo-3', keys: ['AIzaSandboxDemoKey-project3-a'] },
];

const VALID_PARTS = new Set([
  'snippet',
  'contentDetails',
  'status',
  'statistics',
  'topicDetails',
  'id',
  'player',
  'recordingDetails',
  'fileDetails',
  'processingDetails',
  'suggestions',
  'liveStreamingDetails',
  'localizations',
  'paidProductPlacementDetails',
]);

const QUOTA_MESSAGE =
  'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.';

export function googleError(code: number, message: string, reason: string, domain = 'youtube.parameter', extra = {}) {
  return { error: { code, message, errors: [{ message, domain, reason }], ...extra } };
}

const quotaExceeded = () => new HttpError(403, googleError(403, QUOTA_MESSAGE, 'quotaExceeded', 'youtube.quota'));
const keyInvalid = () =>
  new HttpError(
    400,
    googleError(400, 'API key not valid. Please pass a valid API key.', 'badRequest', 'global', {
      status: 'INVALID_ARGUMENT',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'youtube.googleapis.com' },
        },
      ],
    }),
  );
const rateLimited = () =>
  googleError(
    403,
    'The request cannot be completed because you have exceeded a rate limit.',
    'rateLimitExceeded',
    'usageLimits',
  );

/** One API call as the sandbox saw it (tests check who called what, on which key and Pacific day). */
export interface YoutubeCall {
  method: 'videos.list' | 'search.list';
  /** Sandbox-clock time (epoch ms). */
  at: number;
  status: number;
  key?: string;
  project?: string;
  /** Pacific day the units were charged to. */
  day?: string;
  units?: number;
  /** videos.list: the IDs asked for. */
  ids?: string[];
  q?: string;
  /** search.list: the time filters and whether a page token was sent. */
  publishedAfter?: string;
  publishedBefore?: string;
  pageToken?: boolean;
}

const pacificDayFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Los_Angeles',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

export class YoutubeSandbox extends SandboxServer {
  readonly projects: SandboxProject[];
  private readonly keyProject = new Map<string, SandboxProject>();
  private readonly revoked = new Set<string>();
  private readonly usage = new Map<string, { day: string; used: number }>();
  private readonly feeds = new Map<string, SearchFeed>();
  private rateLimitLeft = 0;
  readonly seed: number;
  /** Every API call with its facts (the framework log's `meta` is only safe to write before a handler awaits). */
  readonly calls: YoutubeCall[] = [];

  constructor(private readonly o: YoutubeSandboxOptions = {}) {
    super('youtube', {
      seed: o.seed,
      errorBody: (status: number, kind: FaultKind) =>
        kind === '429'
          ? rateLimited()
          : status >= 500
            ? googleError(status, 'Backend Error', 'backendError', 'global')
            : googleError(status, `injected ${kind}`, 'badRequest', 'global'),
    });
    this.seed = o.seed ?? 1;
    this.projects = o.projects ?? YOUTUBE_DEMO_PROJECTS;
    for (const p of this.projects) for (const k of p.keys) this.keyProject.set(k, p);
    this.route('GET', '/youtube/v3/videos', 'videos.list', (req) =>
      this.record('videos.list', req, (c) => this.videos(req, c)),
    );
    this.route('GET', '/youtube/v3/search', 'search.list', (req) =>
      this.record('search.list', req, (c) => this.search(req, c)),
    );
    // The thumbnails its answers list (on its own URL, not the real image host: the demo shows pictures).
    this.route('GET', '/vi/:id/:file', 'thumbnail', (req) => this.thumbnail(req));
    this.route('POST', '/__sandbox/youtube/revoke', 'admin', (req) => {
      this.revokeKey(req.json<{ key: string }>().key);
      return { status: 204 };
    });
    this.route('POST', '/__sandbox/youtube/rate-limit', 'admin', (req) => {
      this.rateLimit(req.json<{ times: number }>().times);
      return { status: 204 };
    });
    this.route('GET', '/__sandbox/youtube/usage', 'admin', async () => ({ body: await this.usageToday() }));
  }

  /** A generated picture for a video's thumbnail (SVG: a colour of the video and its id), at the listed size. */
  private thumbnail(req: SandboxRequest): SandboxResponse {
    const id = req.params.id ?? '';
    const size = THUMBNAIL_SIZES[req.params.file ?? ''];
    if (!size || !/^[A-Za-z0-9_-]{11}$/.test(id))
      return { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>404 Not Found</h1>' };
    const h = seedOf(this.seed, 'thumbnail', id);
    const { width, height } = size;
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
      `<rect width="100%" height="100%" fill="hsl(${h % 360},55%,45%)"/>` +
      `<text x="50%" y="54%" font-family="sans-serif" font-size="${Math.round(height / 6)}" fill="#fff" ` +
      `text-anchor="middle">${id}</text></svg>`;
    return { headers: { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' }, body: svg };
  }

  /** The answer's thumbnails on this sandbox's own URL (the real API lists https://i.ytimg.com/vi/…). */
  private ownThumbnails<T extends Record<string, unknown>>(item: T): T {
    const thumbnails = (item.snippet as { thumbnails?: Record<string, { url: string }> } | undefined)?.thumbnails;
    if (thumbnails && this.url && this.o.ownThumbnails)
      for (const t of Object.values(thumbnails))
        if (t.url.startsWith(`${YOUTUBE_THUMBNAIL_ORIGIN}/`))
          t.url = this.url + t.url.slice(YOUTUBE_THUMBNAIL_ORIGIN.length);
    return item;
  }

  /** The key now answers API_KEY_INVALID (deleted or restricted in the Cloud console). */
  revokeKey(key: string): void {
    this.revoked.add(key);
  }

  /** The next `times` calls answer 403 rateLimitExceeded. */
  rateLimit(times: number): void {
    this.rateLimitLeft += times;
  }

  /** The quota day an instant falls on: its Pacific date, or the shortened day's number. */
  quotaDay(at: number): string {
    const len = this.o.quotaDayMs;
    return len ? `day-${Math.floor(at / len)}` : pacificDayFmt.format(new Date(at));
  }

  /** Units used today per project (sandbox clock, Pacific day). */
  async usageToday(): Promise<Record<string, number>> {
    const day = this.quotaDay(await this.clock.now());
    return Object.fromEntries(
      this.projects.map((p) => [p.id, this.usage.get(p.id)?.day === day ? this.usage.get(p.id)!.used : 0]),
    );
  }

  /** Authenticates the key and charges its project, or throws the API's error. */
  private async charge(
    req: SandboxRequest,
    units: number,
    call: YoutubeCall,
    bucket: 'units' | 'search' = 'units',
  ): Promise<SandboxProject> {
    const key = req.query.get('key');
    if (!key)
      throw new HttpError(
        403,
        googleError(403, 'The request is missing a valid API key.', 'forbidden', 'global', {
          status: 'PERMISSION_DENIED',
        }),
      );
    const project = this.keyProject.get(key);
    call.key = fingerprint(key);
    call.project = project?.id;
    if (!project || this.revoked.has(key)) throw keyInvalid();
    if (this.rateLimitLeft > 0) {
      this.rateLimitLeft--;
      throw new HttpError(403, rateLimited());
    }
    call.at = await this.clock.now();
    const day = this.quotaDay(call.at);
    const usageKey = bucket === 'search' ? `search:${project.id}` : project.id;
    const u = this.usage.get(usageKey);
    const used = u?.day === day ? u.used : 0;
    const quota =
      bucket === 'search'
        ? (project.searchCallsPerDay ?? this.o.searchCallsPerDay ?? 100)
        : (project.unitsPerDay ?? this.o.unitsPerDay ?? 10_000);
    if (used + units > quota) throw quotaExceeded();
    this.usage.set(usageKey, { day, used: used + units });
    call.day = day;
    call.units = units;
    return project;
  }

  /**
   * "All API requests, including invalid requests, incur a quota cost of at least one point" (the quota
   * documentation): a request refused as invalid (400) before it was charged is charged one unit — once
   * its key is known, valid and within quota (else that error is the answer).
   */
  private async chargeInvalid(req: SandboxRequest, call: YoutubeCall, err: unknown): Promise<never> {
    if (err instanceof HttpError && err.status === 400 && call.units === undefined) await this.charge(req, 1, call);
    throw err;
  }

  /** Notes the call's facts in the framework log (synchronously, before any await) and in `calls`. */
  private async record(
    method: YoutubeCall['method'],
    req: SandboxRequest,
    handler: (call: YoutubeCall) => Promise<SandboxResponse>,
  ): Promise<SandboxResponse> {
    const key = req.query.get('key');
    const ids = method === 'videos.list' ? (req.query.get('id') ?? '').split(',').filter(Boolean) : undefined;
    const call: YoutubeCall = { method, at: 0, status: 0, ids, q: req.query.get('q') ?? undefined };
    if (method === 'search.list') {
      call.publishedAfter = req.query.get('publishedAfter') ?? undefined;
      call.publishedBefore = req.query.get('publishedBefore') ?? undefined;
      call.pageToken = req.query.has('pageToken');
    }
    this.calls.push(call);
    this.note({
      key: key ? fingerprint(key) : undefined,
      project: key ? this.keyProject.get(key)?.id : undefined,
      ids: ids?.length,
    });
    try {
      const res = await handler(call).catch((err: unknown) => this.chargeInvalid(req, call, err));
      call.status = res.status ?? 200;
      return res;
    } catch (err) {
      call.status = err instanceof HttpError ? err.status : 500;
      throw err;
    } finally {
      if (!call.at) call.at = await this.clock.now();
    }
  }

  private async latency(): Promise<void> {
    if (this.o.latencyMs) await new Promise((r) => setTimeout(r, this.o.latencyMs));
  }

  private parts(req: SandboxRequest): Set<string> {
    const raw = req.query.get('part');
    if (!raw)
      throw new HttpError(
        400,
        googleError(400, 'No filter selected. Expected one of: myRated, chart, id', 'missingRequiredParameter'),
      );
    const parts = raw.split(',').map((p) => p.trim());
    const bad = parts.find((p) => !VALID_PARTS.has(p));
    if (bad) throw new HttpError(400, googleError(400, `'${bad}'`, 'unknownPart'));
    return new Set(parts);
  }

  private async videos(req: SandboxRequest, call: YoutubeCall): Promise<SandboxResponse> {
    await this.latency();
    const parts = this.parts(req);
    const idParam = req.query.get('id');
    if (idParam === null)
      throw new HttpError(
        400,
        googleError(400, 'No filter selected. Expected one of: myRated, chart, id', 'missingRequiredParameter'),
      );
    const ids = idParam.split(',').filter(Boolean);
    await this.charge(req, this.o.costs?.videos ?? 1, call);
    if (ids.length > 50)
      throw new HttpError(
        400,
        googleError(400, 'The request specifies an invalid filter parameter.', 'invalidFilters'),
      );
    const rate = this.o.missingRate ?? 0.04;
    const items = ids
      .filter((id) => /^[A-Za-z0-9_-]{11}$/.test(id) && !isMissing(this.seed, id, rate))
      .map((id) =>
        this.o.idsOnly
          ? { kind: 'youtube#video', etag: `sandbox-${id}`, id }
          : this.ownThumbnails(fakeVideo(this.seed, id, parts)),
      );
    req.truth('videos.list', { ids: items.map((v) => v.id), parts: [...parts].sort(), asked: ids.length });
    return {
      body: {
        kind: 'youtube#videoListResponse',
        etag: `sandbox-${items.length}-${ids.length}`,
        items,
        pageInfo: { totalResults: items.length, resultsPerPage: items.length },
      },
    };
  }

  private feed(q: string): SearchFeed {
    let f = this.feeds.get(q);
    if (!f)
      this.feeds.set(
        q,
        (f = new SearchFeed(this.seed, q, this.o.searchOriginMs ?? Date.UTC(2026, 0, 1), this.o.searchIntervalMs)),
      );
    return f;
  }

  private async search(req: SandboxRequest, call: YoutubeCall): Promise<SandboxResponse> {
    await this.latency();
    const parts = this.parts(req);
    if (!parts.has('snippet') && !parts.has('id'))
      throw new HttpError(400, googleError(400, `'${[...parts].join(',')}'`, 'unknownPart'));
    if (this.o.searchCallsPerDay !== undefined) await this.charge(req, 1, call, 'search');
    else await this.charge(req, this.o.costs?.search ?? 100, call);
    const q = req.query.get('q') ?? '';
    const maxResults = Number(req.query.get('maxResults') ?? '5');
    if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 50)
      throw new HttpError(
        400,
        googleError(
          400,
          `Invalid value '${req.query.get('maxResults')}'. Values must be within the range: [0, 50]`,
          'invalidParameter',
        ),
      );
    const time = (name: string) => {
      const v = req.query.get(name);
      if (v === null) return undefined;
      const t = Date.parse(v);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t))
        throw new HttpError(400, googleError(400, `Invalid value '${v}' for ${name}`, 'invalidParameter'));
      return t;
    };
    const order = req.query.get('order') ?? 'relevance';
    if (!SEARCH_ORDERS.has(order))
      throw new HttpError(400, googleError(400, `Invalid value '${order}' for order`, 'invalidParameter'));
    const types = (req.query.get('type') ?? 'video,channel,playlist').split(',').map((t) => t.trim());
    if (types.some((t) => !SEARCH_TYPES.has(t)))
      throw new HttpError(
        400,
        googleError(400, `Invalid value '${req.query.get('type')}' for type`, 'invalidParameter'),
      );
    const after = time('publishedAfter') ?? 0;
    const now = await this.clock.now();
    const before = Math.min(time('publishedBefore') ?? now, now);
    let offset = 0;
    const token = req.query.get('pageToken');
    if (token) {
      try {
        const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: number; q: string };
        if (t.q !== q || !Number.isInteger(t.o)) throw new Error('mismatch');
        // A token is an offset into the results as they are when it is used, not a snapshot: videos
        // published since the first page push the older ones down (a walk can meet a video twice).
        offset = t.o;
      } catch {
        throw new HttpError(400, googleError(400, 'The request specifies an invalid page token.', 'invalidPageToken'));
      }
    }
    const feed = this.feed(q);
    // The feed holds videos only: a search for channels or playlists alone finds none of them.
    const all = types.includes('video') ? ordered(this.seed, feed, feed.window(after, before), order) : [];
    const page = all.slice(offset, offset + maxResults);
    const results = page.map((k) => this.ownThumbnails(feed.result(k)));
    req.truth('search.list', {
      q,
      ids: results.map((r) => (r.id as { videoId: string }).videoId),
      publishedAfter: req.query.get('publishedAfter') ?? undefined,
      pageToken: Boolean(token),
    });
    const enc = (o: number) => Buffer.from(JSON.stringify({ o, q })).toString('base64url');
    return {
      body: {
        kind: 'youtube#searchListResponse',
        etag: `sandbox-search-${offset}-${page.length}`,
        ...(offset + maxResults < all.length ? { nextPageToken: enc(offset + maxResults) } : {}),
        ...(offset > 0 ? { prevPageToken: enc(Math.max(0, offset - maxResults)) } : {}),
        regionCode: 'US',
        pageInfo: { totalResults: all.length, resultsPerPage: maxResults },
        items: results,
      },
    };
  }
}

/** `search.list`'s `order` values (its reference) and `type` values. */
const SEARCH_ORDERS = new Set(['date', 'rating', 'relevance', 'title', 'videoCount', 'viewCount']);
const SEARCH_TYPES = new Set(['video', 'channel', 'playlist']);

/**
 * The window's videos (newest first) in the asked order: `date` newest first; `title` alphabetical;
 * `viewCount` by views and `rating` by likes (the videos' own statistics), highest first; `relevance` (the
 * API's default: its scoring is its own) and `videoCount` (a channel order) by a fixed score of the video.
 */
function ordered(seed: number, feed: SearchFeed, ks: number[], order: string): number[] {
  if (order === 'date') return ks;
  const stat = (id: string, name: string) =>
    Number((fakeVideo(seed, id, STATISTICS).statistics as Record<string, string>)[name] ?? 0);
  const key = (k: number): number | string => {
    const id = feed.videoId(k);
    if (order === 'title') return (feed.result(k) as { snippet: { title: string } }).snippet.title;
    if (order === 'viewCount') return stat(id, 'viewCount');
    if (order === 'rating') return stat(id, 'likeCount');
    return seedOf(seed, order, id);
  };
  const keyed = ks.map((k) => ({ k, v: key(k) }));
  keyed.sort((a, b) =>
    typeof a.v === 'string' ? a.v.localeCompare(b.v as string) || a.k - b.k : (b.v as number) - a.v || a.k - b.k,
  );
  return keyed.map((x) => x.k);
}
const STATISTICS = new Set(['statistics']);
