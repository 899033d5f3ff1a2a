/**
 * Datorama rename/patch (+ undo), collect and the workspace throttle on the time-skipping server.
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  datoramaPatchPipeline,
  datoramaProcessPipeline,
  type DatoramaResult,
} from '../../src/pipelines/datorama/definition';
import { limiterWorkflowId } from '../../src/pipelines/datorama/shared';
import { writeJobLogCsv } from '../../src/pipelines/datorama/activities/tables';
import { fingerprint } from '../../src/node/fingerprint';
import { summaries } from '../helpers/histories';
import { uniqueQueue } from '../helpers/temporal';
import {
  enabledStreams,
  throttledProcess,
  useTimeSkippingServer,
  withDatoramaSandbox,
  withDatoramaWorkers,
} from '../helpers/datorama';

describe('datorama operations on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  useTimeSkippingServer((e) => (env = e));

  it('renames with PATCH, keeps the other fields, and --undo restores the previous names', async () => {
    await withDatoramaSandbox(env, { streams: 6, maxJobs: 0 }, async ({ sandbox, deps }) => {
      const [a, b, c] = sandbox.data.streams;
      const before = { a: a.name, b: b.name, c: c.name, desc: a.description };
      const { renamed, undone } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const renamed: DatoramaResult = await env.client.workflow.execute('datoramaRename', {
          taskQueue,
          workflowId: uniqueQueue('rename'),
          args: [{ renames: [`${a.id}=A new`, `${b.id}=B new`, `${c.id}=C new`] }],
        });
        expect([a.name, b.name, c.name]).toEqual(['A new', 'B new', 'C new']);
        expect(a.description).toBe(before.desc); // PATCH, not PUT
        c.name = 'changed by someone else';
        const undone: DatoramaResult = await env.client.workflow.execute('datoramaRename', {
          taskQueue,
          workflowId: uniqueQueue('undo'),
          args: [{ undo: renamed.runId }],
        });
        return { renamed, undone };
      });
      expect(renamed.actions).toMatchObject({ total: 3, submitted: 3, failed: 0 });
      expect(renamed.calls).toBe(6); // GET + PATCH per stream
      expect([a.name, b.name]).toEqual([before.a, before.b]);
      expect(c.name).toBe('changed by someone else'); // a conflict is listed, not overwritten
      expect(undone.actions).toMatchObject({ total: 3, submitted: 2, failed: 1 });
      expect(undone.failures[0]).toMatchObject({ stream: c.id, message: expect.stringMatching(/changed since/) });
      expect(sandbox.calls('put')).toHaveLength(0);
    });
  }, 120_000);

  it('patch enabled false → true → false: the repeat after another operation is applied (same workflow ID)', async () => {
    await withDatoramaSandbox(env, { streams: 3, maxJobs: 0 }, async ({ sandbox, deps }) => {
      const s = sandbox.data.streams[0];
      s.enabled = true;
      const results = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const out: DatoramaResult[] = [];
        for (const enabled of [false, true, false]) {
          const input = datoramaPatchPipeline.input.parse({ streams: [s.id], fields: { enabled } });
          out.push(
            await env.client.workflow.execute('datoramaPatch', {
              taskQueue,
              // As `longhaul run` starts it: the ID derived from the input (runs 1 and 3 share it).
              workflowId: datoramaPatchPipeline.workflowId(input) + `-${taskQueue}`,
              args: [input],
            }),
          );
          expect(s.enabled).toBe(enabled);
        }
        return out;
      });
      expect(results[0].runKey).toBe(results[2].runKey);
      expect(results[2].actions).toMatchObject({ total: 1, submitted: 1, skipped: 0, failed: 0 });
      expect(sandbox.calls().filter((c) => c.method === 'PATCH' && c.status === 200)).toHaveLength(3);
    });
  }, 120_000);

  it('patches other fields (timezone, description, schedule, config), one set for many or one per stream; --undo restores them', async () => {
    await withDatoramaSandbox(env, { streams: 6, maxJobs: 0 }, async ({ sandbox, deps }) => {
      const [a, b, c, d] = sandbox.data.streams;
      const snapshot = (x: typeof a) => JSON.parse(JSON.stringify(x)) as typeof a;
      const before = [a, b, c, d].map(snapshot);
      const shared = { timezone: 'Pacific/Auckland', schedule: { frequency: 'hourly', hour: 0 } };
      const own = { description: 'Patched by longhaul', config: { source: 'sftp', path: '/in/c.csv', delimiter: ';' } };
      const { many, each, undone } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const run = (args: unknown) =>
          env.client.workflow.execute('datoramaPatch', {
            taskQueue,
            workflowId: uniqueQueue('patch'),
            args: [args],
          }) as Promise<DatoramaResult>;
        const many = await run({ streams: [a.id, b.id], fields: shared });
        const each = await run({
          patches: [
            { stream: c.id, fields: own },
            { stream: d.id, fields: { description: null, enabled: !d.enabled } },
          ],
        });
        for (const x of [a, b]) expect(snapshot(x)).toMatchObject(shared);
        expect(snapshot(c)).toMatchObject(own);
        expect(d.description).toBeNull();
        const undone = await run({ undo: each.runId });
        return { many, each, undone };
      });
      expect(many.actions).toMatchObject({ total: 2, submitted: 2, failed: 0 });
      expect(each.actions).toMatchObject({ total: 2, submitted: 2, failed: 0 });
      expect(undone.actions).toMatchObject({ total: 2, submitted: 2, failed: 0 });
      // Only the named fields changed (PATCH, not PUT), and the undo gave c and d back what they had.
      const without = (x: ReturnType<typeof snapshot>, ...keys: string[]) =>
        Object.fromEntries(Object.entries(x).filter(([k]) => ![...keys, 'updateTime'].includes(k)));
      for (const [i, x] of [a, b].entries())
        expect(without(snapshot(x), 'timezone', 'schedule')).toEqual(without(before[i]!, 'timezone', 'schedule'));
      expect(without(snapshot(c))).toEqual(without(before[2]!));
      expect(without(snapshot(d))).toEqual(without(before[3]!));
      expect(sandbox.calls('put')).toHaveLength(0);
    });
  }, 120_000);

  it('--jobLog: every run naming the file adds its rows (rewritten whole, so a retry doubles nothing); a foreign file is refused up front', async () => {
    await withDatoramaSandbox(env, { streams: 4, maxJobs: 0 }, async ({ sandbox, deps }) => {
      const [a, b] = sandbox.data.streams;
      const jobLog = 'logs/datorama_job_log.csv';
      await deps.bucket.put('logs/theirs.csv', 'stream,job,status\n1,2,ok\n');
      const { first, second, refused, callsBefore } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const run = (type: string, args: unknown) =>
          env.client.workflow.execute(type, {
            taskQueue,
            workflowId: uniqueQueue('joblog'),
            args: [args],
          }) as Promise<DatoramaResult>;
        const first = await run('datoramaRename', { renames: [`${a.id}=A logged`, `${b.id}=B logged`], jobLog });
        const second = await run('datoramaPatch', { streams: [a.id], fields: { description: 'logged' }, jobLog });
        const callsBefore = sandbox.calls().length;
        const refused = await run('datoramaPatch', {
          streams: [b.id],
          fields: { description: 'x' },
          jobLog: 'logs/theirs.csv',
        }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        return { first, second, refused, callsBefore };
      });
      expect(first.jobLog.cumulative).toMatchObject({ rows: first.jobLog.rows, runs: 1 });
      expect(second.jobLog.cumulative).toMatchObject({ rows: first.jobLog.rows + second.jobLog.rows, runs: 2 });
      const text = (await deps.bucket.get(jobLog)).toString('utf8');
      const lines = text.trim().split('\n');
      expect(lines[0]).toBe('run_key,run_id,op,stream_id,job_id,start_date,end_date,status,http_status,message,at');
      expect(lines).toHaveLength(1 + first.jobLog.rows + second.jobLog.rows);
      expect(new Set(lines.slice(1).map((l) => l.split(',')[1]))).toEqual(new Set([first.runId, second.runId]));
      // The write again (a retried attempt): the same bytes, no row twice.
      await writeJobLogCsv(deps.warehouse, deps.bucket, { runKey: second.runKey, runId: second.runId, jobLog });
      expect((await deps.bucket.get(jobLog)).toString('utf8')).toBe(text);
      // A key holding someone else's file: refused before any platform call, the file untouched.
      const chain: string[] = [];
      for (let e: unknown = refused; e instanceof Error; e = (e as { cause?: unknown }).cause) chain.push(e.message);
      expect(chain.join(' <- ')).toMatch(
        /--jobLog logs\/theirs\.csv: the object there is not a longhaul Datorama job log/,
      );
      expect(sandbox.calls().length).toBe(callsBefore);
      expect((await deps.bucket.get('logs/theirs.csv')).toString('utf8')).toBe('stream,job,status\n1,2,ok\n');
    });
  }, 120_000);

  it('collects workspaces, streams and jobs with the calls estimated up front', async () => {
    await withDatoramaSandbox(env, { workspaces: 3, streams: 12, maxJobs: 7 }, async ({ sandbox, deps }) => {
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaCollect', {
          taskQueue,
          workflowId: uniqueQueue('collect'),
          args: [{ pageSize: 3 }],
        }),
      );
      const jobs = sandbox.data.jobs.length;
      expect(result.collected).toEqual({ workspaces: 3, streams: 12, jobs });
      expect(result.calls).toBe(result.estimatedCalls);
      expect(result.calls).toBe(sandbox.calls().length);
      const n = async (t: string) =>
        Number((await deps.warehouse.query<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))[0].n);
      expect(await n('datorama_workspaces')).toBe(3);
      expect(await n('datorama_streams')).toBe(12);
      expect(await n('datorama_jobs')).toBe(jobs);
    });
  }, 120_000);

  it('the workspace throttle waits (durable timers) while a workspace has N jobs running', async () => {
    await withDatoramaSandbox(
      env,
      { workspaces: 1, streams: 4, maxJobs: 0, failEvery: 0 },
      async ({ sandbox, env: sEnv, deps }) => {
        const streams = enabledStreams(sandbox, 3);
        const workflowId = uniqueQueue('throttle');
        const limiterId = limiterWorkflowId(fingerprint(sEnv.DATORAMA_TOKEN));
        const { result, limiterSteps } = await withDatoramaWorkers(env, deps, async (taskQueue) => {
          const result: DatoramaResult = await env.client.workflow.execute('datoramaProcess', {
            taskQueue,
            workflowId,
            args: [throttledProcess(streams)],
          });
          const limiterSteps = summaries((await env.client.workflow.getHandle(limiterId).fetchHistory()).events ?? []);
          // The Web UI's current details at the end: the last phase and the outcome, no permit wait left over.
          const meta = await env.client.workflow
            .getHandle(workflowId)
            .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
          expect(meta.currentDetails).toMatch(/^\*\*done\*\* — (\d+) of \1 calls/);
          expect(meta.currentDetails).toContain(`outcome: process: 9/9 actions submitted`);
          expect(meta.currentDetails).not.toContain('waiting for');
          // The progress at the end counts what the result counts (`longhaul status` shows these).
          expect(meta.currentDetails).toContain(' · submitted 9 · skipped 0 · failed 0 · jobs 9');
          expect(meta.currentDetails).toContain('eta_seconds 0');
          return { result, limiterSteps };
        });
        expect(result.actions).toMatchObject({ total: 9, submitted: 9, failed: 0 });

        // The Web UI timeline reads as a story: each call, the throttle's timers and the limiter's waits say why.
        const handle = env.client.workflow.getHandle(workflowId);
        const steps = summaries((await handle.fetchHistory()).events ?? []);
        expect(steps.every((x) => !x.endsWith('(none)'))).toBe(true);
        expect(steps).toContain('activity: Datorama: list workspaces');
        expect(steps).toContain(`activity: Datorama: process 1 stream(s) 2025-01-01..2025-01-10`);
        expect(steps).toContainEqual(
          expect.stringMatching(
            /^timer: Datorama: workspace \d+ has [23] of our jobs pending or running \(throttle 2\): poll its job status again in 30s$/,
          ),
        );
        expect(steps).toContainEqual(
          expect.stringMatching(/^activity: Datorama: job status of [12] stream\(s\) in workspace \d+ \(throttle\)$/),
        );
        expect(steps.at(-1)).toBe('activity: Datorama: write the job log (bucket CSV + datorama_job_log)');
        expect(limiterSteps.length).toBeGreaterThan(0);
        expect(limiterSteps.every((x) => x.startsWith('timer: Datorama limiter: '))).toBe(true);
        expect(limiterSteps).toContainEqual(
          expect.stringMatching(
            /^timer: Datorama limiter: next permit in \d+(ms|s): calls are spaced 1s apart \(60\/min\) · 1 waiting$/,
          ),
        );
        // The outcome memo, as `longhaul status` and the Web UI show it.
        expect((await handle.describe()).memo?.outcome).toBe(datoramaProcessPipeline.summarize(result));
        // Never submitted while 2 or more of the jobs it had submitted were pending or running.
        const submits = sandbox.calls('process');
        expect(submits).toHaveLength(9);
        for (const s of submits) {
          const running = sandbox.data.jobs.filter((j) => j.createTime < s.at && j.endAt > s.at).length;
          expect(running).toBeLessThan(2);
        }
        expect(sandbox.calls('status-bulk').length).toBeGreaterThan(0);
      },
    );
  }, 120_000);

  it('a batch refused for one disabled stream: that one is listed, the others are submitted', async () => {
    await withDatoramaSandbox(env, { streams: 5, maxJobs: 0, failEvery: 0 }, async ({ sandbox, deps }) => {
      const [a, b, c] = sandbox.data.streams;
      for (const s of [a, b, c]) s.enabled = true;
      b.enabled = false;
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaProcess', {
          taskQueue,
          workflowId: uniqueQueue('process-disabled'),
          args: [{ streams: [a.id, b.id, c.id], start: '2025-01-01', end: '2025-01-05' }],
        }),
      );
      expect(result.actions).toMatchObject({ total: 3, submitted: 2, failed: 1 });
      expect(result.failures).toEqual([
        expect.objectContaining({ stream: b.id, httpStatus: 400, message: expect.stringMatching(/disabled/) }),
      ]);
      expect(sandbox.calls('process-bulk').map((e) => e.status)).toEqual([400, 200]);
    });
  }, 120_000);
});
