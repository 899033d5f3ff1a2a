/**
 * `datorama-rerun`: (stream, job) pairs grouped by stream, one call per stream batch of up to batchSize
 * jobs; `datorama-rerun-all`: one rerun-all call per stream. Actions an earlier run of this workflow ID
 * submitted are skipped; failures are listed in the result. With `workspaceThrottle`, no call goes to a
 * workspace while it has that many jobs pending or running (throttle.ts), one call at a time.
 */
import { continueAsNew } from '@temporalio/workflow';
import { rerunAllInput, rerunInput, type DatoramaResult, type RerunAllInput, type RerunInput } from '../definition';
import { validateInput } from '../../../kit/workflow';
import { pool } from '../../../kit/pool';
import { actionKeys, restrictAction, type SubmitAction } from '../keys';
import { DatoramaRun, type OpCarry } from './runner';
import { WorkspaceThrottle } from './throttle';

const keysOf = (a: SubmitAction) => actionKeys(a).map((k) => k.key);

async function runActions(
  run: DatoramaRun,
  actions: SubmitAction[],
  carry: OpCarry | undefined,
  again: (c: OpCarry) => Promise<never>,
  limits: { workspaceThrottle?: number; throttlePoll: number },
): Promise<void> {
  // The workspace throttle (throttle.ts): only when asked (runs without it make the calls they always made).
  const throttle =
    limits.workspaceThrottle === undefined
      ? undefined
      : new WorkspaceThrottle(run, run.progress, limits.workspaceThrottle, limits.throttlePoll);
  const streamOf = (a: SubmitAction) => (a.kind === 'rerun' || a.kind === 'rerun-all' ? a.stream : undefined);
  if (throttle) await throttle.map([...new Set(actions.map(streamOf).filter((x): x is number => x !== undefined))]);
  const { skip, mine } = await run.previous();
  if (!carry) {
    run.c.total = actions.reduce((n, a) => n + keysOf(a).length, 0);
    run.c.skipped += actions.reduce((n, a) => n + keysOf(a).filter((k) => skip.has(k)).length, 0);
  }
  const todo = actions
    .map((a) => {
      const left = keysOf(a).filter((k) => !skip.has(k) && !mine.has(k));
      return a.kind === 'rerun' ? restrictAction(a, left) : left.length ? a : null;
    })
    .filter((a): a is SubmitAction => a !== null && (a.kind !== 'rerun' || a.jobs.length > 0));
  run.estimated = carry?.estimated ?? run.c.calls + todo.length;
  run.setPhase(`${run.op}: ${todo.length} calls`);
  const BLOCK = run.block(50);
  for (let i = 0; i < todo.length; i += BLOCK) {
    await pool(todo.slice(i, i + BLOCK), throttle ? 1 : 2, async (a) => {
      if (!throttle) return run.submit(a);
      const ws = throttle.of(streamOf(a)!);
      await throttle.before(ws);
      await run.submit(a, (jobs) => throttle.submitted(ws, jobs.length));
    });
    if (i + BLOCK < todo.length && run.shouldContinueAsNew()) await again({ run: run.c, estimated: run.estimated });
  }
}

export async function datoramaRerun(rawInput: RerunInput, carry?: OpCarry): Promise<DatoramaResult> {
  const input = validateInput(rerunInput, rawInput);
  await DatoramaRun.checkJobLog(input.jobLog, Boolean(carry));
  const run = await DatoramaRun.open('rerun', carry?.run);
  const byStream = new Map<number, number[]>();
  for (const { stream, job } of input.jobs) {
    const list = byStream.get(stream) ?? [];
    if (!list.includes(job)) list.push(job);
    byStream.set(stream, list);
  }
  const actions: SubmitAction[] = [];
  for (const [stream, jobs] of byStream)
    for (let i = 0; i < jobs.length; i += input.batchSize)
      actions.push({ kind: 'rerun', stream, jobs: jobs.slice(i, i + input.batchSize) });
  await runActions(run, actions, carry, (c) => continueAsNew<typeof datoramaRerun>(rawInput, c), input);
  return run.finish({}, input.jobLog);
}

export async function datoramaRerunAll(rawInput: RerunAllInput, carry?: OpCarry): Promise<DatoramaResult> {
  const input = validateInput(rerunAllInput, rawInput);
  await DatoramaRun.checkJobLog(input.jobLog, Boolean(carry));
  const run = await DatoramaRun.open('rerun-all', carry?.run);
  const streams = [...new Set(input.streams)];
  await runActions(
    run,
    streams.map((stream): SubmitAction => ({ kind: 'rerun-all', stream })),
    carry,
    (c) => continueAsNew<typeof datoramaRerunAll>(rawInput, c),
    input,
  );
  return run.finish({}, input.jobLog);
}
