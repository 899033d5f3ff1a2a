/**
 * Datorama against the sandbox on the dev server (real time, the server-side rate limit of the datorama
 * queue on): bulk process of 200 streams and bulk rerun, each with a job log CSV that matches the
 * sandbox's record of calls exactly; a rerun of the same workflow ID skips what succeeded; killing the
 * worker process in the middle of a call and starting another submits no action twice.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DatoramaResult } from '../../src/pipelines/datorama/definition';
import type { LoggedAction } from '../../src/pipelines/datorama/sandbox';
import { fromArray, type Row, type Warehouse } from '../../src/sinks/warehouse';
import { limiterStateQuery, limiterWorkflowId } from '../../src/pipelines/datorama/shared';
import { fingerprint } from '../../src/node/fingerprint';
import { STREAMS_TABLE } from '../../src/pipelines/datorama/activities/tables';
import { maybeSaveHistory, maybeSaveHistoryOfType } from '../helpers/histories';
import { uniqueQueue, useTemporalServer } from '../helpers/temporal';
import { ready, spawnWorker } from '../helpers/worker-process';
import { datoramaDeps, datoramaSandbox, maxInWindow, withDatoramaWorkers } from '../helpers/datorama';

/** The job log CSV as rows of cells. */
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => {
    const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

const key = (r: { stream: number | string; job?: number | string; start?: string; end?: string }) =>
  `${r.stream}|${r.job ?? ''}|${r.start ?? ''}|${r.end ?? ''}`;

describe('datorama on the dev server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('bulk process of 200 streams: 4 calls, job log CSV = the sandbox record; a rerun skips it all', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 240, maxJobs: 0 });
    try {
      const deps = datoramaDeps(sEnv);
      const streams = sandbox.data.streams
        .filter((s) => s.enabled)
        .slice(0, 200)
        .map((s) => s.id);
      const input = { streams, start: '2025-03-01', end: '2025-03-20' };
      const workflowId = uniqueQueue('dato-process');
      const [first, again] = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const run = () =>
          env.client.workflow.execute('datoramaProcess', {
            taskQueue,
            workflowId,
            args: [input],
          }) as Promise<DatoramaResult>;
        const first = await run();
        await maybeSaveHistory(env.address, workflowId, 'datorama-process');
        // Since its requester is the kit's Permits (REQUESTER_ON_PERMITS): a history of that path too.
        await maybeSaveHistory(env.address, workflowId, 'datorama-process-requester-on-permits');
        // Since the requester's watchdog wakes when due (PERMITS_WATCHDOG_DUE): a run of that path too.
        await maybeSaveHistory(env.address, workflowId, 'datorama-process-watchdog-due');
        await maybeSaveHistoryOfType(env.address, 'datoramaLimiter', 'datorama-limiter');
        // Since the limiter runs on the permit entity (LIMITER_ON_PERMITS): a history of that path too.
        await maybeSaveHistoryOfType(env.address, 'datoramaLimiter', 'datorama-limiter-on-permits');
        return [first, await run()];
      });
      expect(first.chunks).toBe(2);
      expect(first.calls).toBe(4);
      expect(first.actions).toMatchObject({ total: 400, submitted: 400, failed: 0 });
      const calls = sandbox.calls('process-bulk');
      expect(calls).toHaveLength(4);
      const logged = calls.flatMap((c) => c.meta!.actions as LoggedAction[]);
      expect(logged).toHaveLength(400);
      const csv = parseCsv((await deps.bucket.get(`datorama/job-logs/${workflowId}/${first.runId}.csv`)).toString());
      expect(csv).toHaveLength(400);
      expect(csv.every((r) => r.status === 'SUBMITTED' && r.http_status === '200')).toBe(true);
      expect(
        csv.map((r) => key({ stream: r.stream_id, job: r.job_id, start: r.start_date, end: r.end_date })).sort(),
      ).toEqual(logged.map(key).sort());
      const table = await deps.warehouse.query<{ n: number }>(
        `SELECT count(*) AS n FROM datorama_job_log WHERE run_id = $r AND status = 'SUBMITTED'`,
        { r: first.runId },
      );
      expect(Number(table[0].n)).toBe(400);
      // Same workflow ID again: everything was submitted, nothing is called.
      expect(again.calls).toBe(0);
      expect(again.actions).toMatchObject({ total: 400, submitted: 0, skipped: 400 });
      expect(sandbox.calls('process-bulk')).toHaveLength(4);
    } finally {
      await sandbox.stop();
    }
  });

  it('bulk rerun: one call per stream, a refused job listed, job log CSV = the sandbox record', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 40, maxJobs: 4 });
    try {
      const deps = datoramaDeps(sEnv);
      const jobs = sandbox.data.jobs.slice(0, 60).map((j) => `${j.dataStreamId}:${j.id}`);
      const wrong = `${sandbox.data.streams[39].id}:${sandbox.data.jobs[0].id}`; // a job of another stream
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, (taskQueue) =>
        env.client.workflow.execute('datoramaRerun', {
          taskQueue,
          workflowId: uniqueQueue('dato-rerun'),
          args: [{ jobs: [...jobs, wrong] }],
        }),
      );
      await maybeSaveHistoryOfType(env.address, 'datoramaRerun', 'datorama-rerun');
      const streams = new Set(jobs.map((p) => p.split(':')[0]));
      const calls = sandbox.calls('rerun');
      expect(calls).toHaveLength(streams.size + 1);
      expect(maxInWindow(calls.map((c) => c.at))).toBeLessThanOrEqual(60);
      expect(result.actions).toMatchObject({ total: 61, submitted: 60, failed: 1 });
      expect(result.failures).toEqual([
        expect.objectContaining({
          action: `r:${wrong}`,
          httpStatus: 400,
          message: expect.stringMatching(/does not belong/),
        }),
      ]);
      const csv = parseCsv(
        (await deps.bucket.get(`datorama/job-logs/${result.runKey}/${result.runId}.csv`)).toString(),
      );
      const ok = csv.filter((r) => r.status === 'SUBMITTED');
      const logged = calls.filter((c) => c.status === 200).flatMap((c) => c.meta!.actions as LoggedAction[]);
      expect(
        ok.map((r) => key({ stream: r.stream_id, job: r.job_id, start: r.start_date, end: r.end_date })).sort(),
      ).toEqual(logged.map(key).sort());
      expect(csv.filter((r) => r.status === 'FAILED').map((r) => `${r.stream_id}:${r.http_status}`)).toEqual([
        `${wrong.split(':')[0]}:400`,
      ]);
    } finally {
      await sandbox.stop();
    }
  });

  it('a terminated limiter strands nobody and keeps its count: the run goes on to the daily cap, not past it', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 20, maxJobs: 1 });
    const perDay = 8;
    const deps = datoramaDeps(sEnv, {
      DATORAMA_PER_DAY: String(perDay),
      DATORAMA_PER_MINUTE: '600',
      DATORAMA_REASK_MS: '1000',
    });
    const limiterId = limiterWorkflowId(fingerprint(deps.config.DATORAMA_TOKEN!));
    const limiter = () => env.client.workflow.getHandle(limiterId);
    const until = async (what: string, cond: () => Promise<boolean> | boolean, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > deadline) throw new Error(`never: ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const workflowId = uniqueQueue('dato-limiter-kill');
    try {
      await withDatoramaWorkers(env, deps, async (taskQueue) => {
        await env.client.workflow.start('datoramaRerunAll', {
          taskQueue,
          workflowId,
          args: [{ streams: sandbox.data.streams.map((s) => s.id) }],
        });
        await until('3 calls', () => sandbox.calls().length >= 3);
        const killed = await limiter().describe();
        await limiter().terminate('test: the limiter is killed mid-run');
        // The run's outstanding permit is asked again (1 s here) and the limiter starts again from its last state.
        await until('a new limiter run', async () => {
          const d = await limiter()
            .describe()
            .catch(() => undefined);
          return d?.status.name === 'RUNNING' && d.runId !== killed.runId;
        });
        await until('the daily cap reached', async () => {
          const s = await limiter().query(limiterStateQuery);
          return s.usedToday >= perDay;
        });
        await new Promise((r) => setTimeout(r, 3_000)); // time for any call past the cap to show
        const state = await limiter().query(limiterStateQuery);
        expect(state.usedToday).toBe(perDay);
        expect(state.waiting.length).toBeGreaterThan(0); // the run waits for the reset at 00:00 UTC
        expect((await env.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
      });
      // Calls went on after the kill, up to the day's cap and not past it (a limiter started afresh would have
      // granted the cap again: 8 more calls).
      expect(sandbox.calls()).toHaveLength(perDay);
      const perStream = new Map<string, number>();
      for (const c of sandbox.calls('rerun-all')) perStream.set(c.path, (perStream.get(c.path) ?? 0) + 1);
      expect([...perStream.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await env.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
      await sandbox.stop();
    }
  }, 180_000);

  it('a slow warehouse times out a call attempt while it still runs: the action is applied once', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 4, maxJobs: 2 });
    try {
      const deps = datoramaDeps(sEnv);
      const stream = sandbox.data.jobs[0].dataStreamId;
      // The warehouse is slow the way a long load on the same worker makes it: the first claim write of a
      // call takes longer than the call activity's start-to-close timeout (30 s), so attempt 1 times out
      // while it still runs, and attempt 2 starts while attempt 1's write is not yet visible.
      let slow: Promise<unknown> | undefined;
      const inner = deps.warehouse;
      const warehouse: Warehouse = {
        kind: inner.kind,
        ensureTable: (s) => inner.ensureTable(s),
        describeTable: (name) => inner.describeTable(name),
        query: (sql, params) => inner.query(sql, params),
        select: (schema, spec) => inner.select(schema, spec),
        count: (schema, where) => inner.count(schema, where),
        dropTable: (name) => inner.dropTable(name),
        listTables: () => inner.listTables(),
        exportTable: (name, format, file) => inner.exportTable(name, format, file),
        close: () => inner.close(),
        async load(schema, batches, mode, opts) {
          if (schema.name !== 'datorama_actions' || slow) return inner.load(schema, batches, mode, opts);
          const rows: Row[] = [];
          for await (const b of batches) rows.push(...b);
          if (!rows.some((r) => r.state === 'PENDING_SUBMIT')) return inner.load(schema, fromArray(rows), mode);
          slow = new Promise((r) => setTimeout(r, 36_000)).then(() => inner.load(schema, fromArray(rows), mode));
          return (await slow) as Awaited<ReturnType<Warehouse['load']>>;
        },
      };
      const result: DatoramaResult = await withDatoramaWorkers(env, { ...deps, warehouse }, async (taskQueue) => {
        const r: DatoramaResult = await env.client.workflow.execute('datoramaRerunAll', {
          taskQueue,
          workflowId: uniqueQueue('dato-slow-wh'),
          args: [{ streams: [stream] }],
        });
        await slow; // attempt 1 is done with its write: it would call now (or has)
        await new Promise((r) => setTimeout(r, 3000));
        await maybeSaveHistoryOfType(env.address, 'datoramaRerunAll', 'datorama-rerun-all-timed-out-attempt');
        return r;
      });
      expect(slow).toBeDefined();
      expect(sandbox.calls('rerun-all').filter((c) => c.status === 200)).toHaveLength(1); // applied once
      expect(result.actions).toMatchObject({ total: 1, submitted: 1, failed: 0 });
    } finally {
      await sandbox.stop();
    }
  }, 180_000);

  it('a worker killed between a rerun-all claim and its call (a stream without jobs): the run still calls it, once', async () => {
    // Chaos finding (datorama-rerun, kills): the check after the unanswered claim counted a stream without jobs
    // as applied, so the run logged its rerun-all SUBMITTED while the platform never received it.
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 20, maxJobs: 2 });
    const deps = datoramaDeps(sEnv);
    const taskQueue = uniqueQueue('dato-claim-kill');
    const stream = sandbox.data.streams.find(
      (s) => s.enabled && !sandbox.data.jobs.some((j) => j.dataStreamId === s.id),
    )!.id;
    const points = path.join(deps.dir, 'chaos-points.log');
    const child = spawnWorker(taskQueue, {
      ...sEnv,
      LONGHAUL_DATA_DIR: deps.dir,
      LONGHAUL_CHAOS_POINTS: 'datorama.call.after-claim=1',
      LONGHAUL_CHAOS_POINTS_LOG: points,
    });
    try {
      await ready(child);
      const handle = await env.client.workflow.start('datoramaRerunAll', {
        taskQueue,
        workflowId: uniqueQueue('dato-claim-kill'),
        args: [{ streams: [stream] }],
      });
      await new Promise((r) => child.once('exit', r)); // SIGKILLed at the chaos point: claim written, no call
      expect(readFileSync(points, 'utf8')).toMatch(/datorama\.call\.after-claim#1/);
      expect(sandbox.calls('rerun-all')).toHaveLength(0);
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, () => handle.result(), taskQueue);
      expect(result.actions).toMatchObject({ total: 1, submitted: 1, failed: 0 });
      // The platform applied the rerun-all once (it never received the killed attempt's).
      const applied = sandbox.truth('applied').filter((r) => r.data.action === 'rerun-all');
      expect(applied.map((r) => r.data.stream)).toEqual([stream]);
      const csv = parseCsv(
        (await deps.bucket.get(`datorama/job-logs/${result.runKey}/${result.runId}.csv`)).toString(),
      );
      expect(csv.filter((r) => r.status === 'SUBMITTED').map((r) => r.stream_id)).toEqual([String(stream)]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sandbox.stop();
    }
  });

  it('a worker killed after the check recorded "not applied": the action is still submitted, once', async () => {
    // Full chaos finding (datorama-rerun, kills): the check of an unanswered claim recorded NOT_SUBMITTED, the
    // worker died before the check's answer reached Temporal, and the retried check found no claim left to check
    // — it answered "nothing to do", so the run completed with the action never submitted.
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 20, maxJobs: 2 });
    const deps = datoramaDeps(sEnv);
    const taskQueue = uniqueQueue('dato-check-kill');
    const stream = sandbox.data.streams.find(
      (s) => s.enabled && !sandbox.data.jobs.some((j) => j.dataStreamId === s.id),
    )!.id;
    const points = path.join(deps.dir, 'chaos-points.log');
    const worker = (point: string) =>
      spawnWorker(taskQueue, {
        ...sEnv,
        LONGHAUL_DATA_DIR: deps.dir,
        LONGHAUL_CHAOS_POINTS: `${point}=1`,
        LONGHAUL_CHAOS_POINTS_LOG: points,
      });
    const first = worker('datorama.call.after-claim');
    let second: ChildProcess | undefined;
    try {
      await ready(first);
      const handle = await env.client.workflow.start('datoramaRerunAll', {
        taskQueue,
        workflowId: uniqueQueue('dato-check-kill'),
        args: [{ streams: [stream] }],
      });
      await new Promise((r) => first.once('exit', r)); // killed: claim written, no call
      second = worker('datorama.reconcile.after-record');
      await ready(second);
      await new Promise((r) => second!.once('exit', r)); // killed: "not applied" recorded, answer lost
      expect(readFileSync(points, 'utf8')).toMatch(/datorama\.reconcile\.after-record#1/);
      expect(sandbox.calls('rerun-all')).toHaveLength(0);
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, () => handle.result(), taskQueue);
      expect(result.actions).toMatchObject({ total: 1, submitted: 1, failed: 0 });
      const applied = sandbox.truth('applied').filter((r) => r.data.action === 'rerun-all');
      expect(applied.map((r) => r.data.stream)).toEqual([stream]);
    } finally {
      for (const c of [first, second]) if (c && c.exitCode === null) c.kill('SIGKILL');
      await sandbox.stop();
    }
  }, 240_000);

  it('rename (and its undo), patch and collect on the dev server: the platform holds what each run reports', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 12, maxJobs: 3, seed: 11 });
    try {
      const deps = datoramaDeps(sEnv);
      const [a, b, c] = sandbox.data.streams.filter((s) => s.enabled);
      const names = [a.name, b.name];
      const out = await withDatoramaWorkers(env, deps, async (taskQueue) => {
        const run = (type: string, args: unknown, workflowId = uniqueQueue(type)) =>
          env.client.workflow.execute(type, { taskQueue, workflowId, args: [args] }) as Promise<DatoramaResult>;
        const renameId = uniqueQueue('dato-rename');
        const renamed = await run('datoramaRename', { renames: [`${a.id}=A renamed`, `${b.id}=B renamed`] }, renameId);
        await maybeSaveHistory(env.address, renameId, 'datorama-rename');
        const renamedNames = [a.name, b.name];
        const undone = await run('datoramaRename', { undo: renamed.runId });
        const patchId = uniqueQueue('dato-patch');
        const patched = await run('datoramaPatch', { streams: [c.id], fields: { enabled: false } }, patchId);
        await maybeSaveHistory(env.address, patchId, 'datorama-patch');
        const cEnabled = c.enabled;
        const collectId = uniqueQueue('dato-collect');
        const collected = await run('datoramaCollect', { pageSize: 2 }, collectId);
        await maybeSaveHistory(env.address, collectId, 'datorama-collect');
        return { renamed, renamedNames, undone, patched, cEnabled, collected };
      });
      expect(out.renamed.actions).toMatchObject({ total: 2, submitted: 2, failed: 0 });
      expect(out.renamedNames).toEqual(['A renamed', 'B renamed']);
      expect(out.undone.actions).toMatchObject({ total: 2, submitted: 2, failed: 0 });
      expect([a.name, b.name]).toEqual(names);
      expect(out.patched.actions).toMatchObject({ total: 1, submitted: 1, failed: 0 });
      expect(out.cEnabled).toBe(false);
      // Collect: what the platform holds, table by table (streams as listed after the patch).
      expect(out.collected.collected).toEqual({
        workspaces: sandbox.data.workspaces.length,
        streams: sandbox.data.streams.length,
        jobs: sandbox.data.jobs.length,
      });
      const streams = await deps.warehouse.select<{ id: number; enabled: boolean }>(STREAMS_TABLE, {
        columns: ['id', 'enabled'],
      });
      expect(streams.find((s) => Number(s.id) === c.id)?.enabled).toBe(false);
      expect(streams).toHaveLength(sandbox.data.streams.length);
    } finally {
      await sandbox.stop();
    }
  });

  it('killing the worker in the middle of a call and restarting submits no action twice', async () => {
    const { sandbox, env: sEnv } = await datoramaSandbox(undefined, { streams: 20, maxJobs: 2 });
    const deps = datoramaDeps(sEnv);
    const taskQueue = uniqueQueue('dato-kill');
    const streams = sandbox.data.streams.map((s) => s.id);
    const child = spawnWorker(taskQueue, { ...sEnv, LONGHAUL_DATA_DIR: deps.dir });
    try {
      await ready(child);
      const handle = await env.client.workflow.start('datoramaRerunAll', {
        taskQueue,
        workflowId: uniqueQueue('dato-rerun-all-kill'),
        args: [{ streams }],
      });
      const until = async (cond: () => boolean) => {
        while (!cond()) await new Promise((r) => setTimeout(r, 50));
      };
      await until(() => sandbox.calls('rerun-all').length >= 6);
      // The next call is answered slowly: the worker dies after sending it, before the answer — the
      // sandbox still applies it, so only a check before resubmitting avoids doing it twice.
      sandbox.faults.add({ route: 'rerun-all', kind: 'slow', times: 1, delayMs: 3000 });
      await until(() => sandbox.log.some((e) => e.fault === 'slow'));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const result: DatoramaResult = await withDatoramaWorkers(env, deps, () => handle.result(), taskQueue);
      const perStream = new Map<string, number>();
      for (const c of sandbox.calls('rerun-all')) perStream.set(c.path, (perStream.get(c.path) ?? 0) + 1);
      expect(perStream.size).toBe(20);
      // No action submitted twice — except a rerun-all of a stream without jobs whose answer was lost: it leaves no
      // trace to check, so it is sent again (it reruns nothing; docs/datorama.md).
      const withJobs = new Set(sandbox.data.jobs.map((j) => String(j.dataStreamId)));
      for (const [p, n] of perStream) expect(n, p).toBe(withJobs.has(p.split('/')[4]) ? 1 : Math.min(n, 2));
      expect(result.actions).toMatchObject({ total: 20, submitted: 20, failed: 0 });
      // The unanswered call was checked (stats) and found applied.
      expect(sandbox.calls('stats').length).toBeGreaterThanOrEqual(1);
      const csv = parseCsv(
        (await deps.bucket.get(`datorama/job-logs/${result.runKey}/${result.runId}.csv`)).toString(),
      );
      const logged = sandbox
        .calls('rerun-all')
        .filter((c) => c.status === 200)
        .flatMap((c) => c.meta!.actions as LoggedAction[]);
      const submitted = csv.filter((r) => r.status === 'SUBMITTED');
      expect(
        submitted
          .filter((r) => r.job_id)
          .map((r) => key({ stream: r.stream_id, job: r.job_id, start: r.start_date, end: r.end_date }))
          .sort(),
      ).toEqual(logged.map(key).sort());
      // A stream without jobs: one row without a job, and a call that reran nothing (sent again when a kill
      // left it unanswered: nothing shows whether it arrived, docs/datorama.md "Never twice"; the row merges).
      const empty = sandbox
        .calls('rerun-all')
        .filter((c) => (c.meta!.actions as LoggedAction[]).length === 0)
        .map((c) => c.path.split('/')[4]);
      expect(
        submitted
          .filter((r) => !r.job_id)
          .map((r) => r.stream_id)
          .sort(),
      ).toEqual([...new Set(empty)].sort());
      // Only the one call the kill left unanswered may repeat, and only on a stream that has no jobs.
      expect(empty.length - new Set(empty).size).toBeLessThanOrEqual(1);
      for (const s of empty) expect(withJobs.has(s), s).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sandbox.stop();
    }
  });
});
