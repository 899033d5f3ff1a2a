/**
 * What the Datorama client infers of the API and the contract does not state (docs/datorama.md, "Assumptions"),
 * switched the other way in the sandbox: the jobs of a multi-stream process answer without `dataStreamId`, stream
 * listings without `processStatsCounts`. (Reruns that make new jobs or keep their updateTime:
 * test/unit/datorama-reconcile.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatoramaCallActivities } from '../../src/pipelines/datorama/activities/calls';
import { pendingOf } from '../../src/pipelines/datorama/activities/reads';
import type { SubmitOutcome } from '../../src/pipelines/datorama/activities/call-kit';
import { JOB_LOG_TABLE } from '../../src/pipelines/datorama/activities/tables';
import { createDatoramaClient } from '../../src/pipelines/datorama/connector/client';
import { datoramaSandboxPerTest } from '../helpers/datorama';
import { testDeps } from '../helpers/temporal';

const execution = { workflowId: 'dato-assume', runId: 'run-1' };
const attempt = (activityId: string) =>
  new MockActivityEnvironment({
    activityId,
    attempt: 1,
    workflowExecution: execution,
    startToCloseTimeoutMs: 30_000,
    currentAttemptScheduledTimestampMs: Date.now(),
  } as never);

describe('datorama client when an inferred API behaviour is false', () => {
  const start = datoramaSandboxPerTest();

  it.each([true, false])(
    'a multi-stream process answer whose jobs name no stream (%s): each stream logged once, no job given by guess',
    async (noStreamId) => {
      const { sandbox, env } = await start({
        streams: 8,
        maxJobs: 1,
        seed: 3,
        failEvery: 0,
        assumptions: { noStreamIdInProcessAnswer: noStreamId },
      });
      const deps = testDeps(env);
      const streams = sandbox.data.streams
        .filter((s) => s.enabled)
        .map((s) => s.id)
        .slice(0, 3);
      const acts = createDatoramaCallActivities(deps);
      const action = { kind: 'process' as const, streams, start: '2025-01-01', end: '2025-01-15' };
      const out: SubmitOutcome = await attempt('1').run(acts.datoramaSubmit, {
        runKey: execution.workflowId,
        runId: execution.runId,
        op: 'process',
        limiterId: 'no-limiter',
        grantedAt: Date.now(),
        action,
      });
      // One call, every action applied once (2 jobs a stream: 15 days in chunks of 10).
      expect(out).toMatchObject({ kind: 'done', called: true });
      expect(sandbox.calls('process-bulk')).toHaveLength(1);
      expect(sandbox.truth('applied')).toHaveLength(6);
      expect(out.jobs).toHaveLength(6);
      const log = await deps.warehouse.select<{
        action_key: string;
        stream_id: number;
        job_id: number | null;
        message: string | null;
      }>(JOB_LOG_TABLE, {
        columns: ['action_key', 'stream_id', 'job_id', 'message'],
        orderBy: ['action_key', 'job_id'],
      });
      if (noStreamId) {
        // The answer does not say which job is whose: each stream's row says so and lists them; none is guessed.
        expect(out.jobs.every((j) => j.stream === undefined)).toBe(true);
        expect(log).toHaveLength(3);
        for (const row of log) {
          expect(row.job_id).toBeNull();
          expect(row.message).toMatch(/^6 job\(s\) of this call, for 3 streams, name no stream: \d+/);
        }
      } else {
        expect(log).toHaveLength(6);
        for (const row of log) expect(row.action_key).toBe(`p:${row.stream_id}:2025-01-01:2025-01-15`);
      }
    },
  );

  it('stream listings without processStatsCounts: the throttle counts streams with a job pending or running', async () => {
    for (const noCounts of [false, true]) {
      const { sandbox, env } = await start({
        workspaces: 1,
        streams: 6,
        maxJobs: 0,
        seed: 4,
        failEvery: 0,
        assumptions: { noProcessStatsCounts: noCounts },
      });
      const client = createDatoramaClient(testDeps(env).config);
      const ws = sandbox.data.workspaces[0].id;
      const [a, b] = sandbox.data.streams.filter((s) => s.enabled).map((s) => s.id);
      // Two streams processed over 25 days: 3 jobs each, all PENDING now.
      for (const s of [a, b]) await client.processStream(s, '2025-01-01', '2025-01-25');
      const listing = (await client.listStreams(ws)).data;
      expect(listing.some((s) => s.processStatsCounts)).toBe(!noCounts);
      // The API's own count of jobs when it gives one; else the streams with a job pending (a lower bound).
      expect(pendingOf(listing)).toBe(noCounts ? 2 : 6);
      await sandbox.stop();
    }
  });
});
