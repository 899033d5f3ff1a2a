/**
 * The YouTube sandbox's search.list as the watcher uses it: the newer quota model (a bucket of search calls
 * per project and Pacific day, apart from the daily units), a fixed upload spacing, and the call log's time
 * filters. Plus the watcher's input schema, workflow ID and pipeline registration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInput, pipelineByName } from '../../src/cli/run';
import { YoutubeClient } from '../../src/pipelines/youtube/connector/client';
import type { YoutubeError } from '../../src/pipelines/youtube/connector/errors';
import { YoutubeSandbox } from '../../src/pipelines/youtube/sandbox/server';
import { SearchFeed } from '../../src/pipelines/youtube/sandbox/videos';
import { watchQuota, watchWorkflowId, youtubeWatchInput } from '../../src/pipelines/youtube/watch-shared';

describe('YouTube sandbox search for the watcher', () => {
  const origin = Date.parse('2026-03-07T00:00:00Z');
  const sandbox = new YoutubeSandbox({
    seed: 4,
    searchOriginMs: origin,
    searchIntervalMs: 30_000,
    searchCallsPerDay: 2,
    projects: [
      { id: 'p1', keys: ['k1'], unitsPerDay: 5 },
      { id: 'p2', keys: ['k2'], searchCallsPerDay: 3 },
    ],
  });
  let client: YoutubeClient;
  beforeAll(async () => {
    client = new YoutubeClient({ baseUrl: `${await sandbox.start()}/youtube/v3` });
    await sandbox.clock.set(Date.parse('2026-03-07T20:00:00Z')); // 12:00 PST
  });
  afterAll(() => sandbox.stop());
  const err = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as YoutubeError,
    );

  it('charges search.list to its own bucket of calls, apart from the daily units', async () => {
    // p1 has 5 units a day but 2 search calls: the third search is refused, videos.list still works.
    await client.searchList({ q: 'cricket', maxResults: 1 }, 'k1');
    await client.searchList({ q: 'cricket', maxResults: 1 }, 'k1');
    expect(await err(client.searchList({ q: 'cricket', maxResults: 1 }, 'k1'))).toMatchObject({
      kind: 'quotaExceeded',
    });
    expect((await client.videosList(['dQw4w9WgXcQ'], ['snippet'], 'k1')).missing.length).toBeLessThanOrEqual(1);
    expect((await sandbox.usageToday()).p1).toBe(1); // the units: videos.list only
    // p2's own allowance: 3 calls.
    for (let i = 0; i < 3; i++) await client.searchList({ q: 'cricket', maxResults: 1 }, 'k2');
    expect(await err(client.searchList({ q: 'cricket', maxResults: 1 }, 'k2'))).toMatchObject({
      kind: 'quotaExceeded',
    });
    // Pacific midnight: a new day of search calls.
    await sandbox.clock.set(Date.parse('2026-03-08T08:00:00Z'));
    expect((await client.searchList({ q: 'cricket', maxResults: 1 }, 'k1')).items).toHaveLength(1);
  });

  it('spaces uploads as configured and logs the time filters of each call', async () => {
    await sandbox.clock.set(Date.parse('2026-03-09T08:00:00Z'));
    const after = '2026-03-09T07:50:00Z';
    const page = await client.searchList({ q: 'rain', publishedAfter: after, maxResults: 50 }, 'k2');
    const feed = new SearchFeed(4, 'rain', origin, 30_000);
    const expected = feed.window(Date.parse(after), Date.parse('2026-03-09T08:00:00Z')).map((k) => feed.videoId(k));
    expect(page.items.map((i) => i.id.videoId)).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(19); // 10 minutes at one every 30-45 s
    expect(expected.length).toBeLessThanOrEqual(21);
    expect(sandbox.calls.at(-1)).toMatchObject({ method: 'search.list', publishedAfter: after, pageToken: false });
  });
});

describe('YouTube sandbox: the contract, not the client', () => {
  const origin = Date.parse('2026-03-07T00:00:00Z');
  const sandbox = new YoutubeSandbox({
    seed: 5,
    searchOriginMs: origin,
    searchIntervalMs: 60_000,
    projects: [{ id: 'p1', keys: ['k1'], unitsPerDay: 1000 }],
  });
  let base: string;
  beforeAll(async () => {
    base = `${await sandbox.start()}/youtube/v3`;
    await sandbox.clock.set(Date.parse('2026-03-07T20:00:00Z'));
  });
  afterAll(() => sandbox.stop());
  type Answer = {
    status: number;
    body: {
      items?: { id: { videoId: string }; snippet: { title: string } }[];
      nextPageToken?: string;
      error?: { errors: { reason: string }[] };
    };
  };
  const get = async (path: string, params: Record<string, string>): Promise<Answer> => {
    const r = await fetch(`${base}${path}?${new URLSearchParams(params).toString()}`);
    return { status: r.status, body: (await r.json()) as Answer['body'] };
  };
  const search = (params: Record<string, string>) =>
    get('/search', { part: 'snippet', q: 'cricket', key: 'k1', ...params });
  const ids = (a: Answer) => a.body.items!.map((i) => i.id.videoId);

  it('charges invalid requests (at least one unit) once their key is known and valid; a bad key is charged nothing', async () => {
    const used = async () => (await sandbox.usageToday()).p1 ?? 0;
    let before = await used();
    expect((await search({ maxResults: '99' })).status).toBe(400); // charged as a search (100), then refused
    expect((await used()) - before).toBe(100);
    before = await used();
    expect((await get('/videos', { id: 'dQw4w9WgXcQ', key: 'k1' })).status).toBe(400); // no part: 1 unit
    expect((await used()) - before).toBe(1);
    before = await used();
    expect((await search({ part: '' })).status).toBe(400); // refused before its cost is known: 1 unit
    expect((await used()) - before).toBe(1);
    before = await used();
    expect((await search({ key: 'nope', maxResults: '99' })).status).toBe(400); // keyInvalid
    expect(await used()).toBe(before);
  });

  it('honours order and type: date, title, viewCount and relevance differ; channels only find no video', async () => {
    const window = { publishedAfter: '2026-03-07T19:20:00Z', maxResults: '50' }; // 40 videos
    const byDate = ids(await search({ ...window, order: 'date' }));
    expect(byDate).toHaveLength(40);
    const byTitle = await search({ ...window, order: 'title' });
    const titles = byTitle.body.items!.map((i) => i.snippet.title);
    expect(titles).toEqual([...titles].sort((a, b) => a.localeCompare(b)));
    const relevance = ids(await search(window)); // the API's default order
    const views = ids(await search({ ...window, order: 'viewCount' }));
    for (const other of [ids(byTitle), relevance, views]) {
      expect(new Set(other)).toEqual(new Set(byDate));
      expect(other).not.toEqual(byDate);
    }
    const counts = await get('/videos', { part: 'statistics', id: views.slice(0, 10).join(','), key: 'k1' });
    const n = (counts.body.items as unknown as { id: string; statistics: { viewCount: string } }[]).map((v) =>
      Number(v.statistics.viewCount),
    );
    expect(n).toEqual([...n].sort((a, b) => b - a));
    expect((await search({ ...window, type: 'channel' })).body.items).toEqual([]);
    expect(ids(await search({ ...window, type: 'video,channel', order: 'date' }))).toEqual(byDate);
  });

  it('page tokens do not freeze the results: videos published meanwhile push the next page down', async () => {
    const first = await search({ order: 'date', maxResults: '5' });
    await sandbox.clock.set(Date.parse('2026-03-07T20:02:00Z')); // two more videos
    const second = await search({ order: 'date', maxResults: '5', pageToken: first.body.nextPageToken! });
    // The second page starts 5 results into the newer list: the first page's last 2 videos again.
    expect(ids(second).slice(0, 2)).toEqual(ids(first).slice(3));
  });
});

describe('youtube-watch input', () => {
  it('applies the defaults and the quota model', () => {
    const i = youtubeWatchInput.parse({ query: ' cricket ' });
    expect(i).toMatchObject({ query: 'cricket', intervalSeconds: 10, quotaModel: 'search-bucket', ticksPerRun: 200 });
    expect(watchQuota(i)).toEqual({ pool: 'youtube-search', unitsPerDay: 100, costPerCall: 1 });
    expect(watchQuota(youtubeWatchInput.parse({ query: 'x', quotaModel: 'classic' }))).toEqual({
      pool: 'youtube',
      unitsPerDay: 10_000,
      costPerCall: 100,
    });
    expect(youtubeWatchInput.parse({ query: 2026 }).query).toBe('2026');
  });
  it('refuses bad values, naming the field', () => {
    const bad = (v: unknown) => {
      const r = youtubeWatchInput.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(bad({ query: '' })).toEqual(['query']);
    expect(bad({ query: 'x', intervalSeconds: 0 })).toEqual(['intervalSeconds']);
    expect(bad({ query: 'x', backfillFrom: 'last week' })).toEqual(['backfillFrom']);
    expect(bad({ query: 'x', maxPagesPerTick: 11 })).toEqual(['maxPagesPerTick']);
    expect(bad({ intervalSeconds: 5 })).toEqual(['query']);
  });
  it('is a pipeline `longhaul run youtube-watch --query cricket` starts', () => {
    const p = pipelineByName('youtube-watch');
    expect(p.workflowType).toBe('youtubeWatch');
    const input = buildInput(p, {}, ['--query', 'cricket', '--interval-seconds', '30', '--quota-model', 'classic']);
    expect(input).toMatchObject({ query: 'cricket', intervalSeconds: 30, quotaModel: 'classic' });
    expect(p.workflowId(input)).toBe(watchWorkflowId('cricket'));
    expect(() => buildInput(p, {}, ['--query', 'cricket', '--interval-seconds', '0'])).toThrow(/--interval-seconds/);
  });
  it('derives one workflow ID per query', () => {
    expect(watchWorkflowId('Cricket World Cup')).toMatch(/^youtube-watch-cricket-world-cup-[0-9a-f]{16}$/);
    expect(watchWorkflowId(' cricket ')).toBe(watchWorkflowId('cricket'));
    expect(watchWorkflowId('cricket')).not.toBe(watchWorkflowId('Cricket'));
    expect(watchWorkflowId('日本')).toMatch(/^youtube-watch-[0-9a-f]{16}$/);
  });
});
