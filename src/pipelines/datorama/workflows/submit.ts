/**
 * Submitting an action under a permit, and settling an uncertain outcome: check (one call per stream, or per
 * job for a rerun) whether it was applied, then submit again only what was not, in up to UNCERTAIN_ROUNDS
 * rounds spaced by a durable backoff; counts every outcome on the run.
 */
import { patched, sleep } from '@temporalio/workflow';
import type { JobRef, SubmitOutcome } from '../activities/calls';
import { restrictAction, streamOfKey, type SubmitAction } from '../keys';
import { formatDuration } from '../../../shared/durations';
import type { DatoramaRun } from './runner';

/** Rounds of check-and-resubmit an uncertain action gets before it is listed as failed. */
export const UNCERTAIN_ROUNDS = 8;

/**
 * One action per stream (a reconcile call checks one stream) and, for a rerun, one per job: the check reads
 * that job's stat, which says whether it was rerun and gives its dates for the job log (a check of the first
 * job only, before this patch, left the other jobs' dates out of the log).
 */
function perStream(a: SubmitAction, keys: string[]): SubmitAction[] {
  const r = restrictAction(a, keys);
  if (r.kind === 'process') return r.streams.map((s) => ({ ...r, streams: [s] }));
  if (r.kind === 'rerun' && r.jobs.length > 1 && patched('datorama-check-rerun-per-job'))
    return r.jobs.map((j) => ({ ...r, jobs: [j] }));
  return [r];
}

const describe = (a: SubmitAction) =>
  a.kind === 'process'
    ? `process ${a.streams.length} stream(s) ${a.start}..${a.end}`
    : a.kind === 'rerun'
      ? `rerun ${a.jobs.length} job(s) of stream ${a.stream}`
      : `${a.kind} stream ${a.stream}`;

export async function settleAction(
  run: DatoramaRun,
  action: SubmitAction,
  onJobs: ((jobs: JobRef[]) => void) | undefined,
  depth: number,
): Promise<void> {
  let out: SubmitOutcome;
  try {
    out = await run.withPermit(describe(action), (ctx, calls) => calls.datoramaSubmit({ ...ctx, action }));
  } catch (err) {
    return run.failedCall(err, action);
  }
  if (out.kind === 'done') {
    run.c.submitted += out.keys.length;
    run.c.jobs += out.jobs.length;
    onJobs?.(out.jobs);
  } else if (out.kind === 'skipped') run.c.skipped += out.keys.length;
  else if (out.kind === 'failed' && action.kind === 'process' && action.streams.length > 1) {
    if (patched(SPLIT_BATCH_PATCH)) return splitBatch(run, action, out, onJobs);
    // Before the patch: the words of the answer were trusted to name the stream ("Data stream 123 is disabled").
    const bad = Number(/Data stream (\d+)/.exec(out.message ?? '')?.[1]);
    if (!action.streams.includes(bad) || depth >= 5) return failedKeys(run, out);
    failedKeys(run, { ...out, keys: out.keys.filter((k) => streamOfKey(k) === bad) });
    const rest = out.keys.filter((k) => streamOfKey(k) !== bad);
    if (rest.length) await run.submit(restrictAction(action, rest), onJobs, depth + 1);
  } else if (out.kind === 'failed') failedKeys(run, out);
  else if (out.kind === 'uncertain') await checkUncertain(run, action, out.keys, onJobs, depth);
}

/** Since this patch a check that cannot tell yet (a job that may be restarting) is made again after a wait. */
export const RECHECK_PATCH = 'datorama-recheck-maybe';
export const RERUN_CHECK_PERMITS = 'datorama-rerun-check-two-permits';

/**
 * An uncertain outcome: check each stream (or job), count what was applied, submit again what was not, and look
 * again — after the round's durable wait — at what the check could not tell yet.
 */
