/**
 * Upgrading longhaul with runs in flight, on the dev server with Worker Versioning: build v1 starts a
 * Dailymotion report whose reports take seconds to generate, a YouTube enrichment waiting on a quota reset (the
 * sandbox's quota day shortened to 5 s, the worker told the same by YOUTUBE_QUOTA_DAY), a watcher and the
 * entities they use; build v2,
 * whose `dailymotionReport` changes its command order incompatibly (test/fixtures/upgrade/v2-workflows.ts), is
 * promoted while they run. The v1 report and enrichment finish on v1 with the exact rows, a report started after the
 * promotion runs v2's code, the watcher and the entities move to v2, and no workflow task fails anywhere
 * (a v1 history reaching v2's report code would fail with a non-determinism error).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { DailymotionReportInput, DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { YoutubeSandbox, type SandboxProject } from '../../src/pipelines/youtube/sandbox/server';
import { youtubeKeyPairs } from '../../src/pipelines/youtube/sandbox';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import type { YoutubeEnrichResult } from '../../src/pipelines/youtube/enrich';
import { progressQuery } from '../../src/shared/messages';
import { ledgerWorkflowId } from '../../src/kit/limits/quota';
import { watchStatusQuery, type YoutubeWatchResult } from '../../src/pipelines/youtube/watch-shared';
import { createWorker } from '../../src/worker';
import { registeredWorkflows } from '../../src/workflow-entry';
import { promoteBuild, promoteIfFirst, workerVersioning } from '../../src/node/deployment';
import { deployStatus } from '../../src/cli/deploy';
import { expectedRowKeys, startDailymotionSandbox, warehouseRowKeys } from '../helpers/dailymotion';
import { testDeps, uniqueQueue, useTemporalServer, workflowBundle } from '../helpers/temporal';

const V2_WORKFLOWS = path.resolve(__dirname, '../fixtures/upgrade/v2-workflows.ts');
const COLUMNS = ['day', 'video_id', 'views'];
const report = (table: string, startDate: string, endDate: string): DailymotionReportInput => ({
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  startDate,
  endDate,
  windowDays: 10,
  table,
  poll: { initialDelay: '300ms', factor: 1.5, maxDelay: '1s' },
});
// videos.list: 4 units (calls) per 5-second quota day; the watcher's search.list draws on its own bucket.
const PROJECTS: SandboxProject[] = [{ id: 'upgrade-a', keys: ['upgrade-key-a-1'], unitsPerDay: 4 }];
const QUOTA_DAY_MS = 5000;
const ENRICH_IDS = Array.from({ length: 500 }, (_, i) => fakeId(5, 'upgrade', i)); // 10 calls: 3 quota days

type History = temporal.api.history.v1.IHistory;
const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('an upgrade with runs in flight (Worker Versioning, dev server)', () => {
  let env: TestWorkflowEnvironment;
  let dm: DailymotionSandbox;
  let dmEnv: Record<string, string>;
  let yt: YoutubeSandbox;
  let ytUrl: string;
  const started: string[] = [];
  useTemporalServer('dev', (e) => (env = e), { started });
  beforeAll(async () => {
    ({ sandbox: dm, env: dmEnv } = await startDailymotionSandbox({ generationMs: 6000, rowsPerFile: 300 }));
    yt = new YoutubeSandbox({
      seed: 5,
      projects: PROJECTS,
      searchCallsPerDay: 1000,
      searchOriginMs: Date.now() - 10 * 60_000,
      searchIntervalMs: 1000,
      quotaDayMs: QUOTA_DAY_MS,
    });
    ytUrl = await yt.start();
  });
  afterAll(async () => {
    await dm?.stop();
    await yt?.stop();
  });

  it('the v2 fixture registers every workflow type, as a real next build would', async () => {
    const v2 = (await import(V2_WORKFLOWS)) as Record<string, unknown>;
    const types = (o: Record<string, unknown>) =>
      Object.keys(o)
        .filter((k) => typeof o[k] === 'function')
        .sort();
    expect(types(v2)).toEqual(types(registeredWorkflows()));
  });

  it('v1 runs finish on v1 with exact rows; new runs, the watcher and the entities go to v2; no task fails', async () => {
    const deployment = uniqueQueue('upgrade');
    const taskQueue = uniqueQueue('upgrade-q');
    const pool = uniqueQueue('upgrade-pool');
    const enrichPool = uniqueQueue('upgrade-enrich');
    const deps = testDeps({
      ...dmEnv,
      DM_ACCOUNT: uniqueQueue('acct'),
      YOUTUBE_BASE_URL: `${ytUrl}/youtube/v3`,
      YOUTUBE_API_KEYS: youtubeKeyPairs(PROJECTS),
      YOUTUBE_QUOTA_DAY: `${QUOTA_DAY_MS}ms`,
      LONGHAUL_DEPLOYMENT: deployment,
      LONGHAUL_BUILD_ID: 'v1',
    });
    const v1 = await workerVersioning(deps.config, workflowBundle());
    const v2 = await workerVersioning(
      { ...deps.config, LONGHAUL_BUILD_ID: 'v2' },
      { code: (await bundleWorkflowCode({ workflowsPath: V2_WORKFLOWS })).code },
    );
    expect(v1.version).toEqual({ deploymentName: deployment, buildId: 'v1' });
    const workers: Worker[] = [];
    const runs: Promise<void>[] = [];
    const startWorker = async (versioning: typeof v1) => {
      const w = await createWorker({ connection: env.nativeConnection, deps, taskQueue, versioning });
      workers.push(w);
      runs.push(w.run());
    };
    const client = env.client;
    const buildOf = async (id: string) => {
      const d = await client.workflow.getHandle(id).describe();
      const v = (
        d.raw.workflowExecutionInfo as {
          versioningInfo?: { behavior?: unknown; deploymentVersion?: { buildId?: string } };
        }
      ).versioningInfo;
      // temporal.api.enums.v1.VersioningBehavior
      return {
        buildId: v?.deploymentVersion?.buildId,
        behavior: ['UNSPECIFIED', 'PINNED', 'AUTO_UPGRADE'][Number(v?.behavior)],
      };
    };
    const history = async (id: string): Promise<History> => client.workflow.getHandle(id).fetchHistory();
    const failedTasks = (h: History) =>
      (h.events ?? [])
        .filter((e) => e.workflowTaskFailedEventAttributes)
        .map((e) => e.workflowTaskFailedEventAttributes);

    /** The run's result, or an error as soon as one of its workflow tasks fails (instead of its retries). */
    const settled = async (id: string): Promise<unknown> => {
      const handle = client.workflow.getHandle(id);
      for (;;) {
        const failed = failedTasks(await history(id));
        if (failed.length) throw new Error(`${id}: workflow task failed: ${failed[0]?.failure?.message}`);
        if ((await handle.describe()).status.name !== 'RUNNING') return handle.result();
        await new Promise((r) => setTimeout(r, 300));
      }
    };

    try {
      await startWorker(v1);
      expect(await promoteIfFirst(env.connection, 'default', v1.version!)).toBe('first');

      // Build v1: a report of two windows (6 s of generation each), an enrichment that needs three quota days
      // and a watcher ticking every second.
      const aId = uniqueQueue('upgrade-a');
      const eId = uniqueQueue('upgrade-e');
      const wId = uniqueQueue('upgrade-w');
      started.push(aId, eId, wId, ledgerWorkflowId(pool), ledgerWorkflowId(enrichPool));
      const aInput = report('upgrade_a', '2026-01-01', '2026-01-20');
      await client.workflow.start('dailymotionReport', { taskQueue, workflowId: aId, args: [aInput] });
      const e = await client.workflow.start('youtubeEnrich', {
        taskQueue,
        workflowId: eId,
        args: [{ ids: ENRICH_IDS, pool: enrichPool, unitsPerDay: 4, outPrefix: 'youtube/upgrade', table: 'up_videos' }],
      });
      const w = await client.workflow.start('youtubeWatch', {
        taskQueue,
        workflowId: wId,
        args: [{ query: 'upgrade', intervalSeconds: 1, overlapSeconds: 60, pool, stopAfterTicks: 14 }],
      });
      await until('the watcher ticking on v1', async () => (await w.query(watchStatusQuery)).ticks >= 2);
      await until('a v1 report generating', async () => (await dm.asks()).some((r) => r.status === 'IN_PROGRESS'));
      await until('the v1 enrichment waiting on a quota reset', async () =>
        Boolean((await e.query(progressQuery)).waiting?.reason.includes('quota')),
      );
      expect(await buildOf(aId)).toMatchObject({ buildId: 'v1' });
      expect((await buildOf(eId)).buildId).toBe('v1');
      expect((await buildOf(wId)).buildId).toBe('v1');
      const ticksAtPromotion = (await w.query(watchStatusQuery)).ticks;

      // Build v2 comes up and is promoted while they run.
      await startWorker(v2);
      await promoteBuild(env.connection, 'default', deployment, 'v2');

      // A report started now runs v2's code.
      const bId = uniqueQueue('upgrade-b');
      started.push(bId);
      const bInput = report('upgrade_b', '2026-03-01', '2026-03-05');
      await client.workflow.start('dailymotionReport', { taskQueue, workflowId: bId, args: [bInput] });

      const [ra, rb, rw, re] = (await Promise.all([aId, bId, wId, eId].map(settled))) as [
        DailymotionReportResult,
        DailymotionReportResult,
        YoutubeWatchResult,
        YoutubeEnrichResult,
      ];
      expect(ticksAtPromotion).toBeLessThan(14);

      // v1's report: on v1 to the end, children too, with exactly the rows the sandbox served.
      expect(await buildOf(aId)).toEqual({ buildId: 'v1', behavior: 'PINNED' });
      const ha = await history(aId);
      const children = (ha.events ?? [])
        .map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId)
        .filter((x): x is string => Boolean(x));
      expect(children).toHaveLength(2);
      for (const c of children) expect((await buildOf(c)).buildId).toBe('v1');
      const wantA = ra.windows.flatMap((win) =>
        expectedRowKeys(dm, { ...aInput, startDate: win.start, endDate: win.end } as never),
      );
      expect(await warehouseRowKeys(deps.warehouse, 'upgrade_a', COLUMNS)).toEqual(wantA.sort());

      // v1's enrichment: on v1 to the end, through its quota waits; every ID asked for and landed once, no
      // quota day charged past its 4 units.
      expect(await buildOf(eId)).toEqual({ buildId: 'v1', behavior: 'PINNED' });
      expect(re.quotaWaits).toBeGreaterThanOrEqual(1);
      expect(re.fetched + re.missing).toBe(ENRICH_IDS.length);
      const listed = yt.calls.filter((c) => c.method === 'videos.list' && c.status === 200);
      expect(new Set(listed.flatMap((c) => c.ids!))).toEqual(new Set(ENRICH_IDS));
      const perDay = new Map<string, number>();
      for (const c of listed) perDay.set(c.day!, (perDay.get(c.day!) ?? 0) + c.units!);
      expect(perDay.size).toBeGreaterThanOrEqual(3);
      expect(Math.max(...perDay.values())).toBeLessThanOrEqual(4);
      const [up] = await deps.warehouse.query<{ n: number; d: number }>(
        'SELECT count(*) AS n, count(DISTINCT video_id) AS d FROM up_videos',
      );
      expect([Number(up.n), Number(up.d)]).toEqual([re.fetched, re.fetched]);

      // The report started after the promotion: v2's code (its first command is v2's timer), exact rows.
      expect(await buildOf(bId)).toEqual({ buildId: 'v2', behavior: 'PINNED' });
      const hb = await history(bId);
      const firstCommand = (hb.events ?? []).find((e) => Number(e.eventId) > 4);
      expect(firstCommand?.timerStartedEventAttributes).toBeTruthy();
      const wantB = rb.windows.flatMap((win) =>
        expectedRowKeys(dm, { ...bInput, startDate: win.start, endDate: win.end } as never),
      );
      expect(await warehouseRowKeys(deps.warehouse, 'upgrade_b', COLUMNS)).toEqual(wantB.sort());

      // The watcher moved to v2 and finished its ticks; every entity on the queue is on v2.
      expect(rw).toMatchObject({ ticks: 14, failedTicks: 0 });
      expect(await buildOf(wId)).toEqual({ buildId: 'v2', behavior: 'AUTO_UPGRADE' });
      const entities: string[] = [];
      for await (const x of client.workflow.list({
        query: `TaskQueue = "${taskQueue}" AND WorkflowType IN ("permits", "semaphore", "quotaLedger")`,
      }))
        entities.push(x.workflowId);
      started.push(...entities);
      expect(entities.length).toBeGreaterThanOrEqual(2); // the report slots' and the watcher's quota entities
      for (const id of entities) expect(await buildOf(id)).toEqual({ buildId: 'v2', behavior: 'AUTO_UPGRADE' });

      // No workflow task failed in any of them: nothing met code it could not replay.
      for (const id of [aId, bId, wId, eId, ...children, ...entities])
        expect(failedTasks(await history(id))).toEqual([]);

      // `longhaul deploy status`: v2 current, both builds known.
      await until('visibility to see no pinned run open on v1, one on v2 (the entities are there too)', async () => {
        const s = await deployStatus(client, { TEMPORAL_NAMESPACE: 'default' } as never, deployment);
        const by = (id: string) => s.builds.find((x) => x.buildId === id);
        return (
          s.current === 'v2' && by('v1')?.pinned === 0 && by('v1')?.autoUpgrade === 0 && by('v2')!.autoUpgrade >= 1
        );
      });
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
    }
  });
});
