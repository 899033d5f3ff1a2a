/**
 * `datorama-process`: streams × [start, end] in chunks of dRange days; the streams that share a chunk go
 * in one call (up to batchSize). Optional workspace throttle (throttle.ts): before submitting to a workspace
 * that has `workspaceThrottle` jobs pending or running as the API counts them, wait on a durable timer and
 * count again. Actions an earlier run of this workflow ID submitted are skipped.
 */
import { continueAsNew, patched, sleep } from '@temporalio/workflow';
import { processInput, type DatoramaResult, type ProcessInput } from '../definition';
import { chunkRange } from '../shared';
import { formatDuration } from '../../../shared/durations';
import { ProgressTracker, validateInput, workflowNow } from '../../../kit/workflow';
import { pool } from '../../../kit/pool';
import { actionKey } from '../keys';
import { DatoramaRun, type OpCarry } from './runner';
import { THROTTLE_PATCH, WorkspaceThrottle } from './throttle';

interface Batch {
  start: string;
  end: string;
  streams: number[];
  workspaceId?: number;
}

/** Groups (stream, chunk) pairs by chunk (and workspace), in batches of at most `size` streams. Pure. */
export function planBatches(
  ranges: { stream: number; start: string; end: string }[],
  dRange: number,
  size: number,
  workspaceOf?: (stream: number) => number | undefined,
): Batch[] {
  const groups = new Map<string, Batch>();
  for (const r of ranges)
    for (const c of chunkRange(r.start, r.end, dRange)) {
      const ws = workspaceOf?.(r.stream);
      const k = `${c.start}|${c.end}|${ws ?? ''}`;
      if (!groups.has(k)) groups.set(k, { start: c.start, end: c.end, streams: [], workspaceId: ws });
      const g = groups.get(k)!;
      if (!g.streams.includes(r.stream)) g.streams.push(r.stream);
    }
  const out: Batch[] = [];
  for (const g of groups.values())
    for (let i = 0; i < g.streams.length; i += size) out.push({ ...g, streams: g.streams.slice(i, i + size) });
  return out;
}

