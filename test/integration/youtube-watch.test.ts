/**
 * youtube-watch on the dev server (real time) against the YouTube sandbox (one video a second), with the
 * worker opening the real embedded store (SQLite, WAL) from its configuration: after N ticks a second
 * connection to the same file reads exactly the sandbox's newest videos, newest first, each stored once, and
 * the videos API started on it serves them in that order.
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { youtubeKeyPairs } from '../../src/pipelines/youtube/sandbox';
import { SearchFeed } from '../../src/pipelines/youtube/sandbox/videos';
import { ledgerWorkflowId } from '../../src/kit/limits/quota';
import {
  pauseWatchSignal,
  resumeWatchSignal,
  setWatchIntervalUpdate,
  watchStatusQuery,
  type YoutubeWatchResult,
} from '../../src/pipelines/youtube/watch-shared';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { createVideosStore } from '../../src/sinks/videos';
import type { VideosStore } from '../../src/sinks/videos-store';
import { maybeSaveHistory } from '../helpers/histories';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';
import { feedIds } from '../helpers/youtube-watch';

const PROJECTS: SandboxProject[] = [{ id: 'watch-int-a', keys: ['watch-int-key-a-1'] }];
const SEED = 11;
const FEED_MS = 1000;
const Q = 'cricket';

describe('youtube-watch on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: YoutubeSandbox | undefined;
  let reader: VideosStore | undefined;
  let api: ApiServer | undefined;
  const started: string[] = [];
  useTemporalServer('dev', (e) => (env = e), {
    started,
    afterEach: async () => {
      await api?.close();
      api = undefined;
      await sandbox?.stop();
      await reader?.close();
    },
  });

  it('after 6 one-second ticks the SQLite store and the API hold exactly the sandbox’s newest videos', async () => {
    const origin = Date.now() - 10 * 60_000;
    sandbox = new YoutubeSandbox({
      seed: SEED,
      projects: PROJECTS,
      searchCallsPerDay: 1000,
      searchOriginMs: origin,
      searchIntervalMs: FEED_MS,
    });
    const url = await sandbox.start();
    const deps = testDeps({ YOUTUBE_BASE_URL: `${url}/youtube/v3`, YOUTUBE_API_KEYS: youtubeKeyPairs(PROJECTS) });
    const feed = new SearchFeed(SEED, Q, origin, FEED_MS);
    const pool = uniqueQueue('ytw-int');
    const workflowId = uniqueQueue('ytw-int');
    started.push(workflowId, ledgerWorkflowId(pool));

    const { result, midway } = await withWorker(env, deps, async (taskQueue) => {
      const handle = await env.client.workflow.start('youtubeWatch', {
        taskQueue,
        workflowId,
        args: [{ query: Q, intervalSeconds: 1, overlapSeconds: 60, pool, stopAfterTicks: 6 }],
      });
      // The status query answers while it runs.
      let midway = await handle.query(watchStatusQuery);
      for (let i = 0; i < 100 && midway.ticks < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        midway = await handle.query(watchStatusQuery);
      }
      // Pause, resume and an interval update on the way (their handlers are in the saved history).
      expect(await handle.executeUpdate(setWatchIntervalUpdate, { args: [1] })).toMatchObject({ previous: 1 });
      await handle.signal(pauseWatchSignal);
      let paused = await handle.query(watchStatusQuery);
      for (let i = 0; i < 100 && paused.state !== 'paused'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        paused = await handle.query(watchStatusQuery);
      }
      expect(paused.state).toBe('paused');
      await handle.signal(resumeWatchSignal);
      const result = (await handle.result()) as YoutubeWatchResult;
      await maybeSaveHistory(env.address, workflowId, 'youtube-watch');
      return { result, midway };
    });
    expect(midway.ticks).toBeGreaterThanOrEqual(2);
    expect(midway.query).toBe(Q);
    expect(midway.position.cursor).toBeDefined();
    expect(result).toMatchObject({ ticks: 6, calls: 6, failedTicks: 0, quotaWaits: 0, state: 'stopped' });

    // A second connection to the worker's file (the API's view).
    reader = createVideosStore(deps.config);
    await reader.init();
    const total = await reader.count({ query: Q });
    expect(total).toBe(result.videosStored);
    expect(total).toBe(result.inserted);
    const page = await reader.list({ query: Q, pageSize: 100 });
    expect(page.total).toBe(total);
    const ids = page.items.map((v) => v.videoId);
    const newest = Date.parse(page.items[0].publishedAt);
    const oldest = Date.parse(page.items.at(-1)!.publishedAt);
    // Exactly the feed's videos over that span, newest first, and none published by the last call missing.
    expect(ids).toEqual(feedIds(feed, oldest, newest));
    const calls = sandbox.calls.filter((c) => c.method === 'search.list' && c.status === 200);
    expect(calls).toHaveLength(6);
    expect(feedIds(feed, newest + 1, calls.at(-1)!.at)).toEqual([]);
    // The first tick asked for the 60 s overlap before its time (publishedAfter always sent) and took its
    // newest page (50 of a video a second); 5 more seconds of feed came in over the next ticks.
    expect(Date.parse(calls[0].publishedBefore!) - Date.parse(calls[0].publishedAfter!)).toBe(60_000);
    expect(total).toBeGreaterThanOrEqual(50 + 4);
    const first = await reader.get(ids[0]);
    expect(first).toMatchObject({ queries: [Q], thumbnails: { default: expect.stringContaining(ids[0]) } });
    expect((first!.raw as { id: { videoId: string } }).id.videoId).toBe(ids[0]);

    // The videos API on that store: the first pages are the sandbox's newest videos, in order.
    api = await startApiServer({ store: reader, host: '127.0.0.1', port: 0 });
    const get = async (pathAndQuery: string) => {
      const res = await fetch(`${api!.url}${pathAndQuery}`);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        items: { videoId: string; publishedAt: string }[];
        total: number;
        next: string | null;
        videoId?: string;
        raw?: unknown;
      };
    };
    const page1 = await get(`/api/videos?query=${Q}&pageSize=20`);
    expect(page1.total).toBe(total);
    expect(page1.items.map((v) => v.videoId)).toEqual(ids.slice(0, 20));
    expect(page1.next).not.toBeNull();
    const page2 = await get(`/api/videos?query=${Q}&pageSize=20&page=2`);
    expect(page2.items.map((v) => v.videoId)).toEqual(ids.slice(20, 40));
    const one = await get(`/api/videos/${ids[0]}`);
    expect(one).toMatchObject({ videoId: ids[0], raw: { id: { videoId: ids[0] } } });
  });
});
