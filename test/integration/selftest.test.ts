import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { list } from '../../src/cli/inspect';
import { runPipeline } from '../../src/cli/run';
import { STATE_ATTRIBUTE } from '../../src/shared/search-attributes';
import { PIPELINES } from '../../src/pipelines';
import { progressQuery } from '../../src/shared/messages';
import { maybeSaveHistory } from '../helpers/histories';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('selftest on the dev server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('runs through the client path: start, progress query, result, warehouse row', async () => {
    const deps = testDeps();
    const label = uniqueQueue('label');
    await withWorker(env, deps, async (taskQueue) => {
      const pipeline = { ...PIPELINES.selftest, taskQueue };
      const lines: string[] = [];
      const outcome = await runPipeline(env.client, deps.config, pipeline, { sleep: 200, label }, { wait: true }, (l) =>
        lines.push(l),
      );
      expect(outcome.status).toBe('completed');
      expect(outcome.workflowId).toBe(`selftest-${label}`);
      expect(outcome.url).toContain(`/workflows/selftest-${label}/`);
      expect(lines[0]).toMatch(/^Started selftest: workflow selftest-/);
      expect(outcome.summary).toMatch(/slept \d+ ms/);
      const progress = await env.client.workflow.getHandle(outcome.workflowId).query(progressQuery);
      expect(progress).toMatchObject({ pipeline: 'selftest', phase: 'done', done: 2, total: 2 });

      // Same input again: a new run (the first has ended); the merge keeps one row per run.
      const again = await runPipeline(env.client, deps.config, pipeline, { sleep: 0, label }, { wait: true }, () => {});
      expect(again.runId).not.toBe(outcome.runId);
      await maybeSaveHistory(env.address, outcome.workflowId, 'selftest');

      // Search attributes: the client tags the pipeline, the workflow keeps its state current.
      const d = await env.client.workflow.getHandle(outcome.workflowId, again.runId).describe();
      expect(d.typedSearchAttributes.get(STATE_ATTRIBUTE)).toBe('done');
      let listed: { workflowId: string }[] = [];
      for (let i = 0; i < 50 && !listed.some((r) => r.workflowId === outcome.workflowId); i++) {
        listed = await list(env.client, { pipeline: 'selftest', state: 'completed' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(listed.map((r) => r.workflowId)).toContain(outcome.workflowId);
    });
    const rows = await deps.warehouse.query<{ n: number }>(
      `SELECT count(*) AS n FROM longhaul_selftest WHERE label = $label`,
      { label },
    );
    expect(rows[0].n).toBe(2);
  });
});
