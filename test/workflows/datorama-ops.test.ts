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

  it("collects the workspaces' model objects (a table per kind) and the jobs of chosen streams only", async () => {
    await withDatoramaSandbox(env, { workspaces: 2, streams: 6, maxJobs: 4 }, async ({ sandbox, deps }) => {
      const [s1, s2] = sandbox.data.streams.map((s) => s.id);
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaCollect', {
          taskQueue,
          workflowId: uniqueQueue('collect-model'),
          args: [{ streams: [s1, s2, 99_999], metadata: ['dimensions', 'patterns', 'harmonized', 'calculated'] }],
        }),
      );
      // Every kind served by each workspace, as the sandbox served it (its own record of the answers).
      const served = (route: string) => sandbox.calls(route).filter((e) => e.status === 200).length;
      for (const r of ['dimensions', 'patterns', 'harmonized-dimensions', 'calculated-measurements'])
        expect(served(r), r).toBe(2);
      const rows = async (t: string) =>
        deps.warehouse.query<{ workspace_id: number; key: string; name: string; raw: string }>(
          `SELECT workspace_id, key, name, raw FROM ${t} ORDER BY workspace_id, key`,
        );
      const dims = await rows('datorama_dimensions');
      expect(dims).toHaveLength(10); // 5 per workspace
      expect(new Set(dims.map((d) => d.workspace_id)).size).toBe(2);
      expect(dims.map((d) => d.name)).toContain('Media Buy');
      expect(JSON.parse(dims[0].raw)).toMatchObject({ type: 'DIMENSION' });
      expect(await rows('datorama_patterns')).toHaveLength(2);
      expect(await rows('datorama_harmonized_dimensions')).toHaveLength(2);
      expect(JSON.parse((await rows('datorama_calculated_measurements'))[0].raw)).toMatchObject({ name: 'CTR' });
      expect(result.collected?.metadata).toEqual({ dimensions: 10, patterns: 2, harmonized: 2, calculated: 2 });
      // Jobs of the two chosen streams only; the stream no workspace holds is listed, not ignored.
      const jobStreams = sandbox.calls('stats').map((e) => e.path.split('/')[4]);
      expect(new Set(jobStreams)).toEqual(new Set([String(s1), String(s2)]));
      expect(result.failures).toEqual([
        expect.objectContaining({ stream: 99_999, message: expect.stringMatching(/in none of the workspaces/) }),
      ]);
      expect(result.calls).toBe(sandbox.calls().length);
      expect(result.calls).toBe(result.estimatedCalls);
    });
  }, 120_000);

  it("collects chosen streams' whole configurations, mapping included (--configs), without their jobs", async () => {
    await withDatoramaSandbox(env, { workspaces: 2, streams: 6, maxJobs: 4 }, async ({ sandbox, deps }) => {
      const [s1, , s3] = sandbox.data.streams.map((s) => s.id);
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaCollect', {
          taskQueue,
          workflowId: uniqueQueue('collect-configs'),
          args: [{ streams: [s1, s3], configs: true, jobs: false }],
        }),
      );
      const rows = await deps.warehouse.query<{ id: number; workspace_id: number; name: string; raw: string }>(
        'SELECT id, workspace_id, name, raw FROM datorama_stream_configs ORDER BY id',
      );
      // Each row is the stream as the platform holds it (the sandbox's own record), its config whole.
      expect(rows.map((r) => Number(r.id))).toEqual([s1, s3].sort((a, b) => a - b));
      for (const r of rows) {
        const truth = sandbox.data.streams.find((x) => x.id === Number(r.id))!;
        const raw = JSON.parse(r.raw) as { config: unknown; name: string };
        expect(raw.config).toEqual(truth.config);
        expect(raw.config).not.toBeNull();
        expect(r.name).toBe(truth.name);
        expect(Number(r.workspace_id)).toBe(truth.workspaceId);
      }
      expect(sandbox.calls('stats')).toEqual([]); // no jobs asked for
      expect(result.collected).toMatchObject({ configs: 2, jobs: 0 });
      expect(result.calls).toBe(sandbox.calls().length);
      expect(result.calls).toBe(result.estimatedCalls);
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
        // Since the workspace is counted as the API counts it (every submitter's jobs): its stream listing.
        expect(steps).toContainEqual(
          expect.stringMatching(
            /^timer: Datorama: workspace \d+ has [23] jobs pending or running \(throttle 2\): count them again in 30s$/,
          ),
        );
        expect(steps).toContainEqual(
          expect.stringMatching(/^activity: Datorama: jobs pending or running in workspace \d+ \(throttle\)$/),
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
        expect(sandbox.calls('streams').length).toBeGreaterThan(1);
      },
    );
  }, 120_000);

  /** Another submitter's jobs: `streams` processed over `days` days straight through the API. */
  const submitElsewhere = async (sEnv: Record<string, string>, streams: number[], days: number) => {
    const res = await fetch(`${sEnv.DATORAMA_BASE_URL}/data-streams/process`, {
      method: 'POST',
      headers: { authorization: sEnv.DATORAMA_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({
        dataStreamIds: streams,
        startDate: '2024-06-01',
        endDate: new Date(Date.UTC(2024, 5, days)).toISOString().slice(0, 10),
      }),
    });
    expect(res.status).toBe(200);
  };
  const runningAt = (
    sandbox: { data: { jobs: { createTime: number; endAt: number; dataStreamId: number }[] } },
    t: number,
    streams?: number[],
  ) =>
    sandbox.data.jobs.filter((j) => j.createTime < t && j.endAt > t && (!streams || streams.includes(j.dataStreamId)))
      .length;

  it('the throttle counts every job of the workspace as the API reports it, not only its own', async () => {
    await withDatoramaSandbox(
      env,
      { workspaces: 1, streams: 6, maxJobs: 0, failEvery: 0 },
      async ({ sandbox, env: sEnv, deps }) => {
        const [a, b, c, x, y] = enabledStreams(sandbox, 5);
        await submitElsewhere(sEnv, [x, y], 10); // 2 jobs of another submitter, pending then running
        const startedAt = await env.currentTimeMs();
        const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
          env.client.workflow.execute('datoramaProcess', {
            taskQueue,
            workflowId: uniqueQueue('throttle-others'),
            args: [{ ...throttledProcess([a, b, c]), end: '2025-01-10' }],
          }),
        );
        expect(result.actions).toMatchObject({ total: 3, submitted: 3, failed: 0 });
        const ours = sandbox.calls('process').filter((e) => e.status === 200);
        expect(ours).toHaveLength(3);
        // Counting only its own jobs, the run would have submitted at once, beside the other two.
        for (const s of ours) expect(runningAt(sandbox, s.at)).toBeLessThan(2);
        expect(ours[0].at - startedAt).toBeGreaterThanOrEqual(30_000); // waited at least one poll
      },
    );
  }, 120_000);

  it('reruns and rerun-alls are throttled too', async () => {
    await withDatoramaSandbox(
      env,
      { workspaces: 1, streams: 6, maxJobs: 3, failEvery: 0 },
      async ({ sandbox, env: sEnv, deps }) => {
        const [a, b, x, y] = enabledStreams(sandbox, 4);
        const jobsOf = (s: number) => sandbox.data.jobs.filter((j) => j.dataStreamId === s).map((j) => j.id);
        // Only the seeded history's jobs, every one of them finished by now.
        const now = await env.currentTimeMs();
        expect(sandbox.data.jobs.every((j) => j.endAt < now)).toBe(true);
        await submitElsewhere(sEnv, [x, y], 10);
        const calls = async (workflow: string, args: unknown) => {
          const before = sandbox.log.length;
          const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
            env.client.workflow.execute(workflow, {
              taskQueue,
              workflowId: uniqueQueue('throttle-rerun'),
              args: [args],
            }),
          );
          return { result, log: sandbox.log.slice(before) };
        };
        const rerun = await calls('datoramaRerun', {
          jobs: jobsOf(a).map((job) => ({ stream: a, job })),
          workspaceThrottle: 2,
          throttlePoll: '30s',
        });
        expect(rerun.result.actions).toMatchObject({ submitted: jobsOf(a).length, failed: 0 });
        const rerunCall = rerun.log.find((e) => e.route === 'rerun' && e.status === 200)!;
        // The other submitter's two jobs (the rerun's own, rerun in place, are not counted here).
        expect(runningAt(sandbox, rerunCall.at - 1, [x, y])).toBeLessThan(2);
        expect(rerun.log.some((e) => e.route === 'streams')).toBe(true);

        await submitElsewhere(sEnv, [x, y], 10);
        const all = await calls('datoramaRerunAll', { streams: [b], workspaceThrottle: 2, throttlePoll: '30s' });
        expect(all.result.actions).toMatchObject({ submitted: 1, failed: 0 });
        const allCall = all.log.find((e) => e.route === 'rerun-all' && e.status === 200)!;
        expect(runningAt(sandbox, allCall.at - 1, [x, y])).toBeLessThan(2);
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
      // The named stream is not taken at its word: the others go first, then it alone, refused on its own.
      expect(sandbox.calls('process-bulk').map((e) => e.status)).toEqual([400, 200]);
      expect(sandbox.calls('process').map((e) => e.status)).toEqual([400]);
    });
  }, 120_000);

  it('a batch refused without saying which stream: split until each refused stream stands alone', async () => {
    await withDatoramaSandbox(
      env,
      { streams: 8, maxJobs: 0, failEvery: 0, genericErrors: true },
      async ({ sandbox, deps }) => {
        const streams = sandbox.data.streams.slice(0, 8);
        for (const s of streams) s.enabled = true;
        const refused = [streams[2], streams[5]];
        for (const s of refused) s.enabled = false;
        const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
          env.client.workflow.execute('datoramaProcess', {
            taskQueue,
            workflowId: uniqueQueue('process-generic'),
            args: [{ streams: streams.map((s) => s.id), start: '2025-01-01', end: '2025-01-05' }],
          }),
        );
        expect(result.actions).toMatchObject({ total: 8, submitted: 6, failed: 2 });
        expect(result.failures.map((f) => f.stream).sort()).toEqual(refused.map((s) => s.id).sort());
        for (const f of result.failures)
          expect(f).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/Bad Request/) });
        // Every other stream processed exactly once, the refused ones never.
        const jobs = (id: number) =>
          sandbox.data.jobs.filter((j) => j.dataStreamId === id && j.type === 'PROCESS').length;
        expect(streams.map((s) => jobs(s.id))).toEqual(streams.map((s) => (refused.includes(s) ? 0 : 1)));
        // 8 → 4 + 4 → (2 + 2) + (2 + 2) → the two halves holding a refused stream split once more.
        const answered = [...sandbox.calls('process-bulk'), ...sandbox.calls('process')].map((e) => e.status);
        expect(answered.filter((x) => x === 200)).toHaveLength(4);
        expect(answered.filter((x) => x === 400)).toHaveLength(7);
      },
    );
  }, 120_000);
});
