/**
 * youtube-enrich on the time-skipping server against the YouTube sandbox, whose clock follows the test
 * server's, so projects' quotas reset at Pacific midnight in workflow time: 3 projects (one with two keys)
 * × 4 units a day over 2,250 distinct IDs (45 calls) take 4 days — 3 durable waits for the reset — and
 * every ID is fetched exactly once; a revoked key is taken out of the pool; a project that runs out before
 * the ledger expects is parked until its reset; a pool with no valid key fails with a clear message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { fingerprint } from '../../src/node/fingerprint';
import { ledgerStateQuery, ledgerWorkflowId } from '../../src/kit/limits/quota';
import { progressQuery } from '../../src/shared/messages';
import type { YoutubeEnrichResult } from '../../src/pipelines/youtube/enrich';
import { tmpDir, uniqueQueue, useTemporalServer, withWorker, awayFromPacificMidnight } from '../helpers/temporal';
import { timeSkippingYoutubeDeps } from '../helpers/youtube';

const PROJECTS: SandboxProject[] = [
  { id: 'proj-a', keys: ['key-a-1-AIzaTest', 'key-a-2-AIzaTest'] },
  { id: 'proj-b', keys: ['key-b-1-AIzaTest'] },
  { id: 'proj-c', keys: ['key-c-1-AIzaTest'] },
];

/** The workers' input folder (LONGHAUL_INPUT_DIR): a CSV on the worker's disk is read only from inside it. */
const INPUT_DIR = tmpDir('yt-input-');

