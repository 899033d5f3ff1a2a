/**
 * youtube-enrich on the dev server against the YouTube sandbox: 20,000 distinct IDs (from a CSV with
 * duplicates, read through the bucket as s3://…) end to end into the local bucket and DuckDB, with the
 * worker stopped mid-run and a new one started: counts reconcile (fetched + missing = distinct) and no
 * batch finished before the restart is fetched again.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { youtubeKeyPairs } from '../../src/pipelines/youtube/sandbox';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { progressQuery } from '../../src/shared/messages';
import { ledgerWorkflowId } from '../../src/kit/limits/quota';
import type { YoutubeEnrichResult } from '../../src/pipelines/youtube/enrich';
import { maybeSaveHistory, maybeSaveHistoryOfType } from '../helpers/histories';
import { createTestWorker, testDeps, uniqueQueue, useTemporalServer } from '../helpers/temporal';

const N = 20_000;
const PROJECTS: SandboxProject[] = [
  { id: 'int-a', keys: ['int-key-a-1', 'int-key-a-2'] },
  { id: 'int-b', keys: ['int-key-b-1'] },
];

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('youtube-enrich on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: YoutubeSandbox;
  const ledgers: string[] = [];
  useTemporalServer('dev', (e) => (env = e), { started: ledgers, afterEach: () => sandbox?.stop() });

  it('enriches 20,000 IDs into the bucket and DuckDB, resuming after a worker restart without refetching', async () => {
    sandbox = new YoutubeSandbox({ seed: 9, projects: PROJECTS, latencyMs: 15, missingRate: 0.03 });
    const url = await sandbox.start();
    const deps = testDeps({ YOUTUBE_BASE_URL: `${url}/youtube/v3`, YOUTUBE_API_KEYS: youtubeKeyPairs(PROJECTS) });

    // The play log: 20,000 distinct songs, every fifth played twice, uploaded to the bucket.
    const ids = Array.from({ length: N }, (_, i) => fakeId(9, 'int', i));
    const rows = ['song,user,ts'];
    ids.forEach((id, i) => {
      rows.push(`${id},u${i % 100},2026-01-01T00:00:00Z`);
      if (i % 5 === 0) rows.push(`${id},u${(i + 1) % 100},2026-01-02T00:00:00Z`);
    });
    await deps.bucket.put('inputs/playlog.csv', rows.join('\n') + '\n');
    const pool = uniqueQueue('yt-int');
    ledgers.push(ledgerWorkflowId(pool));
    const outPrefix = 'youtube/int';
    const taskQueue = uniqueQueue('yt-int');
    const workflowId = uniqueQueue('yt-int');

    // First worker: start, let some chunks finish, stop it mid-run.
    const w1 = await createTestWorker(env, deps, taskQueue);
    const run1 = w1.run();
    const handle = await env.client.workflow.start('youtubeEnrich', {
      taskQueue,
      workflowId,
      args: [
        {
          csv: 's3://longhaul/inputs/playlog.csv',
          column: 'song',
          pool,
          outPrefix,
          concurrency: 6,
          callsPerActivity: 10,
          chunksPerRun: 12,
        },
      ],
    });
    const ok = () => sandbox.calls.filter((c) => c.status === 200);
    await until(() => ok().length >= 120);
    w1.shutdown();
    await run1;
    const restartAt = sandbox.calls.length;
    const batchKeys = (await deps.bucket.list(`${outPrefix}/_work/`)).filter((o) => o.key.includes('/batches/'));
    const doneBefore = new Set<string>();
    for (const o of batchKeys) {
      // A batch object: a header line {"missing": […]}, then a line per video.
      const [header, ...lines] = gunzipSync(await deps.bucket.get(o.key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean);
      const f = {
        missing: (JSON.parse(header!) as { missing: string[] }).missing,
        items: lines.map((l) => JSON.parse(l) as { id: string }),
      };
      for (const id of [...f.items.map((v) => v.id), ...f.missing]) doneBefore.add(id);
    }
    expect(doneBefore.size).toBeGreaterThanOrEqual(100 * 50);
    expect(doneBefore.size).toBeLessThan(N);

    // Second worker: the run resumes and finishes.
    const w2 = await createTestWorker(env, deps, taskQueue);
    const { result, progress } = await w2.runUntil(async () => {
      const result = (await handle.result()) as YoutubeEnrichResult;
      const progress = await handle.query(progressQuery);
      return { result, progress };
    });

    // Nothing finished before the restart was asked for again.
    const after = sandbox.calls.slice(restartAt).filter((c) => c.status === 200);
    expect(after.length).toBeGreaterThan(0);
    expect(after.flatMap((c) => c.ids!).filter((id) => doneBefore.has(id))).toEqual([]);
    // Every ID asked for; at most the batches in flight at the stop were asked twice.
    const asked = ok().flatMap((c) => c.ids!);
    expect(new Set(asked)).toEqual(new Set(ids));
    expect(asked.length - N).toBeLessThanOrEqual(6 * 50);

    // Counts reconcile.
    expect(result).toMatchObject({ distinct: N, duplicates: N / 5, invalid: 0, shards: 40 });
    expect(result.fetched + result.missing).toBe(N);
    expect(result.missing).toBeGreaterThan(300);
    expect(progress).toMatchObject({ pipeline: 'youtube-enrich', done: N, total: N });
    const manifest = JSON.parse((await deps.bucket.get(`${outPrefix}/manifest.json`)).toString('utf8')) as {
      shards: { key: string; videos: number; missing: number }[];
      fetched: number;
      missing: number;
      distinct: number;
    };
    expect(manifest).toMatchObject({ fetched: result.fetched, missing: result.missing, distinct: N });
    let lines = 0;
    const seen = new Set<string>();
    for (const s of manifest.shards) {
      const shard = gunzipSync(await deps.bucket.get(s.key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean);
      expect(shard).toHaveLength(s.videos);
      lines += shard.length;
      for (const l of shard) seen.add((JSON.parse(l) as { id: string }).id);
    }
    expect(lines).toBe(result.fetched);
    expect(seen.size).toBe(result.fetched);
    const missingIds = gunzipSync(await deps.bucket.get(`${outPrefix}/missing.txt.gz`))
      .toString('utf8')
      .split('\n')
      .filter(Boolean);
    expect(missingIds).toHaveLength(result.missing);
    expect(missingIds.every((id) => !seen.has(id))).toBe(true);
    const [db] = await deps.warehouse.query<{ n: number; d: number; views: number }>(
      'SELECT count(*) AS n, count(DISTINCT video_id) AS d, count(view_count) AS views FROM youtube_videos',
    );
    expect(Number(db.n)).toBe(result.fetched);
    expect(Number(db.d)).toBe(result.fetched);
    expect(Number(db.views)).toBe(result.fetched);
    const [{ m }] = await deps.warehouse.query<{ m: number }>('SELECT count(*) AS m FROM youtube_videos_missing');
    expect(Number(m)).toBe(result.missing);
    // Continue-as-new kept the history small: more than one run.
    const desc = await handle.describe();
    expect(desc.runId).not.toBe(handle.firstExecutionRunId);
    await maybeSaveHistory(env.address, workflowId, 'youtube-enrich');
    // The pool's quota ledger: a permit entity with the key-pool policy (quota-ledger.json is the older type's).
    await maybeSaveHistoryOfType(env.address, 'permits', 'permits-key-pool', `WorkflowId STARTS_WITH 'quota-ledger-'`);
  });
});