export async function datoramaProcess(rawInput: ProcessInput, carry?: OpCarry): Promise<DatoramaResult> {
  const input = validateInput(processInput, rawInput);
  await DatoramaRun.checkJobLog(input.jobLog, Boolean(carry));
  const progress = new ProgressTracker('datorama-process', 'calls');
  const run = new DatoramaRun('process', await DatoramaRun.limits(), progress, carry?.run);
  const ranges = [
    ...(input.ranges ?? []),
    ...(input.streams ?? []).map((stream) => ({ stream, start: input.start!, end: input.end! })),
  ];

  // The workspace throttle as the API counts a workspace's jobs (throttle.ts); before THROTTLE_PATCH, the
  // code below counted this run's own jobs.
  const byApi =
    input.workspaceThrottle !== undefined && patched(THROTTLE_PATCH)
      ? new WorkspaceThrottle(run, progress, input.workspaceThrottle, input.throttlePoll)
      : undefined;
  if (byApi) await byApi.map(ranges.map((r) => r.stream));

  // The workspace of each stream, when throttling (1 + one call per workspace).
  const workspaceOf = new Map<number, number>();
  if (input.workspaceThrottle && !byApi) {
    run.setPhase('mapping streams to workspaces');
    const wanted = new Set(ranges.map((r) => r.stream));
    const ws = await run.withPermit('list workspaces', (ctx, calls) =>
      calls.datoramaCollectCall({ ...ctx, what: 'workspaces' }),
    );
    for (const w of ws.workspaces ?? []) {
      if ([...wanted].every((s) => workspaceOf.has(s))) break;
      const st = await run.withPermit(`list the streams of workspace ${w}`, (ctx, calls) =>
        calls.datoramaCollectCall({ ...ctx, what: 'streams', workspaceId: w }),
      );
      for (const s of st.streams ?? []) if (wanted.has(s.id)) workspaceOf.set(s.id, s.workspaceId);
    }
  }
  const batches = planBatches(ranges, input.dRange, input.batchSize, (s) => byApi?.of(s) ?? workspaceOf.get(s));
  const chunks = new Set(batches.map((b) => `${b.start}|${b.end}`)).size;

  // Skip what an earlier run of this workflow ID submitted.
  const { skip, mine } = await run.previous();
  if (!carry) {
    run.c.total = batches.reduce((n, b) => n + b.streams.length, 0);
    run.c.skipped += batches.reduce(
      (n, b) => n + b.streams.filter((s) => skip.has(actionKey.process(s, b.start, b.end))).length,
      0,
    );
  }
  const todo = batches
    .map((b) => ({
      ...b,
      streams: b.streams.filter(
        (s) => !skip.has(actionKey.process(s, b.start, b.end)) && !mine.has(actionKey.process(s, b.start, b.end)),
      ),
    }))
    .filter((b) => b.streams.length > 0);
  run.estimated = carry?.estimated ?? run.c.calls + todo.length;
  run.setPhase(`processing ${run.c.total} stream-chunks in ${todo.length} calls (${chunks} chunks)`);

  // Jobs we submitted and that may still be running, per workspace (throttle).
  // Carried through continue-as-new: a new execution would otherwise see no job running and submit past it.
  const running = new Map<number, { jobs: number; streams: Set<number> }>(
    Object.entries(carry?.run.throttle ?? {}).map(([ws, r]) => [
      Number(ws),
      { jobs: r.jobs, streams: new Set(r.streams) },
    ]),
  );
  const throttle = async (ws: number | undefined) => {
    if (!input.workspaceThrottle || ws === undefined) return;
    const r = running.get(ws);
    while (r && r.jobs >= input.workspaceThrottle) {
      progress.set({
        phase: `workspace ${ws} has ${r.jobs} jobs pending or running (throttle ${input.workspaceThrottle})`,
        waiting: { reason: 'workspace throttle', until: new Date(workflowNow() + input.throttlePoll).toISOString() },
      });
      await sleep(input.throttlePoll, {
        summary:
          `Datorama: workspace ${ws} has ${r.jobs} of our jobs pending or running (throttle ${input.workspaceThrottle}): ` +
          `poll its job status again in ${formatDuration(input.throttlePoll)}`,
      });
      let n = 0;
      const ids = [...r.streams];
      for (let i = 0; i < ids.length; i += 100) {
        const s = await run.withPermit(
          `job status of ${Math.min(100, ids.length - i)} stream(s) in workspace ${ws} (throttle)`,
          (ctx, calls) => calls.datoramaRunningJobs({ ...ctx, workspaceId: ws, streams: ids.slice(i, i + 100) }),
        );
        n += s.running;
      }
      r.jobs = n;
      run.estimated++;
    }
  };

  const BLOCK = run.block(50);
  for (let i = 0; i < todo.length; i += BLOCK) {
    await pool(todo.slice(i, i + BLOCK), input.workspaceThrottle ? 1 : 2, async (b) => {
      if (byApi) {
        await byApi.before(b.workspaceId);
        return run.submit({ kind: 'process', streams: b.streams, start: b.start, end: b.end }, (jobs) =>
          byApi.submitted(b.workspaceId, jobs.length),
        );
      }
      await throttle(b.workspaceId);
      await run.submit({ kind: 'process', streams: b.streams, start: b.start, end: b.end }, (jobs) => {
        if (b.workspaceId === undefined) return;
        const r = running.get(b.workspaceId) ?? { jobs: 0, streams: new Set<number>() };
        r.jobs += jobs.length;
        // A job whose stream the answer did not name may be any of the batch's.
        for (const j of jobs) for (const s of j.stream === undefined ? b.streams : [j.stream]) r.streams.add(s);
        running.set(b.workspaceId, r);
      });
    });
    if (i + BLOCK < todo.length && run.shouldContinueAsNew())
      await continueAsNew<typeof datoramaProcess>(rawInput, {
        run: {
          ...run.c,
          throttle: Object.fromEntries(
            [...running].map(([ws, r]) => [String(ws), { jobs: r.jobs, streams: [...r.streams] }]),
          ),
        },
        estimated: run.estimated,
      });
  }
  return run.finish({ chunks }, input.jobLog);
}