/** n distinct well-formed IDs, a CSV of them with duplicates and a few bad values in a `song` column. */
function playlog(n: number, seed: number): { ids: string[]; csv: string } {
  const ids = Array.from({ length: n }, (_, i) => fakeId(seed, 'playlog', i));
  expect(new Set(ids).size).toBe(n);
  const rows = ['user_id,song,timestamp'];
  ids.forEach((id, i) => {
    rows.push(`u${i % 37},${id},2026-01-0${(i % 9) + 1}`);
    if (i % 7 === 0) rows.push(`u${i % 11},${id},2026-02-01`); // a second play of the same song
  });
  rows.push('u1,not-an-id,2026-01-01', 'u2,,2026-01-01', 'u3,way-too-long-to-be-an-id,2026-01-01');
  const file = path.join(fs.mkdtempSync(path.join(INPUT_DIR, 'yt-csv-')), 'playlog.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return { ids, csv: file };
}

describe('youtube-enrich on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: YoutubeSandbox;
  // The ledgers live as long as their pool is used; this test's are ended after it, so they do not outlive it.
  const ledgers: string[] = [];
  useTemporalServer('time-skipping', (e) => (env = e), { started: ledgers, afterEach: () => sandbox?.stop() });
  const newPool = (): string => {
    const pool = uniqueQueue('yt');
    ledgers.push(ledgerWorkflowId(pool));
    return pool;
  };

  const awayFromMidnight = () => awayFromPacificMidnight(env);

  async function start(projects: SandboxProject[], unitsPerDay: number) {
    await awayFromMidnight();
    sandbox = new YoutubeSandbox({ seed: 5, projects, unitsPerDay, missingRate: 0.05 });
    return timeSkippingYoutubeDeps(env, sandbox, PROJECTS, { LONGHAUL_INPUT_DIR: INPUT_DIR });
  }
  const served = () => sandbox.calls.filter((c) => c.method === 'videos.list' && c.status === 200);
  const fetchedIds = () => served().flatMap((c) => c.ids!);

  it('spreads 4 days of quota over 3 projects, waits for 3 resets and fetches every ID once', async () => {
    const deps = await start(PROJECTS, 4);
    const { ids, csv } = playlog(2250, 1);
    const pool = newPool();
    const result: YoutubeEnrichResult = await withWorker(env, deps, (taskQueue) =>
      env.client.workflow.execute('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-4days'),
        args: [{ csv, column: 'song', unitsPerDay: 4, callsPerActivity: 5, concurrency: 3, pool, chunksPerRun: 4 }],
      }),
    );
    expect(result).toMatchObject({ distinct: 2250, invalid: 3, duplicates: Math.ceil(2250 / 7), calls: 45 });
    expect(result.plan).toMatchObject({ calls: 45, projects: 3, callsPerDay: 12, days: 4 });
    expect(result.quotaWaits).toBe(3);
    expect(result.quotaExceeded).toBe(0);
    const span = served().at(-1)!.at - served()[0].at; // workflow time from the first call to the last
    expect(span).toBeGreaterThan(2 * 86_400_000);
    expect(span).toBeLessThan(4 * 86_400_000);

    // Every ID fetched exactly once; the sandbox never had to refuse a call.
    const got = fetchedIds();
    expect(got).toHaveLength(2250);
    expect(new Set(got).size).toBe(2250);
    expect([...got].sort()).toEqual([...ids].sort());
    expect(sandbox.calls.filter((c) => c.status !== 200)).toEqual([]);
    // At most 4 calls per project per Pacific day, spread over 4 days; both keys of proj-a were used.
    const perDay = new Map<string, number>();
    for (const e of served()) perDay.set(`${e.project} ${e.day}`, (perDay.get(`${e.project} ${e.day}`) ?? 0) + 1);
    expect(Math.max(...perDay.values())).toBe(4);
    expect(new Set(served().map((e) => e.day)).size).toBe(4);
    expect(
      new Set(
        served()
          .filter((e) => e.project === 'proj-a')
          .map((e) => e.key),
      ),
    ).toEqual(new Set(PROJECTS[0].keys.map(fingerprint)));
    expect(Object.values(result.unitsByKey).reduce((a, b) => a + b, 0)).toBe(45);

    // Outputs reconcile: fetched + missing = distinct, in the shards, the manifest and the warehouse.
    expect(result.fetched + result.missing).toBe(2250);
    expect(result.missing).toBeGreaterThan(50);
    const manifest = JSON.parse((await deps.bucket.get(result.manifest!)).toString('utf8')) as {
      shards: { key: string; videos: number }[];
      fetched: number;
    };
    expect(manifest.shards).toHaveLength(9);
    let lines = 0;
    for (const s of manifest.shards)
      lines += gunzipSync(await deps.bucket.get(s.key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean).length;
    expect(lines).toBe(result.fetched);
    const [{ n }] = await deps.warehouse.query<{ n: number }>(
      'SELECT count(DISTINCT video_id) AS n FROM youtube_videos',
    );
    expect(Number(n)).toBe(result.fetched);
    const [{ m }] = await deps.warehouse.query<{ m: number }>('SELECT count(*) AS m FROM youtube_videos_missing');
    expect(Number(m)).toBe(result.missing);
  });

  it('takes a revoked key out of the pool and parks a project the API says is spent', async () => {
    // proj-b really has 3 units a day while the ledger is told 4: its 4th call of the day is refused.
    const deps = await start([PROJECTS[0], { ...PROJECTS[1], unitsPerDay: 3 }, PROJECTS[2]], 4);
    sandbox.revokeKey(PROJECTS[0].keys[0]);
    const { ids } = playlog(1000, 2);
    const pool = newPool();
    const { result, ledger } = await withWorker(env, deps, async (taskQueue) => {
      const result: YoutubeEnrichResult = await env.client.workflow.execute('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-keys'),
        args: [{ ids, unitsPerDay: 4, callsPerActivity: 4, concurrency: 2, pool, outPrefix: 'yt/keys' }],
      });
      // The ledger answers queries while a worker polls its queue.
      const ledger = await env.client.workflow.getHandle(ledgerWorkflowId(pool)).query(ledgerStateQuery);
      return { result, ledger };
    });
    const badFp = fingerprint(PROJECTS[0].keys[0]);
    expect(result.invalidKeys).toHaveLength(1);
    expect(result.invalidKeys[0]).toContain(badFp);
    expect(result.invalidKeys[0]).toMatch(/API key not valid/);
    const refused = sandbox.calls.filter((c) => c.status === 400);
    expect(refused).toHaveLength(1); // tried once, then never again
    expect(refused[0].key).toBe(badFp);
    expect(result.quotaExceeded).toBeGreaterThanOrEqual(1);
    const spent = sandbox.calls.filter((c) => c.status === 403);
    expect(spent.length).toBe(result.quotaExceeded);
    expect(spent.every((c) => c.project === 'proj-b')).toBe(true);
    // 20 calls at 11 a day: one wait.
    expect(result.quotaWaits).toBe(1);
    const got = fetchedIds();
    expect(got).toHaveLength(1000);
    expect([...got].sort()).toEqual([...ids].sort());
    expect(ledger.removed).toMatchObject([{ fingerprint: badFp, bucket: 'proj-a' }]);
  });

  it('fails with a clear message when no key of the pool is valid', async () => {
    const deps = await start(PROJECTS, 4);
    for (const p of PROJECTS) for (const k of p.keys) sandbox.revokeKey(k);
    const err = await withWorker(env, deps, (taskQueue) =>
      env.client.workflow.execute('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-nokeys'),
        args: [{ ids: playlog(120, 3).ids, pool: newPool(), outPrefix: 'yt/nokeys' }],
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { cause?: { message: string; type?: string } };
    expect(cause.cause?.type).toBe('YoutubeNoUsableKey');
    expect(cause.cause?.message).toMatch(/no usable key in the pool — removed: .*API key not valid/);
    expect(sandbox.calls.filter((c) => c.status === 400)).toHaveLength(4); // each key tried once
  });

  it('fetches again when the parts change, and on --refresh; reuses the fetch otherwise', async () => {
    const deps = await start(PROJECTS, 1000);
    const ids = playlog(120, 6).ids; // 3 calls a fetch
    const pool = newPool();
    const base = { ids, pool, outPrefix: 'yt/parts', unitsPerDay: 1000, callsPerActivity: 2 };
    const runs = await withWorker(env, deps, async (taskQueue) => {
      const out: { calls: number; served: number }[] = [];
      for (const input of [
        { ...base, parts: ['snippet'] },
        { ...base }, // every part
        { ...base }, // the same work again: reused
        { ...base, refresh: true },
      ]) {
        const before = served().length;
        const r: YoutubeEnrichResult = await env.client.workflow.execute('youtubeEnrich', {
          taskQueue,
          workflowId: uniqueQueue('yt-parts'),
          args: [input],
        });
        out.push({ calls: r.calls, served: served().length - before });
      }
      return out;
    });
    expect(runs).toEqual([
      { calls: 3, served: 3 },
      { calls: 3, served: 3 },
      { calls: 0, served: 0 },
      { calls: 3, served: 3 },
    ]);
    const [{ fetched, stats }] = await deps.warehouse.query<{ fetched: number; stats: number }>(
      'SELECT count(*) AS fetched, count(view_count) AS stats FROM youtube_videos',
    );
    expect(Number(fetched)).toBeGreaterThan(100);
    expect(Number(stats)).toBe(Number(fetched)); // statistics filled for every video
  });

  it('recovers from a quota ledger terminated mid-run: waiting runs ask again, no quota is exceeded', async () => {
    const ONE: SandboxProject[] = [{ id: 'proj-solo', keys: ['key-solo-AIzaTest'] }];
    await awayFromMidnight();
    sandbox = new YoutubeSandbox({ seed: 5, projects: ONE, unitsPerDay: 4, missingRate: 0.05 });
    const deps = await timeSkippingYoutubeDeps(env, sandbox, ONE);
    const pool = newPool();
    const ledger = () => env.client.workflow.getHandle(ledgerWorkflowId(pool));
    const common = { pool, unitsPerDay: 4, callsPerActivity: 1, concurrency: 1 };
    const b = playlog(500, 8).ids; // 10 calls
    const result = await withWorker(env, deps, async (taskQueue) => {
      // Run A spends 2 of today's 4 units; then the ledger is terminated.
      await env.client.workflow.execute('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-ledger-a'),
        args: [{ ...common, ids: playlog(100, 7).ids, outPrefix: 'yt/ledger-a' }],
      });
      await ledger().terminate('test: the ledger is terminated mid-run');
      // Run B: 2 calls left today, then it waits for the reset — and the ledger is terminated again.
      const h = await env.client.workflow.start('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-ledger-b'),
        args: [{ ...common, ids: b, outPrefix: 'yt/ledger-b' }],
      });
      for (let i = 0; ; i++) {
        const p = await h.query(progressQuery);
        if (p.waiting) break;
        if (i > 300) throw new Error(`run B never waited for the quota: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await ledger().terminate('test: the ledger is terminated while runs wait');
      return (await h.result()) as YoutubeEnrichResult;
    });
    expect(result).toMatchObject({ distinct: 500, calls: 10, quotaExceeded: 0 });
    expect(result.fetched + result.missing).toBe(500);
    expect(result.quotaWaits).toBe(2); // day 1: 2 calls (A spent 2), day 2: 4, day 3: 4
    expect(sandbox.calls.filter((c) => c.status !== 200)).toEqual([]); // the API never had to refuse
    const perDay = new Map<string, number>();
    for (const e of served()) perDay.set(String(e.day), (perDay.get(String(e.day)) ?? 0) + 1);
    expect([...perDay.values()]).toEqual([4, 4, 4]);
    expect(new Set(fetchedIds()).size).toBe(600);
  });

  it('plans a dry run (distinct IDs, calls, units, days) without calling the API', async () => {
    const deps = await start(PROJECTS, 4);
    const { csv } = playlog(2250, 4);
    const result: YoutubeEnrichResult = await withWorker(env, deps, (taskQueue) =>
      env.client.workflow.execute('youtubeEnrich', {
        taskQueue,
        workflowId: uniqueQueue('yt-plan'),
        args: [{ csv, dryRun: true, unitsPerDay: 4, limit: 1000, pool: newPool(), outPrefix: 'yt/plan' }],
      }),
    );
    expect(result).toMatchObject({ dryRun: true, distinct: 1000, fetched: 0, calls: 0 });
    expect(result.plan).toEqual({
      distinctIds: 1000,
      calls: 20,
      units: 20,
      projects: 3,
      unitsPerDayAllProjects: 12,
      callsPerDay: 12,
      days: 2,
    });
    expect(sandbox.calls).toEqual([]);
  });
});
