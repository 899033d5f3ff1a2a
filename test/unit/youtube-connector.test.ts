/**
 * The YouTube connector against the sandbox: videos.list shapes and missing IDs, every error typed from the
 * real bodies (quotaExceeded, API_KEY_INVALID, rateLimitExceeded, backendError, invalidFilters), the
 * project quota resetting at Pacific midnight on the sandbox clock, and search.list paging by date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YoutubeClient } from '../../src/pipelines/youtube/connector/client';
import { VIDEO_PARTS } from '../../src/pipelines/youtube/connector/enums';
import { classifyError, type YoutubeError } from '../../src/pipelines/youtube/connector/errors';
import { durationSeconds, flattenVideo } from '../../src/pipelines/youtube/connector/flatten';
import { parseYoutubeKeys, projectsOf } from '../../src/pipelines/youtube/connector/keys';
import { YoutubeSandbox } from '../../src/pipelines/youtube/sandbox/server';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { planEnrichment } from '../../src/pipelines/youtube/plan';

describe('YouTube connector against the sandbox', () => {
  const sandbox = new YoutubeSandbox({
    seed: 3,
    missingRate: 0.1,
    projects: [
      { id: 'p1', keys: ['k1', 'k1b'], unitsPerDay: 3 },
      { id: 'p2', keys: ['k2'], unitsPerDay: 1000 },
    ],
  });
  let client: YoutubeClient;
  beforeAll(async () => {
    client = new YoutubeClient({ baseUrl: `${await sandbox.start()}/youtube/v3` });
    await sandbox.clock.set(Date.parse('2026-03-07T20:00:00Z')); // Saturday 12:00 PST
  });
  afterAll(() => sandbox.stop());

  const ids = Array.from({ length: 50 }, (_, i) => fakeId(1, 'conn', i));
  const err = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as YoutubeError,
    );

  it('lists up to 50 videos with the requested parts and reports the missing ones', async () => {
    const r = await client.videosList(ids, VIDEO_PARTS, 'k2');
    expect(r.items.length + r.missing.length).toBe(50);
    expect(r.missing.length).toBeGreaterThan(0);
    const v = r.items[0];
    expect(Object.keys(v)).toEqual(['kind', 'etag', 'id', ...VIDEO_PARTS]);
    expect(v.statistics?.viewCount).toMatch(/^\d+$/);
    const row = flattenVideo(v, 'shard');
    expect(row).toMatchObject({
      video_id: v.id,
      source_shard: 'shard',
      duration_seconds: durationSeconds(v.contentDetails?.duration),
    });
    expect((await client.videosList(ids.slice(0, 3), ['id' as never], 'k2')).items[0]).toEqual({
      kind: 'youtube#video',
      etag: expect.any(String) as string,
      id: expect.any(String) as string,
    });
  });

  it('types every error from the real bodies', async () => {
    expect(await err(client.videosList(ids, ['snippet'], 'nope'))).toMatchObject({
      kind: 'keyInvalid',
      status: 400,
      reason: 'API_KEY_INVALID',
    });
    expect(await err(client.videosList([...ids, 'x'], ['snippet'], 'k2'))).toMatchObject({ kind: 'invalidRequest' });
    sandbox.rateLimit(1);
    expect(await err(client.videosList(ids, ['snippet'], 'k2'))).toMatchObject({
      kind: 'rateLimited',
      status: 403,
      reason: 'rateLimitExceeded',
    });
    sandbox.faults.add({ route: 'videos.list', kind: '503', times: 1 });
    expect(await err(client.videosList(ids, ['snippet'], 'k2'))).toMatchObject({
      kind: 'transient',
      status: 503,
      reason: 'backendError',
    });
    expect(classifyError(400, { error: { code: 400, errors: [{ reason: 'invalidFilters' }] } }).kind).toBe(
      'invalidRequest',
    );
    expect(
      classifyError(403, { error: { errors: [{ reason: 'dailyLimitExceeded', domain: 'usageLimits' }] } }).kind,
    ).toBe('quotaExceeded');
    expect(classifyError(429, {}, 2000)).toMatchObject({ kind: 'rateLimited', retryAfterMs: 2000 });
  });

  it("counts a project's units across its keys and resets them at Pacific midnight", async () => {
    await client.videosList(ids, ['snippet'], 'k1');
    await client.videosList(ids, ['snippet'], 'k1b');
    await client.videosList(ids, ['snippet'], 'k1');
    const e = await err(client.videosList(ids, ['snippet'], 'k1b'));
    expect(e).toMatchObject({ kind: 'quotaExceeded', status: 403, reason: 'quotaExceeded' });
    expect(e?.message).toMatch(/exceeded your <a href/);
    await sandbox.clock.set(Date.parse('2026-03-08T07:59:59Z')); // 23:59:59 PST: still the same day
    expect(await err(client.videosList(ids, ['snippet'], 'k1'))).toMatchObject({ kind: 'quotaExceeded' });
    await sandbox.clock.set(Date.parse('2026-03-08T08:00:00Z')); // midnight PST
    expect((await client.videosList(ids, ['snippet'], 'k1')).items.length).toBeGreaterThan(0);
    expect((await sandbox.usageToday()).p1).toBe(1);
  });

  it('resets every quotaDayMs instead, when the sandbox is given a shortened quota day', async () => {
    const short = new YoutubeSandbox({
      seed: 3,
      quotaDayMs: 10_000,
      projects: [{ id: 'p', keys: ['k'], unitsPerDay: 2 }],
    });
    const c = new YoutubeClient({ baseUrl: `${await short.start()}/youtube/v3` });
    try {
      await short.clock.set(1_800_000_001_000); // 1 s into a 10-second day (the sandbox clock keeps running)
      await c.videosList(ids, ['snippet'], 'k');
      await c.videosList(ids, ['snippet'], 'k');
      expect(await err(c.videosList(ids, ['snippet'], 'k'))).toMatchObject({ kind: 'quotaExceeded' });
      await short.clock.set(1_800_000_005_000); // later the same day
      expect(await err(c.videosList(ids, ['snippet'], 'k'))).toMatchObject({ kind: 'quotaExceeded' });
      await short.clock.set(1_800_000_010_500); // the next day
      expect((await c.videosList(ids, ['snippet'], 'k')).items.length).toBeGreaterThan(0);
      expect(await short.usageToday()).toEqual({ p: 1 });
    } finally {
      await short.stop();
    }
  });

  it('pages search.list newest first, publishedAfter bounding it, and new videos appear as time passes', async () => {
    const after = '2026-03-07T00:00:00Z';
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.searchList({ q: 'volo', publishedAfter: after, maxResults: 50, pageToken }, 'k2');
      seen.push(...page.items.map((i) => i.snippet!.publishedAt));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(10);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(seen.every((t) => t > after)).toBe(true);
    await sandbox.clock.set(Date.parse('2026-03-09T08:00:00Z'));
    const later = await client.searchList({ q: 'volo', publishedAfter: after, maxResults: 5 }, 'k2');
    expect(later.totalResults).toBeGreaterThan(seen.length);
    expect(await err(client.searchList({ q: 'volo', pageToken: 'garbage' }, 'k2'))).toMatchObject({
      kind: 'invalidRequest',
      reason: 'invalidPageToken',
    });
  });

  it('parses project:key pairs, and plans calls, units and days', () => {
    const keys = parseYoutubeKeys(['p1:AIza1', 'p1:AIza2', 'p2:AIza:with:colons']);
    expect(projectsOf(keys)).toEqual([
      { project: 'p1', fingerprints: [keys[0].fingerprint, keys[1].fingerprint] },
      { project: 'p2', fingerprints: [keys[2].fingerprint] },
    ]);
    expect(keys[2].key).toBe('AIza:with:colons');
    expect(() => parseYoutubeKeys(['nokey'])).toThrow(/project:key/);
    expect(planEnrichment({ distinctIds: 631_348, projects: 1, unitsPerDay: 10_000, costPerCall: 1 })).toMatchObject({
      calls: 12_627,
      units: 12_627,
      days: 2,
    });
    expect(planEnrichment({ distinctIds: 631_348, projects: 1, unitsPerDay: 10_000, costPerCall: 11 })).toMatchObject({
      callsPerDay: 909,
      days: 14,
    });
    expect(durationSeconds('PT4M13S')).toBe(253);
    expect(durationSeconds('P1DT1H')).toBe(90_000);
    expect(durationSeconds('bogus')).toBeUndefined();
  });
});