async function checkUncertain(
  run: DatoramaRun,
  action: SubmitAction,
  keys: string[],
  onJobs: ((jobs: JobRef[]) => void) | undefined,
  depth: number,
): Promise<void> {
  run.progress.add('uncertain', keys.length);
  // An uncertain outcome is checked, and what was not applied is submitted again. A slow warehouse or an
  // attempt timed out before its call makes the next attempt uncertain again: since this patch, more
  // rounds, spaced by a durable backoff (5 s, 10 s, … 2 min), so that an incident of minutes does not
  // fail the action (before it: 3 rounds at once — the full chaos suite's production runs lost actions so).
  const patient = patched('datorama-uncertain-backoff');
  const rounds = patient ? UNCERTAIN_ROUNDS : 3;
  if (depth >= rounds) {
    run.c.failed += keys.length;
    for (const k of keys) run.listFailure({ action: k, message: `outcome still unknown after ${rounds} checks` });
    return;
  }
  if (patient && depth > 0) {
    const wait = Math.min(5_000 * 2 ** (depth - 1), 120_000);
    await sleep(wait, {
      summary: `Datorama: ${describe(action)} still uncertain (round ${depth + 1} of ${rounds}): check again in ${formatDuration(wait)}`,
    });
  }
  const notApplied: string[] = [];
  const stillUnknown: string[] = [];
  for (const single of perStream(action, keys)) {
    let r: SubmitOutcome;
    try {
      // A rerun's check may make two calls (the job's stat, then its stream's jobs): two permits, so the
      // limiter's count is the platform's. Patched: runs recorded before held one.
      const permits = single.kind === 'rerun' && patched(RERUN_CHECK_PERMITS) ? 2 : 1;
      r = await run.withPermit(
        `check whether it was applied: ${describe(single)}`,
        (ctx, calls) => calls.datoramaReconcile({ ...ctx, action: single }),
        permits,
      );
    } catch (err) {
      run.failedCall(err, single);
      continue;
    }
    if (r.kind === 'done') {
      run.c.submitted += r.keys.length;
      run.c.jobs += r.jobs.length;
      run.progress.add('found_applied', r.keys.length);
      onJobs?.(r.jobs);
    } else if (r.kind === 'not-submitted') notApplied.push(...r.keys);
    else if (r.kind === 'skipped') run.c.skipped += r.keys.length;
    else if (r.kind === 'uncertain' && patched(RECHECK_PATCH)) stillUnknown.push(...r.keys);
  }
  if (notApplied.length) await run.submit(restrictAction(action, notApplied), onJobs, depth + 1);
  if (stillUnknown.length)
    await checkUncertain(run, restrictAction(action, stillUnknown), stillUnknown, onJobs, depth + 1);
}

/** Since this patch a refused batch is split and its parts submitted, whatever the answer's words. */
export const SPLIT_BATCH_PATCH = 'datorama-split-refused-batch';

/**
 * A batch is refused as a whole when one of its streams is refused (disabled, unknown…), and the answer need
 * not say which. The batch is split and each part submitted on its own; a stream refused alone is the one
 * refused, listed with its own answer — no stream is failed on the strength of a message's wording. When the
 * words do name a stream of the batch, they only choose the first split (the others, then that one alone:
 * one more call than trusting them); otherwise halves (a bad stream in 100 costs about 14 calls). Every part
 * is a new submission (its own uncertain-outcome rounds from the first); parts shrink, so splitting ends.
 */
async function splitBatch(
  run: DatoramaRun,
  action: Extract<SubmitAction, { kind: 'process' }>,
  out: SubmitOutcome,
  onJobs: ((jobs: JobRef[]) => void) | undefined,
): Promise<void> {
  const streams = [...new Set(out.keys.map(streamOfKey))];
  const named = Number(/\bstreams?\D{0,12}(\d+)/i.exec(out.message ?? '')?.[1]);
  const parts: number[][] =
    streams.length > 1 && streams.includes(named)
      ? [streams.filter((s) => s !== named), [named]]
      : [streams.slice(0, Math.ceil(streams.length / 2)), streams.slice(Math.ceil(streams.length / 2))];
  for (const part of parts.filter((p) => p.length)) {
    const keys = out.keys.filter((k) => part.includes(streamOfKey(k)));
    await run.submit(restrictAction(action, keys), onJobs, 0);
  }
}

function failedKeys(run: DatoramaRun, out: SubmitOutcome): void {
  run.c.failed += out.keys.length;
  for (const k of out.keys)
    run.listFailure({
      action: k,
      stream: streamOfKey(k),
      httpStatus: out.httpStatus,
      message: out.message ?? 'refused',
    });
}
