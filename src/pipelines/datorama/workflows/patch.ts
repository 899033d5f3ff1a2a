/**
 * `datorama-rename` and `datorama-patch`: per stream, GET the current values of the fields to change
 * (recorded as the previous values), then PATCH only those fields (never PUT: it would clear the rest).
 * `--undo <runId>` restores what that run changed, stream by stream, unless a field was changed since
 * (then it is listed as a conflict, not overwritten). An undo records its own previous values too.
 */
import { continueAsNew } from '@temporalio/workflow';
import type { DatoramaActivities } from '../activities/main';
import { patchInput, renameInput, type DatoramaResult, type PatchInput, type RenameInput } from '../definition';
import { describedActivities, validateInput } from '../../../kit/workflow';
import { pool } from '../../../kit/pool';
import { actionKey } from '../keys';
import { DatoramaRun, type OpCarry } from './runner';

const { datoramaChanges } = describedActivities<DatoramaActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
})('Datorama: the changes of the run being undone, with their previous values');

interface Change {
  stream: number;
  fields: Record<string, unknown>;
  /** For an undo: the values the undone run set; a stream whose values differ now is a conflict. */
  expect?: Record<string, unknown>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

async function applyChanges(
  op: string,
  changes: Change[],
  carry: OpCarry | undefined,
  again: (c: OpCarry) => Promise<never>,
  jobLog?: string,
): Promise<DatoramaResult> {
  const run = await DatoramaRun.open(op, carry?.run);
  const { skip, mine } = await run.previous();
  if (!carry) {
    run.c.total = changes.length;
    run.c.skipped += changes.filter((c) => skip.has(actionKey.update(c.stream))).length;
  }
  const todo = changes.filter((c) => !skip.has(actionKey.update(c.stream)) && !mine.has(actionKey.update(c.stream)));
  run.estimated = carry?.estimated ?? run.c.calls + 2 * todo.length;
  run.setPhase(`${op}: ${todo.length} streams (GET + PATCH each)`);
  const BLOCK = run.block(50);
  for (let i = 0; i < todo.length; i += BLOCK) {
    await pool(todo.slice(i, i + BLOCK), 2, async (c) => {
      const fields = Object.keys(c.fields);
      let current;
      try {
        current = await run.withPermit(
          `read stream ${c.stream}'s current ${fields.join(', ')} (kept for --undo)`,
          (ctx, calls) => calls.datoramaReadStream({ ...ctx, stream: c.stream, fields }),
        );
      } catch (err) {
        return run.failedCall(err, { kind: 'patch', stream: c.stream, fields: c.fields, previous: {} });
      }
      if (!current.found) {
        run.c.failed++;
        run.c.failures.push({
          action: actionKey.update(c.stream),
          stream: c.stream,
          httpStatus: current.httpStatus,
          message: 'stream not found',
        });
        return;
      }
      if (c.expect && !Object.entries(c.expect).every(([k, v]) => same(current.values[k], v))) {
        run.c.failed++;
        run.c.failures.push({
          action: actionKey.update(c.stream),
          stream: c.stream,
          message: `changed since the run being undone (now ${JSON.stringify(current.values)}): not overwritten`,
        });
        return;
      }
      await run.submit({ kind: 'patch', stream: c.stream, fields: c.fields, previous: current.values });
    });
    if (i + BLOCK < todo.length && run.shouldContinueAsNew()) await again({ run: run.c, estimated: run.estimated });
  }
  return run.finish({}, jobLog);
}

async function undoChanges(runId: string): Promise<Change[]> {
  const changes = await datoramaChanges({ runId });
  return changes.map((c) => ({ stream: c.stream, fields: c.previous, expect: c.applied }));
}

/** Rename and patch alike: the job log checked, the changes (or the undo of an earlier run's) applied. */
async function changeStreams(
  op: 'rename' | 'patch',
  input: { jobLog?: string; undo?: string },
  fresh: () => Change[],
  carry: OpCarry | undefined,
  again: (c: OpCarry) => Promise<never>,
): Promise<DatoramaResult> {
  await DatoramaRun.checkJobLog(input.jobLog, Boolean(carry));
  const changes = input.undo ? await undoChanges(input.undo) : fresh();
  return applyChanges(input.undo ? 'undo' : op, changes, carry, again, input.jobLog);
}

export async function datoramaRename(rawInput: RenameInput, carry?: OpCarry): Promise<DatoramaResult> {
  const input = validateInput(renameInput, rawInput);
  return changeStreams(
    'rename',
    input,
    () => input.renames!.map((r) => ({ stream: r.stream, fields: { name: r.name } })),
    carry,
    (c) => continueAsNew<typeof datoramaRename>(rawInput, c),
  );
}

export async function datoramaPatch(rawInput: PatchInput, carry?: OpCarry): Promise<DatoramaResult> {
  const input = validateInput(patchInput, rawInput);
  return changeStreams(
    'patch',
    input,
    () => input.patches ?? input.streams!.map((stream) => ({ stream, fields: input.fields! })),
    carry,
    (c) => continueAsNew<typeof datoramaPatch>(rawInput, c),
  );
}
