/**
 * `datorama-collect`: workspaces → streams → jobs metadata into `datorama_workspaces`, `datorama_streams`
 * and `datorama_jobs` (merged on id); with `metadata`, each workspace's dimensions, patterns, harmonized
 * dimensions and calculated measurements too (a table each); with `configs`, each stream's whole configuration
 * (`datorama_stream_configs`, one call per stream, before its jobs); with `streams`, those streams only. After the listings (1 + one call per workspace) the calls of the job
 * phase are known exactly from each stream's job counts (pages = floor(jobs / pageSize) + 1), so the
 * budget and the ETA are given up front. Resumable: a stream whose jobs were collected is recorded
 * (action `c:<stream>`) and skipped by a rerun of the same workflow ID or after continue-as-new.
 */
import { ApplicationFailure, continueAsNew } from '@temporalio/workflow';
import type { DatoramaActivities } from '../activities/main';
import { collectInput, type CollectInput, type DatoramaResult, type WorkspaceModel } from '../definition';
import { describedActivities, validateInput } from '../../../kit/workflow';
import { pool } from '../../../kit/pool';
import { actionKey } from '../keys';
import { DatoramaRun, type RunCarry } from './runner';

const record = describedActivities<DatoramaActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 10 },
});

interface CollectCarry {
  run: RunCarry;
  estimated: number;
  streams: { id: number; workspaceId: number; jobs: number }[];
  workspaces: number;
  jobRows: number;
  metadata?: Partial<Record<WorkspaceModel, number>>;
  configs?: number;
}

export async function datoramaCollect(rawInput: CollectInput, carry?: CollectCarry): Promise<DatoramaResult> {
  const input = validateInput(collectInput, rawInput);
  await DatoramaRun.checkJobLog(input.jobLog, Boolean(carry));
  const run = await DatoramaRun.open('collect', carry?.run);
  let streams = carry?.streams ?? [];
  let workspaces = carry?.workspaces ?? 0;
  let jobRows = carry?.jobRows ?? 0;
  let configs = carry?.configs ?? 0;
  const metadata: Partial<Record<WorkspaceModel, number>> = carry?.metadata ?? {};
  run.estimated = carry?.estimated ?? 1;

  if (!carry) {
    run.setPhase('listing workspaces');
    const ws = await run.withPermit('list workspaces', (ctx, calls) =>
      calls.datoramaCollectCall({ ...ctx, what: 'workspaces' }),
    );
    const ids = (ws.workspaces ?? []).filter((w) => !input.workspaces || input.workspaces.includes(w));
    workspaces = ids.length;
    run.estimated = 1 + ids.length;
    run.setPhase(`listing the streams of ${ids.length} workspaces`);
    for (const w of ids) {
      const st = await run.withPermit(`list the streams of workspace ${w}`, (ctx, calls) =>
        calls.datoramaCollectCall({ ...ctx, what: 'streams', workspaceId: w }),
      );
      streams.push(...(st.streams ?? []));
    }
    // Only the chosen streams' jobs; a chosen stream no listed workspace holds is listed as a failure.
    if (input.streams) {
      const chosen = new Set(input.streams);
      streams = streams.filter((s) => chosen.has(s.id));
      const missing = input.streams.filter((x) => !streams.some((s) => s.id === x));
      run.c.total += missing.length;
      for (const id of missing) {
        run.c.failed++;
        run.listFailure({
          action: actionKey.collected(id),
          stream: id,
          message: `stream ${id} is in none of the workspaces listed${input.workspaces ? ' (--workspaces)' : ''}`,
        });
      }
    }
    run.c.total += streams.length;
    // The workspaces' model objects asked for: one call (and one table) per kind and workspace.
    const kinds = input.metadata ?? [];
    if (kinds.length) {
      run.estimated += ids.length * kinds.length;
      run.setPhase(`collecting ${kinds.join(', ')} of ${ids.length} workspaces`);
      for (const w of ids)
        for (const what of kinds) {
          const r = await run.withPermit(`${what} of workspace ${w}`, (ctx, calls) =>
            calls.datoramaCollectCall({ ...ctx, what, workspaceId: w }),
          );
          metadata[what] = (metadata[what] ?? 0) + r.rows;
        }
    }
  }

  const pages = (jobs: number) => Math.floor(jobs / input.pageSize) + 1;
  // Per stream: its configuration (configs), then its pages of jobs (jobs). Configs of runs begun before the
  // option: none (the input has no `configs`).
  const perStream = (s: { jobs: number }) => (input.configs ? 1 : 0) + (input.jobs ? pages(s.jobs) : 0);
  if (input.jobs || input.configs) {
    const { skip, mine } = await run.previous();
    if (!carry) run.c.skipped += streams.filter((s) => skip.has(actionKey.collected(s.id))).length;
    const todo = streams.filter((s) => !skip.has(actionKey.collected(s.id)) && !mine.has(actionKey.collected(s.id)));
    if (!carry) {
      const jobCalls = todo.reduce((n, s) => n + perStream(s), 0);
      run.estimated = run.c.calls + jobCalls;
      if (input.maxCalls && jobCalls > input.maxCalls)
        throw ApplicationFailure.nonRetryable(
          `Collecting jobs needs an estimated ${jobCalls} calls, over maxCalls ${input.maxCalls}`,
          'OverBudget',
        );
    }
    run.setPhase(
      `collecting the ${[input.configs && 'configurations', input.jobs && 'jobs'].filter(Boolean).join(' and ')} of ${todo.length} streams`,
    );
    const BLOCK = run.block(100);
    for (let i = 0; i < todo.length; i += BLOCK) {
      await pool(todo.slice(i, i + BLOCK), 2, async (s) => {
        let n = 0;
        if (input.configs) {
          try {
            await run.withPermit(`configuration of stream ${s.id}`, (ctx, calls) =>
              calls.datoramaCollectCall({ ...ctx, what: 'config', streamId: s.id }),
            );
          } catch (err) {
            run.failedCall(err, { kind: 'rerun-all', stream: s.id });
            return;
          }
          configs++;
        }
        for (let page = 1; input.jobs; page++) {
          if (page > pages(s.jobs)) run.estimated++; // more jobs than listed: one more page
          let r;
          try {
            r = await run.withPermit(
              `jobs of stream ${s.id}, page ${page} of ${Math.max(page, pages(s.jobs))}`,
              (ctx, calls) =>
                calls.datoramaCollectCall({ ...ctx, what: 'jobs', streamId: s.id, page, pageSize: input.pageSize }),
            );
          } catch (err) {
            run.failedCall(err, { kind: 'rerun-all', stream: s.id });
            return;
          }
          n += r.rows;
          if (r.lastPage) break;
        }
        jobRows += n;
        run.c.jobs += n;
        run.c.submitted++;
        await record(`Datorama: stream ${s.id} collected (${n} jobs): skip it on a rerun`).datoramaMarkCollected({
          runKey: run.runKey,
          runId: run.runId,
          stream: s.id,
          jobs: n,
        });
      });
      if (i + BLOCK < todo.length && run.shouldContinueAsNew())
        await continueAsNew<typeof datoramaCollect>(rawInput, {
          run: run.c,
          estimated: run.estimated,
          streams,
          workspaces,
          jobRows,
          metadata,
          configs,
        });
    }
  } else run.c.submitted = streams.length;
  streams = streams.slice(0, 0);
  const collected = {
    workspaces,
    streams: run.c.total,
    jobs: jobRows,
    ...(Object.keys(metadata).length ? { metadata } : {}),
    ...(input.configs ? { configs } : {}),
  };
  return run.finish({ collected }, input.jobLog);
}
