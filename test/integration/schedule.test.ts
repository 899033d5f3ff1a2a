import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSchedule, describeSchedule, listSchedules } from '../../src/cli/schedule';
import { PIPELINES } from '../../src/pipelines';
import type { PipelineDef } from '../../src/pipelines/types';
import type { DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import { ACCOUNT_ATTRIBUTE, RANGE_END_ATTRIBUTE, RANGE_START_ATTRIBUTE } from '../../src/shared/search-attributes';
import { startDailymotionSandbox } from '../helpers/dailymotion';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

/** The workflow IDs of a schedule's recent actions, once there are `n` of them (polled every 100 ms, 100 times at most). */
async function started(
  h: { describe(): Promise<{ info: { recentActions: { action: { workflow: { workflowId: string } } }[] } }> },
  n: number,
): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const ids = (await h.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
    if (ids.length >= n) return ids;
    await new Promise((r) => setTimeout(r, 100));
  }
  return (await h.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
}

/** A Dailymotion report of views per day and video over relative days, into `table`. */
const reportInput = (pipeline: PipelineDef, startDate: string, endDate: string, table: string) =>
  pipeline.input.parse({
    metrics: ['VIEWS'],
    dimensions: ['DAY', 'VIDEO_ID'],
    startDate,
    endDate,
    table,
    poll: { initialDelay: '200ms', maxDelay: '1s' },
  });

describe('schedules on the dev server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('creates a schedule whose trigger starts the pipeline, lists it, and refuses bad options', async () => {
    const deps = testDeps();
    const id = uniqueQueue('sched');
    await withWorker(env, deps, async (taskQueue) => {
      const pipeline = { ...PIPELINES.selftest, taskQueue };
      const handle = await createSchedule(
        env.client,
        pipeline,
        { sleep: 0, label: id },
        { id, cron: '0 6 * * *', overlap: 'skip' },
      );
      try {
        const described = await handle.describe();
        expect(described.policies.overlap).toBe('SKIP');
        expect(described.policies.catchupWindow).toBe(7 * 86_400_000); // was 1 day: an outage over a day lost days
        expect((await listSchedules(env.client)).map((s) => s.scheduleId)).toContain(id);
        await handle.trigger();
        const [runId] = await started(handle, 1);
        expect(runId).toMatch(new RegExp(`^${id}-run`));
        const run = env.client.workflow.getHandle(runId!);
        await run.result();
        // The scheduled run carries the Web UI summary and the memo a `longhaul run` would give it.
        const info = await run.describe();
        expect(await info.staticSummary()).toMatch(new RegExp(`^Selftest .*\\(schedule ${id}\\)$`));
        expect(info.memo).toMatchObject({ pipeline: 'selftest', schedule: id, summary: expect.any(String) });
      } finally {
        await handle.delete();
      }
    });
    const rows = await deps.warehouse.query<{ label: string }>('SELECT label FROM longhaul_selftest');
    expect(rows).toEqual([{ label: id }]);
    await expect(createSchedule(env.client, PIPELINES.selftest, {}, { id: 'x', cron: '0 6 * *' })).rejects.toThrow(
      /must have 5 fields/,
    );
    await expect(
      createSchedule(env.client, PIPELINES.selftest, {}, { id: 'x', cron: '0 6 * * *', overlap: 'sometimes' }),
    ).rejects.toThrow(/--overlap must be one of/);
  });

  it("a schedule of yesterday's Dailymotion report: each run resolves the days from the time it was due (a backfill too) and tags its range", async () => {
    const { sandbox, env: dmEnv } = await startDailymotionSandbox({ generationMs: 300, rowsPerFile: 50 });
    const id = uniqueQueue('sched-dm');
    const deps = testDeps({ ...dmEnv, DM_ACCOUNT: `${id}-acct` });
    try {
      await withWorker(env, deps, async (taskQueue) => {
        const pipeline = { ...PIPELINES['dailymotion-report'], taskQueue };
        const input = reportInput(pipeline, 'today-2', 'yesterday', 'sched_dm');
        const handle = await createSchedule(env.client, pipeline, input, { id, cron: '0 7 * * *' }, deps.config);
        try {
          // The schedule keeps the relative days: every run asks for its own yesterday.
          const action = (await handle.describe()).action as { args?: unknown[] };
          expect(action.args?.[0]).toMatchObject({ startDate: 'today-2', endDate: 'yesterday' });
          await handle.trigger();
          const [workflowId] = await started(handle, 1);
          const run = env.client.workflow.getHandle(workflowId!);
          const result: DailymotionReportResult = await run.result();
          const info = await run.describe();
          const day = (back: number) =>
            new Date(Math.floor(info.startTime.getTime() / 86_400_000) * 86_400_000 - back * 86_400_000)
              .toISOString()
              .slice(0, 10);
          expect(result.windows.map((w) => [w.start, w.end])).toEqual([[day(2), day(1)]]);
          expect(result.rowsLoaded).toBeGreaterThan(0);
          expect(await info.staticSummary()).toMatch(
            /^Dailymotion report today-2 → yesterday \(UTC days of each run\) \(1 window of 30 days\) into sched_dm, account …acct \(schedule /,
          );
          const a = info.typedSearchAttributes;
          expect(a.get(ACCOUNT_ATTRIBUTE)).toBe(`${id}-acct`);
          expect(a.get(RANGE_START_ATTRIBUTE)?.toISOString()).toBe(`${day(2)}T00:00:00.000Z`);
          expect(a.get(RANGE_END_ATTRIBUTE)?.toISOString()).toBe(`${day(1)}T23:59:59.999Z`);

          // A backfilled (or caught-up) run loads the days it was due for, not those of the day it ran.
          const due = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 3 * 86_400_000 + 7 * 3_600_000; // 07:00, 3 days ago
          await handle.backfill([{ start: new Date(due - 60_000), end: new Date(due + 60_000), overlap: 'ALLOW_ALL' }]);
          let backfilled: string | undefined;
          for (let i = 0; i < 100 && !backfilled; i++) {
            backfilled = (await handle.describe()).info.recentActions.find((r) => r.scheduledAt.getTime() === due)
              ?.action.workflow.workflowId;
            if (!backfilled) await new Promise((r) => setTimeout(r, 100));
          }
          const old: DailymotionReportResult = await env.client.workflow.getHandle(backfilled!).result();
          const dueDay = (back: number) => new Date(due - 7 * 3_600_000 - back * 86_400_000).toISOString().slice(0, 10);
          expect(old.windows.map((w) => [w.start, w.end])).toEqual([[dueDay(2), dueDay(1)]]);
        } finally {
          await handle.delete();
        }
      });
    } finally {
      await sandbox.stop();
    }
  });

  it('a relative-day schedule whose previous run is still going when the next is due still starts the next run; a skip is reported', async () => {
    // Reports take 8 s to generate: the first run is still going when the second is due.
    const { sandbox, env: dmEnv } = await startDailymotionSandbox({ generationMs: 8_000, rowsPerFile: 50 });
    const id = uniqueQueue('sched-gap');
    const deps = testDeps({ ...dmEnv, DM_ACCOUNT: `${id}-acct` });
    try {
      await withWorker(env, deps, async (taskQueue) => {
        const pipeline = { ...PIPELINES['dailymotion-report'], taskQueue };
        const input = reportInput(pipeline, 'yesterday', 'yesterday', 'sched_gap');
        const handle = await createSchedule(env.client, pipeline, input, { id, cron: '0 7 * * *' }, deps.config);
        try {
          const { policies } = await handle.describe();
          expect(policies.overlap).toBe('ALLOW_ALL');
          // Each "next due" action is taken under the schedule's own overlap policy.
          await handle.trigger(policies.overlap);
          const [first] = await started(handle, 1);
          expect((await env.client.workflow.getHandle(first).describe()).status.name).toBe('RUNNING');
          // A scheduled run's workflow ID ends with its due time to the second: the next is due later.
          await new Promise((r) => setTimeout(r, 1_100));
          await handle.trigger(policies.overlap);
          const ids = await started(handle, 2);
          expect(ids).toHaveLength(2);
          const results = await Promise.all(ids.map((w) => env.client.workflow.getHandle(w).result()));
          expect(results.every((r: DailymotionReportResult) => r.rowsLoaded > 0)).toBe(true);
          expect((await describeSchedule(env.client, id)).warnings).toEqual([]);
        } finally {
          await handle.delete();
        }

        // A schedule told to skip overlaps says so: the skipped run is a warning, not silence.
        const skipId = `${id}-skip`;
        const skipping = await createSchedule(
          env.client,
          pipeline,
          input,
          { id: skipId, cron: '0 7 * * *', overlap: 'skip' },
          deps.config,
        );
        try {
          await skipping.trigger('SKIP');
          const [run] = await started(skipping, 1);
          await new Promise((r) => setTimeout(r, 1_100));
          await skipping.trigger('SKIP');
          let row = await describeSchedule(env.client, skipId);
          for (let i = 0; i < 50 && row.skippedOverlap === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            row = await describeSchedule(env.client, skipId);
          }
          expect(row.skippedOverlap).toBe(1);
          expect(row.warnings.join('\n')).toMatch(/1 run\(s\) skipped because the previous run was still going/);
          await env.client.workflow.getHandle(run).result();
        } finally {
          await skipping.delete();
        }
      });
    } finally {
      await sandbox.stop();
    }
  });
});
