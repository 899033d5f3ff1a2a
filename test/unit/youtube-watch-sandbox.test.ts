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
