import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSchedule, listSchedules } from '../../src/cli/schedule';
import { PIPELINES } from '../../src/pipelines';
import { devServerEnv, testDeps, uniqueQueue, withWorker } from '../helpers/temporal';

describe('schedules on the dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

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
        expect(described.policies.catchupWindow).toBe(86_400_000);
        expect((await listSchedules(env.client)).map((s) => s.scheduleId)).toContain(id);
        await handle.trigger();
        let runId: string | undefined;
        for (let i = 0; i < 100 && !runId; i++) {
          runId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
          if (!runId) await new Promise((r) => setTimeout(r, 100));
        }
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
});
