/**
 * The videos API over a SQLite store of a few hundred videos: every answer is checked against a direct SQL
 * query on the same file (its own read connection), pagination by page and by cursor visits every video
 * once, links keep the filters, bad input is a 400 naming the parameter; then the dashboard in headless
 * Chromium (screenshot: test-results/dashboard.png). No Temporal involved.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_PARAMETERS } from '../../src/api/params';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { PostgresVideosStore } from '../../src/sinks/videos-postgres';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import type { VideoOrdering, VideoUpsert } from '../../src/sinks/videos-store';
import { toUpsert } from '../../src/pipelines/youtube/activities/watch';
import { YoutubeClient } from '../../src/pipelines/youtube/connector/client';
import { YoutubeSandbox } from '../../src/pipelines/youtube/sandbox/server';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { tmpDir } from '../helpers/temporal';
import { makeVideos } from '../helpers/videos';

interface Page {
  items: { videoId: string; title: string; publishedAt: string; channelTitle: string; queries: string[] }[];
  total: number;
  page?: number;
  pageSize: number;
  next: string | null;
  prev: string | null;
}

const dir = tmpDir('videos-api-');
const dbPath = path.join(dir, 'videos.sqlite');
let store: SqliteVideosStore;
let api: ApiServer;
let direct: Database.Database;

/** A small inline SVG per video, so the dashboard shows thumbnails without the network. */
const svg = (i: number) =>
  `data:image/svg+xml,${encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="hsl(${(i * 37) % 360},60%,55%)"/><text x="20" y="100" font-size="40" fill="white">#${i}</text></svg>`,
  )}`;

function seed(): VideoUpsert[] {
  const cricket = makeVideos(240, 'cricket', 'c');
  const india = makeVideos(60, 'india', 'i', Date.UTC(2024, 0, 1, 1, 0));
  const both = cricket.slice(100, 130).map((v) => ({ ...v, query: 'india' }));
  return [...cricket, ...india, ...both].map((v, i) => ({ ...v, thumbnails: { medium: svg(i), default: svg(i) } }));
}

/** The little of the DOM the browser-side callbacks use (this project compiles without the DOM library). */
interface Doc {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
}

interface Filter {
  search?: string;
  query?: string;
  publishedAfter?: string;
  publishedBefore?: string;
  ordering?: VideoOrdering;
}

/** The reference: the same listing as one SQL query written here, on its own connection. */
function sqlIds(f: Filter, limit = -1, offset = 0): string[] {
  const conds: string[] = [];
  const args: unknown[] = [];
  if (f.query) {
    conds.push('video_id IN (SELECT video_id FROM video_queries WHERE query = ?)');
    args.push(f.query);
  }
  if (f.publishedAfter) {
    conds.push('published_at >= ?');
    args.push(new Date(f.publishedAfter).toISOString());
  }
  if (f.publishedBefore) {
    conds.push('published_at <= ?');
    args.push(new Date(f.publishedBefore).toISOString());
  }
  for (const t of (f.search ?? '').split(/\s+/).filter(Boolean)) {
    conds.push('(instr(lower(title), ?) > 0 OR instr(lower(description), ?) > 0)');
    args.push(t.toLowerCase(), t.toLowerCase());
  }
  const o = f.ordering ?? '-publishedAt';
  const col = o.endsWith('title') ? 'title' : 'published_at';
  const dir = o.startsWith('-') ? 'DESC' : 'ASC';
  const sql = `SELECT video_id FROM videos ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
    ORDER BY ${col} ${dir}, video_id ${dir} LIMIT ? OFFSET ?`;
  return direct
    .prepare<unknown[], { video_id: string }>(sql)
    .all(...args, limit, offset)
    .map((r) => r.video_id);
}

async function get<T = Page>(
  pathOrUrl: string,
  init?: RequestInit,
): Promise<{ status: number; body: T; res: Response }> {
  const res = await fetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${api.url}${pathOrUrl}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, res };
}

const qs = (f: Filter & { pageSize?: number; page?: number }) =>
  new URLSearchParams(Object.entries(f).map(([k, v]): [string, string] => [k, String(v)])).toString();

/** Follows `next` links from `first`, returning every id in order (fails on a repeated page). */
async function walk(first: string, link: 'next' | 'prev' = 'next'): Promise<{ ids: string[]; pages: Page[] }> {
  const pages: Page[] = [];
  let url: string | null = first;
  while (url) {
    const r: { status: number; body: Page } = await get(url);
    expect(r.status, url).toBe(200);
    pages.push(r.body);
    url = r.body[link];
    expect(pages.length).toBeLessThan(500);
  }
  const ordered = link === 'next' ? pages : [...pages].reverse();
  return { ids: ordered.flatMap((p) => p.items.map((v) => v.videoId)), pages };
}

beforeAll(async () => {
  store = new SqliteVideosStore({ path: dbPath });
  await store.init();
  expect(await store.upsert(seed())).toEqual({ inserted: 300, merged: 30 });
  direct = new Database(dbPath, { readonly: true });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await api?.close();
  direct?.close();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const filters: Filter[] = [
  { query: 'cricket' },
  { query: 'india' },
  { query: 'nobody-watches-this' },
  { search: 'cricket' },
  { search: 'CRICKET final' },
  { search: 'number 1' },
  { search: 'T2' },
  { search: '100%' },
  { publishedAfter: '2024-01-01T01:30:00Z' },
  { publishedBefore: '2024-01-01T00:30:00Z' },
  { publishedAfter: '2024-01-01', publishedBefore: '2024-01-01T01:00:00+01:00' },
  { query: 'india', search: 'live', publishedAfter: '2024-01-01T00:55:00Z', ordering: 'title' },
  { search: 'world', ordering: '-title' },
];

describe('GET /api/videos', () => {
  it('the first page by default: 20 newest, total, cursor link to the next page', async () => {
    const { status, body, res } = await get('/api/videos');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(body.total).toBe(300);
    expect(body.page).toBe(1);
    expect(body.pageSize).toBe(20);
    expect(body.items.map((v) => v.videoId)).toEqual(sqlIds({}, 20));
    expect(body.prev).toBeNull();
    expect(body.next).toMatch(new RegExp(`^${api.url}/api/videos\\?pageSize=20&cursor=[A-Za-z0-9_-]+$`));
    expect(body.items[0]).not.toHaveProperty('raw');
  });

  it.each<VideoOrdering>(['-publishedAt', 'publishedAt', 'title', '-title'])(
    'ordering %s: cursor links forward and back, and page links, visit every video once in order',
    async (ordering) => {
      const want = sqlIds({ ordering });
      expect(want).toHaveLength(300);
      const fwd = await walk(`/api/videos?${qs({ ordering, pageSize: 23 })}`);
      expect(fwd.ids).toEqual(want);
      expect(fwd.pages).toHaveLength(Math.ceil(300 / 23));
      expect(fwd.pages.every((p) => p.total === 300)).toBe(true);
      expect(fwd.pages.at(-1)!.next).toBeNull();
      // back from the last page (the cursor link that led to it) by prev links
      const back = await walk(fwd.pages.at(-2)!.next!, 'prev');
      expect(back.ids).toEqual(want);
      // by page number
      const pages = await walk(`/api/videos?${qs({ ordering, pageSize: 23, page: 1 })}`);
      expect(pages.ids).toEqual(want);
      expect(pages.pages.map((p) => p.page)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      expect(new Set(pages.ids).size).toBe(300);
    },
  );

  it.each(filters)('filter %j: total and rows as the direct SQL query, through every page', async (f) => {
    const want = sqlIds(f);
    const first = await get(`/api/videos?${qs({ ...f, pageSize: 100 })}`);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(want.length);
    expect(first.body.items.map((v) => v.videoId)).toEqual(want.slice(0, 100));
    const all = await walk(`/api/videos?${qs({ ...f, pageSize: 17 })}`);
    expect(all.ids).toEqual(want);
    for (const p of all.pages) {
      for (const link of [p.next, p.prev].filter((l): l is string => l !== null)) {
        const u = new URL(link);
        for (const [k, v] of Object.entries(f)) {
          if (k === 'publishedAfter' || k === 'publishedBefore')
            expect(Date.parse(u.searchParams.get(k)!)).toBe(Date.parse(new Date(v as string).toISOString()));
          else expect(u.searchParams.get(k)).toBe(v);
        }
      }
    }
  });

  it('a date alone in publishedBefore includes that whole day', async () => {
    const { body } = await get('/api/videos?publishedBefore=2024-01-01&pageSize=100');
    expect(body.total).toBe(300); // every seeded video is published on 2024-01-01
    expect((await get('/api/videos?publishedBefore=2023-12-31')).body.total).toBe(0);
  });

  it('page links: numbers, prev of a page past the end points at the last page', async () => {
    const p2 = await get('/api/videos?query=india&pageSize=40&page=2');
    expect(p2.body).toMatchObject({ total: 90, page: 2, pageSize: 40 });
    expect(p2.body.items.map((v) => v.videoId)).toEqual(sqlIds({ query: 'india' }, 40, 40));
    expect(p2.body.prev).toBe(`${api.url}/api/videos?query=india&pageSize=40&page=1`);
    expect(p2.body.next).toBe(`${api.url}/api/videos?query=india&pageSize=40&page=3`);
    const p3 = await get(p2.body.next!);
    expect(p3.body.items).toHaveLength(10);
    expect(p3.body.next).toBeNull();
    const past = await get('/api/videos?query=india&pageSize=40&page=9');
    expect(past.body.items).toEqual([]);
    expect(past.body.prev).toBe(`${api.url}/api/videos?query=india&pageSize=40&page=3`);
  });

  it('a video written while the API runs shows up on the next request', async () => {
    const [v] = makeVideos(1, 'cricket', 'zz', Date.UTC(2024, 1, 1));
    await store.upsert([{ ...v, thumbnails: { medium: svg(999) } }]);
    const { body } = await get('/api/videos?pageSize=1');
    expect(body.items[0].videoId).toBe(v.videoId);
    expect(body.total).toBe(301);
    expect(sqlIds({}, 1)).toEqual([v.videoId]);
  });

  const bad: [string, string][] = [
    ['pageSize=101', 'pageSize'],
    ['pageSize=0', 'pageSize'],
    ['page=0', 'page'],
    ['page=x', 'page'],
    ['ordering=views', 'ordering'],
    ['publishedAfter=last week', 'publishedAfter'],
    ['publishedAfter=2024-02-03&publishedBefore=2024-02-01', 'publishedBefore'],
    ['sort=title', 'sort'],
    ['search=a&search=b', 'search'],
    ['cursor=abc', 'cursor'],
    ['page=2&cursor=abc', 'cursor'],
  ];
  it.each(bad)('400 for %s, naming %s', async (q, parameter) => {
    const { status, body, res } = await get<{ error: { parameter: string; message: string } }>(`/api/videos?${q}`);
    expect(status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(body.error.parameter).toBe(parameter);
    expect(body.error.message).toEqual(expect.any(String));
  });

  it('a cursor is refused under other filters or another ordering', async () => {
    const first = await get('/api/videos?search=cricket&pageSize=5');
    const cursor = new URL(first.body.next!).searchParams.get('cursor')!;
    for (const q of [
      `search=india&cursor=${cursor}`,
      `cursor=${cursor}`,
      `search=cricket&ordering=title&cursor=${cursor}`,
    ]) {
      const r = await get<{ error: { parameter: string } }>(`/api/videos?${q}&pageSize=5`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.parameter).toBe('cursor');
    }
  });

  it('SQL and FTS injection attempts are ordinary searches (or 400s); nothing is dropped', async () => {
    for (const s of [
      "'; DROP TABLE videos; --",
      '" OR 1=1 --',
      "cricket' OR '1'='1",
      'cricket" OR "india',
      'NEAR(cricket india)',
      '*',
      '%',
      '_',
      'title:cricket',
    ]) {
      const r = await get(`/api/videos?${new URLSearchParams({ search: s, pageSize: '100' })}`);
      expect(r.status, s).toBe(200);
      expect(
        r.body.items.map((v) => v.videoId),
        s,
      ).toEqual(sqlIds({ search: s }, 100));
    }
    const q = await get(`/api/videos?${new URLSearchParams({ query: "' OR 1=1 --" })}`);
    expect(q.body.total).toBe(0);
    expect((await get(`/api/videos?ordering=${encodeURIComponent('title; DROP TABLE videos')}`)).status).toBe(400);
    expect(direct.prepare('SELECT count(*) AS n FROM videos').get()).toEqual({ n: 301 });
  });
});

describe('GET /api/videos/:id and the rest', () => {
  it('one video with its raw search result; 404 when unknown, 400 when malformed', async () => {
    const id = sqlIds({ query: 'india' }, 1, 5)[0];
    const ok = await get<Record<string, unknown>>(`/api/videos/${id}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(await store.get(id));
    expect(ok.body.raw).toMatchObject({ id: { videoId: id } });
    const missing = await get<{ error: { parameter: string } }>('/api/videos/nosuchvideo');
    expect(missing.status).toBe(404);
    expect(missing.body.error.parameter).toBe('id');
    for (const bad of ["x'%20OR%20'1'='1", '%E2%9C%93', 'a'.repeat(65), '%ZZ']) {
      const r = await get<{ error: { parameter: string } }>(`/api/videos/${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.parameter).toBe('id');
    }
    expect((await get(`/api/videos/${id}?verbose=1`)).status).toBe(400);
  });

  it('openapi.json describes the routes and exactly the accepted parameters', async () => {
    const { status, body } = await get<{
      openapi: string;
      paths: Record<string, { get: { parameters?: { name: string }[] } }>;
    }>('/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual([
      '/api/videos',
      '/api/videos/{id}',
      '/api/youtubeVideos/',
      '/api/youtubeVideos/{id}/',
      '/healthz',
    ]);
    expect(body.paths['/api/videos'].get.parameters!.map((p) => p.name).sort()).toEqual([...LIST_PARAMETERS].sort());
  });

  it("the replaced DRF service's routes: {count, next, previous, results} by page number, one video by id", async () => {
    type Drf = { count: number; next: string | null; previous: string | null; results: { videoId: string }[] };
    const first = await get<Drf>('/api/youtubeVideos/?query=india&pageSize=40');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(first.body).toMatchObject({ count: 90, previous: null });
    expect(first.body.results.map((v) => v.videoId)).toEqual(sqlIds({ query: 'india' }, 40, 0));
    expect(first.body.next).toBe(`${api.url}/api/youtubeVideos/?query=india&pageSize=40&page=2`);
    const third = await get<Drf>('/api/youtubeVideos?query=india&pageSize=40&page=3');
    expect(third.body.results.map((v) => v.videoId)).toEqual(sqlIds({ query: 'india' }, 40, 80));
    expect(third.body).toMatchObject({
      next: null,
      previous: `${api.url}/api/youtubeVideos/?query=india&pageSize=40&page=2`,
    });
    // The same filters and ordering as /api/videos.
    const searched = await get<Drf>('/api/youtubeVideos/?search=cricket&ordering=title&pageSize=100');
    expect(searched.body.results.map((v) => v.videoId)).toEqual(
      sqlIds({ search: 'cricket', ordering: 'title' }, 100, 0),
    );
    const cursor = await get<{ error: { parameter: string } }>('/api/youtubeVideos/?cursor=abc');
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.parameter).toBe('cursor');
    const id = first.body.results[0]!.videoId;
    const one = await get<Record<string, unknown>>(`/api/youtubeVideos/${id}/`);
    expect(one.body).toEqual(await store.get(id));
    expect((await get('/api/youtubeVideos/nosuchvideo/')).status).toBe(404);
  });

  it('healthz, unknown routes, methods', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await get('/api/nothing')).status).toBe(404);
    const post = await get('/api/videos', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.res.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${api.url}/api/videos`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('dashboard in headless Chromium', () => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the videos of the API; search, sorting, date filter and paging go through /api/videos', async () => {
    const page = await browser.context.newPage();
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/videos')) apiCalls.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const rowIds = () =>
      page.locator('#videos tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    const settled = async (status: string) => {
      await page
        .waitForFunction(
          (want) => {
            const d = (globalThis as unknown as { document: Doc }).document;
            return !d.body.dataset.loading && d.getElementById('status')?.textContent === want;
          },
          status,
          { timeout: 15_000 },
        )
        .catch(async (e: unknown) => {
          const shown = await page.evaluate(() => {
            const g = globalThis as unknown as { document: Doc; location: { search: string } };
            return [
              g.document.getElementById('status')?.textContent,
              g.document.getElementById('error')?.textContent,
              g.location.search,
            ];
          });
          throw new Error(`dashboard never showed "${status}"; it shows ${JSON.stringify(shown)}: ${String(e)}`);
        });
    };

    const statusOf = (f: Filter, page = 1) => {
      const n = sqlIds(f).length;
      return `Page ${page} of ${Math.max(1, Math.ceil(n / 20))} · ${n} videos`;
    };

    await page.goto(api.url);
    await settled(statusOf({}));
    expect(await rowIds()).toEqual(sqlIds({}, 20));
    expect(await page.textContent('#videos tbody tr:first-child td.channel')).toBe(
      (await store.get(sqlIds({}, 1)[0]))!.channelTitle,
    );
    expect(await page.isDisabled('#prev')).toBe(true);

    await page.fill('#search', 'cricket final');
    await settled(
      `Page 1 of ${Math.ceil(sqlIds({ search: 'cricket final' }).length / 20)} · ${sqlIds({ search: 'cricket final' }).length} videos`,
    );
    expect(await rowIds()).toEqual(sqlIds({ search: 'cricket final' }, 20));

    await page.fill('#search', 'cricket');
    const cricket = sqlIds({ search: 'cricket' });
    await settled(`Page 1 of ${Math.ceil(cricket.length / 20)} · ${cricket.length} videos`);
    await page.click('#next');
    await settled(`Page 2 of ${Math.ceil(cricket.length / 20)} · ${cricket.length} videos`);
    expect(await rowIds()).toEqual(cricket.slice(20, 40));
    await page.click('#prev');
    await settled(`Page 1 of ${Math.ceil(cricket.length / 20)} · ${cricket.length} videos`);
    expect(await rowIds()).toEqual(cricket.slice(0, 20));

    await page.click('button.sort[data-field="title"]');
    await settled(`Page 1 of ${Math.ceil(cricket.length / 20)} · ${cricket.length} videos`);
    expect(await page.inputValue('#ordering')).toBe('title');
    expect(await rowIds()).toEqual(sqlIds({ search: 'cricket', ordering: 'title' }, 20));

    await page.fill('#search', '');
    await page.selectOption('#ordering', '-publishedAt');
    await page.fill('#after', '2024-01-02');
    await page.dispatchEvent('#after', 'change');
    await settled(statusOf({ publishedAfter: '2024-01-02' }));
    expect(await rowIds()).toEqual(sqlIds({ publishedAfter: '2024-01-02' }, 20));

    await page.fill('#after', '');
    await page.dispatchEvent('#after', 'change');
    await settled(statusOf({}));
    expect(await rowIds()).toEqual(sqlIds({}, 20));
    expect(
      await page
        .locator('#videos tbody img')
        .evaluateAll((imgs) => imgs.every((i) => i.getAttribute('src')?.startsWith('data:image/svg+xml'))),
    ).toBe(true);

    expect(apiCalls.length).toBeGreaterThanOrEqual(8);
    expect(apiCalls.every((u) => new URL(u).pathname === '/api/videos')).toBe(true);
    expect(errors).toEqual([]);
    fs.mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: false });
    expect(fs.statSync('test-results/dashboard.png').size).toBeGreaterThan(10_000);
  });
});

