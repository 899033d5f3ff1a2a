/**
 * youtube-watch on the time-skipping server against the YouTube sandbox, whose clock follows the test
 * server's: the search feed grows in workflow time (one video every 3 to 4.5 s) and projects' search quotas
 * reset at Pacific midnight in workflow time. The watcher ticks every 10 s and its store ends up holding
 * exactly the feed's videos from its first page on (no gap, nothing twice); a project the API says is spent
 * is parked and a revoked key dropped; when every project is spent it waits for the reset and carries on;
 * it continues as new handing on its cursor; pause/resume/setInterval work; bad input fails at once.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { SearchFeed } from '../../src/pipelines/youtube/sandbox/videos';
import { fingerprint } from '../../src/node/fingerprint';
import { ledgerStateQuery, ledgerWorkflowId, type LedgerConfig } from '../../src/kit/limits/quota';
import { nextReset } from '../../src/kit/limits/quota-reset';
import {
  pauseWatchSignal,
  resumeWatchSignal,
  setWatchIntervalUpdate,
  watchStatusQuery,
  type YoutubeWatchInput,
  type YoutubeWatchResult,
} from '../../src/pipelines/youtube/watch-shared';
import type { WatchCarry } from '../../src/pipelines/youtube/workflows/watch';
import { uniqueQueue, useTemporalServer, withWorker, awayFromPacificMidnight } from '../helpers/temporal';
import { timeSkippingYoutubeDeps } from '../helpers/youtube';
import { feedIds, MemoryVideosStore, newestFirst } from '../helpers/youtube-watch';

const SEED = 7;
const FEED_MS = 3_000;
const Q = 'cricket';

describe('youtube-watch on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: YoutubeSandbox | undefined;
  let feed: SearchFeed;
  let store: MemoryVideosStore;
  /** Workflows to end after each test (watchers and ledgers): nothing may outlive its worker. */
  const started: string[] = [];
  useTemporalServer('time-skipping', (e) => (env = e), {
    started,
    afterEach: () => sandbox?.stop(),
    checkSkipping: true, // nothing this test left behind holds the shared clock
  });
  const newPool = (): string => {
    const pool = uniqueQueue('ytw');
    started.push(ledgerWorkflowId(pool));
    return pool;
  };
  const newId = (what: string): string => {
    const id = uniqueQueue(`ytw-${what}`);
    started.push(id);
    return id;
  };

  /** `searchCallsPerDay` null: the sandbox charges searches on the classic model (100 of the daily units). */
  async function start(projects: SandboxProject[], searchCallsPerDay: number | null = 1000) {
    const now = await env.currentTimeMs();
    const origin = now - 3_600_000; // the feed started an hour ago
    sandbox = new YoutubeSandbox({
      seed: SEED,
      projects,
      ...(searchCallsPerDay === null ? {} : { searchCallsPerDay }),
      searchOriginMs: origin,
      searchIntervalMs: FEED_MS,
    });
    const deps = await timeSkippingYoutubeDeps(env, sandbox, projects);
    feed = new SearchFeed(SEED, Q, origin, FEED_MS);
    store = new MemoryVideosStore();
    return { ...deps, videos: store };
  }
  const searches = () => sandbox!.calls.filter((c) => c.method === 'search.list');
  const served = () => searches().filter((c) => c.status === 200);

  /**
   * The store holds exactly the feed's videos from the oldest stored to the newest stored (no gap), and no
   * video the feed had published by the last call is missing above it.
   */
  function expectWholeFeed(): void {
    const stored = newestFirst(store.videos.values());
    expect(stored.length).toBeGreaterThan(0);
    const newest = Date.parse(stored[0].publishedAt);
    const oldest = Date.parse(stored.at(-1)!.publishedAt);
    expect(stored.map((v) => v.videoId)).toEqual(feedIds(feed, oldest, newest));
    expect(feedIds(feed, newest + 1, served().at(-1)!.at)).toEqual([]);
    for (const v of stored) expect(v.queries).toEqual([Q]);
  }

  const awayFromMidnight = () => awayFromPacificMidnight(env);

  const run = (taskQueue: string, workflowId: string, input: YoutubeWatchInput): Promise<YoutubeWatchResult> =>
    env.client.workflow.execute('youtubeWatch', { taskQueue, workflowId, args: [input] });

  const P1: SandboxProject = { id: 'proj-a', keys: ['key-a-1-AIzaTest'] };
  const P2: SandboxProject = { id: 'proj-b', keys: ['key-b-1-AIzaTest', 'key-b-2-AIzaTest'] };

  it('ticks every 10 s and stores exactly the new videos as the feed grows', async () => {
    const deps = await start([P1]);
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('ticks'), { query: Q, pool: newPool(), stopAfterTicks: 12 }),
    );
    expect(result).toMatchObject({ query: Q, state: 'stopped', ticks: 12, calls: 12, failedTicks: 0, runs: 1 });
    expect(result.lastTick).toMatchObject({ outcome: 'ok', pages: 1 });
    expect(result.keyFingerprint).toBe(fingerprint(P1.keys[0]));
    // One call a tick, 10 s of workflow time apart (± 3 s: while an activity runs, the test server's time
    // advances in real time — 1,042 ms once, on a machine busy with the full chaos suite).
    const calls = served();
    expect(calls).toHaveLength(12);
    for (let i = 1; i < calls.length; i++) expect(Math.abs(calls[i].at - calls[i - 1].at - 10_000)).toBeLessThan(3000);
    // The first tick takes the newest page of the 60 s overlap before its time (publishedAfter is always
    // sent: the seed's rule); each later one asks since the newest stored minus the overlap and finds the 2
    // or 3 videos published since.
    expect(Date.parse(calls[0].publishedBefore!) - Date.parse(calls[0].publishedAfter!)).toBe(60_000);
    expect(store.upserts[0].inserted).toBeGreaterThanOrEqual(1);
    expect(store.upserts[0]).toMatchObject({ merged: 0 });
    for (const u of store.upserts.slice(1)) {
      expect(u.inserted).toBeGreaterThanOrEqual(1);
      expect(u.inserted).toBeLessThanOrEqual(5);
      expect(u.merged).toBeGreaterThanOrEqual(12); // the overlap: known videos, merged, never stored twice
    }
    expect(calls.slice(1).every((c) => c.publishedAfter !== undefined)).toBe(true);
    expect(result.inserted).toBe(store.videos.size);
    expect(result.videosStored).toBe(store.videos.size);
    // The first tick's videos of the overlap, and 2 or 3 more at each of the 11 ticks after it.
    expect(store.videos.size).toBeGreaterThanOrEqual(store.upserts[0]!.inserted + 2 * 11);
    expectWholeFeed();
  });

  it('a first tick whose answer was lost is retried on the same page: every video served is stored', async () => {
    const deps = await start([P1]);
    // The first page is served, then the attempt dies before storing it; its retry comes 30 s later, when
    // ten newer videos have been published (a killed worker's attempt is retried after its timeout).
    store.failing.push(ApplicationFailure.create({ message: 'test: worker lost', nextRetryDelay: '30s' }));
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('lost-first'), { query: Q, pool: newPool(), stopAfterTicks: 3 }),
    );
    expect(result).toMatchObject({ ticks: 3, failedTicks: 0 });
    const servedIds = sandbox!
      .truth('search.list')
      .filter((r) => r.delivered)
      .flatMap((r) => r.data.ids as string[]);
    expect(served().length).toBeGreaterThanOrEqual(4); // the lost answer, its retry, two more ticks
    expect(servedIds.filter((id) => !store.videos.has(id))).toEqual([]);
    expectWholeFeed();
  });

  it('backfills from a date over several ticks, then follows the feed', async () => {
    const deps = await start([P1]);
    const from = new Date((await env.currentTimeMs()) - 20 * 60_000).toISOString(); // ~400 videos ago
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('backfill'), {
        query: Q,
        pool: newPool(),
        backfillFrom: from,
        maxPagesPerTick: 3,
        stopAfterTicks: 6,
      }),
    );
    // 3 pages of 50 a tick: the sweep down to the date takes 3 ticks, then the cursor follows the feed.
    const firstPages = searches().filter((c) => !c.pageToken);
    expect(firstPages).toHaveLength(6);
    expect(firstPages[0]).toMatchObject({ publishedAfter: from.replace('.000Z', 'Z'), publishedBefore: undefined });
    expect(firstPages[1].publishedBefore).toBeDefined(); // the sweep goes on below what tick 1 reached
    expect(firstPages[5].publishedBefore).toBeUndefined();
    expect(result).toMatchObject({ ticks: 6, failedTicks: 0 });
    expect(result.lastTick?.outcome).toBe('ok');
    expect(result.position.sweep).toBeUndefined();
    expect(result.calls).toBeGreaterThanOrEqual(3 + 3 + 1 + 3);
    const stored = newestFirst(store.videos.values());
    expect(stored.map((v) => v.videoId)).toEqual(feedIds(feed, Date.parse(from), Date.parse(stored[0].publishedAt)));
    expect(stored.length).toBeGreaterThan(400);
    expectWholeFeed();
    expect(result.inserted).toBe(store.videos.size);
  });

  it('narrows the time window when a walk runs out at the API’s ~500-result cap: no video skipped', async () => {
    const deps = await start([P1]);
    // ~50 minutes of feed: about 800 videos, more than one query returns (500 across its pages).
    const from = new Date((await env.currentTimeMs()) - 50 * 60_000).toISOString();
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('cap'), { query: Q, pool: newPool(), backfillFrom: from, maxPagesPerTick: 10, stopAfterTicks: 5 }),
    );
    // Tick 1 walks 10 pages of one window and reaches the cap: the next walk asks below the oldest it reached.
    const firstPages = searches().filter((c) => !c.pageToken);
    expect(firstPages[0]).toMatchObject({ publishedAfter: from.replace('.000Z', 'Z'), publishedBefore: undefined });
    expect(firstPages[1].publishedAfter).toBe(from.replace('.000Z', 'Z'));
    expect(firstPages[1].publishedBefore).toBeDefined();
    expect(result).toMatchObject({ ticks: 5, failedTicks: 0 });
    expect(result.position.sweep).toBeUndefined();
    const stored = newestFirst(store.videos.values());
    expect(stored.length).toBeGreaterThan(700);
    expect(stored.map((v) => v.videoId)).toEqual(feedIds(feed, Date.parse(from), Date.parse(stored[0].publishedAt)));
    expectWholeFeed();
  });

  it('charges 100 of the daily units per search on the classic model', async () => {
    await awayFromMidnight();
    const deps = await start([P1], null);
    const pool = newPool();
    const { result, ledger } = await withWorker(env, deps, async (q) => {
      const result = await run(q, newId('classic'), { query: Q, quotaModel: 'classic', pool, stopAfterTicks: 3 });
      const ledger = await env.client.workflow.getHandle(ledgerWorkflowId(pool)).query(ledgerStateQuery);
      return { result, ledger };
    });
    expect(result).toMatchObject({ ticks: 3, calls: 3, units: 300, failedTicks: 0 });
    // (Not usageToday(): once the run is over the server may skip far ahead, to the ledger's run timeout.)
    expect(served().map((c) => [c.project, c.units])).toEqual([
      ['proj-a', 100],
      ['proj-a', 100],
      ['proj-a', 100],
    ]);
    expect(ledger.costs['search.list']).toBe(100);
    expect(ledger.buckets).toMatchObject([{ id: 'proj-a', unitsPerPeriod: 10_000, used: 300 }]);
    expectWholeFeed();
  });

  it('parks a project the API says is spent and drops a revoked key, without losing a video', async () => {
    // proj-a really has 2 search calls a day while the ledger expects 100: its 3rd call is refused.
    await awayFromMidnight();
    const deps = await start([{ ...P1, searchCallsPerDay: 2 }, P2]);
    sandbox!.revokeKey(P2.keys[0]);
    const pool = newPool();
    const { result, ledger } = await withWorker(env, deps, async (q) => {
      const result = await run(q, newId('keys'), { query: Q, pool, stopAfterTicks: 8 });
      const ledger = await env.client.workflow.getHandle(ledgerWorkflowId(pool)).query(ledgerStateQuery);
      return { result, ledger };
    });
    expect(result).toMatchObject({ ticks: 8, failedTicks: 0, quotaExceeded: 1, quotaWaits: 0 });
    const refused = searches().filter((c) => c.status !== 200);
    expect(refused.map((c) => [c.status, c.project, c.key])).toEqual(
      expect.arrayContaining([
        [403, 'proj-a', fingerprint(P1.keys[0])],
        [400, 'proj-b', fingerprint(P2.keys[0])],
      ]),
    );
    expect(refused).toHaveLength(2);
    expect(result.invalidKeys).toHaveLength(1);
    expect(result.invalidKeys[0]).toMatch(/API key not valid/);
    // After the refusal every call goes to proj-b's remaining key.
    const after403 = searches().slice(searches().findIndex((c) => c.status === 403) + 1);
    expect(after403.every((c) => c.key === fingerprint(P2.keys[1]) && c.status === 200)).toBe(true);
    expect(served().filter((c) => c.project === 'proj-a')).toHaveLength(2);
    expect(served()).toHaveLength(8);
    expect(result.keyFingerprint).toBe(fingerprint(P2.keys[1]));
    // Parked until the Pacific-midnight reset that followed the refusal.
    const the403 = searches().find((c) => c.status === 403)!;
    expect(ledger.buckets.find((b) => b.id === 'proj-a')!.spentUntil).toBe(
      nextReset({ kind: 'pacific-midnight' }, the403.at),
    );
    expect(ledger.removed).toMatchObject([{ fingerprint: fingerprint(P2.keys[0]), bucket: 'proj-b' }]);
    expectWholeFeed();
  });

  it('waits for the Pacific-midnight reset when every project is spent, then carries on', async () => {
    // 2 projects × 2 search calls a day (the ledger knows it): 4 ticks, then a wait until midnight.
    const now = await env.currentTimeMs();
    let midnight = nextReset({ kind: 'pacific-midnight' }, now);
    if (midnight - now < 120_000) midnight = nextReset({ kind: 'pacific-midnight' }, midnight + 1);
    await env.sleep(midnight - now - 55_000);
    const deps = await start([P1, { id: 'proj-c', keys: ['key-c-1-AIzaTest'] }], 2);
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('reset'), { query: Q, pool: newPool(), unitsPerDay: 2, stopAfterTicks: 8 }),
    );
    expect(result).toMatchObject({ ticks: 8, quotaWaits: 1, quotaExceeded: 0, failedTicks: 0 });
    expect(searches().every((c) => c.status === 200)).toBe(true); // the ledger knew: the API never refused
    const calls = served();
    expect(calls).toHaveLength(7); // 8 ticks, one of which found the quota spent
    expect(calls.slice(0, 4).every((c) => c.at < midnight)).toBe(true);
    expect(calls.slice(4).every((c) => c.at >= midnight)).toBe(true);
    expect(new Set(calls.slice(0, 4).map((c) => c.day)).size).toBe(1);
    expect(calls[4].day).not.toBe(calls[3].day);
    // The 5th tick (at about 23:59:45) waited; the next call came right after the reset.
    expect(calls[4].at - midnight).toBeGreaterThanOrEqual(1000);
    expect(calls[4].at - midnight).toBeLessThan(3000);
    expectWholeFeed();
  });

  it('continues as new every 3 ticks, handing on its cursor: no gap, nothing twice', async () => {
    const deps = await start([P1]);
    const workflowId = newId('can');
    const { result, firstRunId } = await withWorker(env, deps, async (q) => {
      const handle = await env.client.workflow.start('youtubeWatch', {
        taskQueue: q,
        workflowId,
        args: [{ query: Q, pool: newPool(), ticksPerRun: 3, stopAfterTicks: 10, overlapSeconds: 5 }],
      });
      return { result: (await handle.result()) as YoutubeWatchResult, firstRunId: handle.firstExecutionRunId };
    });
    expect(result).toMatchObject({ ticks: 10, runs: 4, calls: 10, failedTicks: 0 });
    // Walk the chain of runs: each hands its position on, and the next run's first call starts from it.
    let runId: string | undefined = firstRunId;
    let handovers = 0;
    while (runId) {
      const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await env.client.workflow
        .getHandle(workflowId, runId)
        .fetchHistory();
      const can: temporal.api.history.v1.IWorkflowExecutionContinuedAsNewEventAttributes | null | undefined =
        history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
      if (!can) break;
      const carry = defaultPayloadConverter.fromPayload<WatchCarry>(can.input!.payloads![1]);
      const cursor = carry.status.position.cursor!;
      expect(cursor).toBeDefined();
      const next = served()[carry.status.calls]; // the new run's first call
      expect(Date.parse(next.publishedAfter!)).toBe(Date.parse(cursor) - 5000);
      expect(carry.status.ticksThisRun).toBe(3);
      runId = can.newExecutionRunId ?? undefined;
      handovers++;
    }
    expect(handovers).toBe(3);
    // 5 s overlap: at most 2 known videos merged a tick; every video stored once.
    expect(result.merged).toBeLessThanOrEqual(2 * 9);
    expect(result.inserted).toBe(store.videos.size);
    expect(store.upserts.reduce((n, u) => n + u.inserted, 0)).toBe(store.videos.size);
    expectWholeFeed();
  });

  it('pauses, resumes and changes its interval; refuses a bad interval; ends when cancelled', async () => {
    const deps = await start([P1]);
    const workflowId = newId('pause');
    await withWorker(env, deps, async (q) => {
      const handle = await env.client.workflow.start('youtubeWatch', {
        taskQueue: q,
        workflowId,
        args: [{ query: Q, pool: newPool() }],
      });
      await env.sleep(25_000); // ticks at 0, 10 and 20 s
      expect(served()).toHaveLength(3);
      await handle.signal(pauseWatchSignal);
      await env.sleep(60_000);
      expect(served()).toHaveLength(3);
      const paused = await handle.query(watchStatusQuery);
      expect(paused).toMatchObject({ state: 'paused', paused: true, ticks: 3 });

      await handle.signal(resumeWatchSignal);
      await env.sleep(5_000); // overdue: it ticks at once
      expect(served()).toHaveLength(4);
      const resumedAt = served()[3].at;

      const answer = await handle.executeUpdate(setWatchIntervalUpdate, { args: [30] });
      expect(answer).toMatchObject({ previous: 10, intervalSeconds: 30 });
      await env.sleep(66_000);
      const calls = served();
      expect(calls).toHaveLength(6);
      expect(Math.abs(calls[4].at - resumedAt - 30_000)).toBeLessThan(1000);
      expect(Math.abs(calls[5].at - calls[4].at - 30_000)).toBeLessThan(1000);

      const refused = await handle.executeUpdate(setWatchIntervalUpdate, { args: [0] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/intervalSeconds/);
      const status = await handle.query(watchStatusQuery);
      expect(status).toMatchObject({ state: 'sleeping', paused: false, intervalSeconds: 30, ticks: 6 });
      // Cancelled while sleeping, with the timer the interval update left behind still pending: the run ends
      // cancelled (not stuck on an unhandled rejection of that timer).
      await handle.cancel();
      const end = await handle.result().catch((e: unknown) => e);
      expect(end).toBeInstanceOf(WorkflowFailedError);
      expect((end as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    });
    expectWholeFeed();
  });

  it('records a tick that keeps failing and carries on; fails clearly when no key is usable', async () => {
    const deps = await start([P1]);
    sandbox!.rateLimit(5); // the first tick's 5 attempts all answer 403 rateLimitExceeded
    const result = await withWorker(env, deps, (q) =>
      run(q, newId('failing'), { query: Q, pool: newPool(), stopAfterTicks: 4 }),
    );
    expect(result).toMatchObject({ ticks: 4, failedTicks: 1, calls: 3 });
    expect(result.lastTick?.outcome).toBe('ok');
    expect(searches().filter((c) => c.status === 403)).toHaveLength(5);
    expectWholeFeed();

    await sandbox!.stop();
    const deps2 = await start([P1, P2]);
    for (const p of [P1, P2]) for (const k of p.keys) sandbox!.revokeKey(k);
    const err = await withWorker(env, deps2, (q) => run(q, newId('nokeys'), { query: Q, pool: newPool() })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('YoutubeNoUsableKey');
    expect(cause.message).toMatch(/no usable key in the pool — removed: .*API key not valid/);
    expect(searches().filter((c) => c.status === 400)).toHaveLength(3); // each key tried once
  });

  it('fails at once when its quota settings contradict the pool ledger’s (never flips them)', async () => {
    const deps = await start([P1]);
    const pool = newPool();
    // Another pipeline runs the pool's ledger with 7 searches a day for proj-a; this watcher says 100.
    const other: LedgerConfig = {
      buckets: [{ id: P1.id, unitsPerPeriod: 7, reset: { kind: 'pacific-midnight' }, keys: [fingerprint(P1.keys[0])] }],
      costs: { 'search.list': 1 },
    };
    const err = await withWorker(env, deps, async (q) => {
      await env.client.workflow.start('quotaLedger', {
        taskQueue: q,
        workflowId: ledgerWorkflowId(pool),
        args: [{ config: other }],
      });
      return run(q, newId('conflict'), { query: Q, pool, stopAfterTicks: 3 }).catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('QuotaLedgerConflict');
    expect(cause.message).toMatch(/bucket proj-a: 100 units per period asked, the ledger has 7/);
    expect(searches()).toEqual([]);
  });

  it('refuses bad input at once, naming the field', async () => {
    const deps = await start([P1]);
    const err = await withWorker(env, deps, (q) =>
      run(q, newId('bad'), { query: Q, intervalSeconds: 0, backfillFrom: 'yesterday' } as YoutubeWatchInput),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidInput');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect(cause!.message).toMatch(/intervalSeconds/);
    expect(cause!.message).toMatch(/backfillFrom/);
    expect(searches()).toEqual([]);
  });
});