describe('thumbnails served by the sandbox (longhaul dev)', () => {
  it('the sandbox lists its own thumbnail URLs and serves them: the dashboard shows pictures', async () => {
    const sandbox = new YoutubeSandbox({ seed: 8, ownThumbnails: true, searchIntervalMs: 60_000 });
    const sandboxUrl = await sandbox.start();
    const d = tmpDir('longhaul-thumbs-');
    const own = new SqliteVideosStore({ path: path.join(d, 'videos.sqlite') });
    let ownApi: ApiServer | undefined;
    const browser = await launchChromium();
    try {
      const client = new YoutubeClient({ baseUrl: `${sandboxUrl}/youtube/v3` });
      const found = await client.searchList({ q: 'cricket', maxResults: 10 }, 'AIzaSandboxDemoKey-project1-a');
      await own.init();
      await own.upsert(found.items.map((i) => toUpsert(i, 'cricket', new Date().toISOString())!));
      ownApi = await startApiServer({ store: own, host: '127.0.0.1', port: 0 });
      const page = await browser.context.newPage();
      await page.goto(ownApi.url);
      await page.waitForFunction(
        () => {
          const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { complete: boolean }[] } })
            .document;
          const imgs = [...d.querySelectorAll('#videos tbody img')];
          return imgs.length === 10 && imgs.every((i) => i.complete);
        },
        undefined,
        { timeout: 15_000 },
      );
      const shown = await page.locator('#videos tbody img').evaluateAll((imgs) =>
        imgs.map((i) => ({
          src: i.getAttribute('src') ?? '',
          width: (i as unknown as { naturalWidth: number }).naturalWidth,
        })),
      );
      expect(shown).toHaveLength(10);
      for (const img of shown) {
        expect(img.src.startsWith(`${sandboxUrl}/vi/`)).toBe(true);
        expect(img.width).toBeGreaterThan(0); // loaded: the CSP let it in and the sandbox served an image
      }
      const one = await fetch(shown[0]!.src);
      expect(one.headers.get('content-type')).toBe('image/svg+xml');
      expect((await fetch(`${sandboxUrl}/vi/notavideo/default.jpg`)).status).toBe(404);
    } finally {
      await browser.close();
      await ownApi?.close();
      await own.close();
      await sandbox.stop();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the same API over PostgreSQL', () => {
  let pg: TestPostgres;
  let pgStore: PostgresVideosStore;
  let pgApi: ApiServer;
  beforeAll(async () => {
    pg = await startPostgres();
    pgStore = new PostgresVideosStore({ connectionString: pg.url });
    await pgStore.init();
    // a copy of every video the SQLite store holds now, one upsert per query that found it
    const all = await store.list({ pageSize: 1000 });
    expect(all.items.length).toBe(all.total);
    await pgStore.upsert(all.items.flatMap((v) => v.queries.map((query) => ({ ...v, query, seenAt: v.firstSeenAt }))));
    pgApi = await startApiServer({ store: pgStore, port: 0 });
  });
  afterAll(async () => {
    await pgApi?.close();
    await pgStore?.close();
    await pg?.stop();
  });

  it.each<VideoOrdering>(['-publishedAt', 'title'])(
    'ordering %s: cursor and page links as the SQL reference',
    async (ordering) => {
      const want = sqlIds({ ordering });
      expect((await walk(`${pgApi.url}/api/videos?${qs({ ordering, pageSize: 37 })}`)).ids).toEqual(want);
      expect((await walk(`${pgApi.url}/api/videos?${qs({ ordering, pageSize: 37, page: 1 })}`)).ids).toEqual(want);
    },
  );

  it.each(filters)('filter %j: same rows and total as the SQL reference', async (f) => {
    const want = sqlIds(f);
    const all = await walk(`${pgApi.url}/api/videos?${qs({ ...f, pageSize: 29 })}`);
    expect(all.ids).toEqual(want);
    expect(all.pages[0].total).toBe(want.length);
  });
});
