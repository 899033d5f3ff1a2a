/**
 * The Datorama platform-call activities, run by the worker of the `datorama` task queue (its server-side
 * activity rate limit is the backstop of the durable limiter). Each makes at most ONE platform call.
 * `datoramaSubmit` (process, rerun, rerun-all, patch) records the action as PENDING_SUBMIT before the
 * call and its outcome after; an attempt that finds an unanswered PENDING_SUBMIT does not call again but
 * reports the action uncertain, and `datoramaReconcile` then looks (one call) whether it was applied.
 * The PENDING_SUBMIT row is this attempt's claim: it names its owner (workflow run, activity ID, attempt)
 * and is read back after it is written; the call happens only if every claim read back is this attempt's,
 * and only while the attempt is neither cancelled nor past (or near) its start-to-close deadline — a
 * timed-out attempt that still runs (a slow warehouse) never calls after its successor started.
 * Every call activity heartbeats while it runs, and checks the attempt is still live right before any
 * HTTP call (the call kit's guarded client).
 * A 429 → the limiter is told to hold everyone, and the activity fails with `nextRetryDelay` = the reset
 * the headers give.
 *
 * Files: call-kit.ts (context, guarded client, records, 429/auth), submit.ts (submit + check), reads.ts,
 * collect.ts (table-driven metadata calls).
 */
import type { Deps } from '../../../activities/deps';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { mergeActivities } from '../../../kit/activity/registry';
import { createCallKit } from './call-kit';
import { createDatoramaSubmitActivities } from './submit';
import { createDatoramaReadActivities } from './reads';
import { createDatoramaCollectActivities } from './collect';

export type { SubmitAction } from '../keys';
export { attemptOwner, assertAttemptLive } from './call-kit';
export type { CallContext, JobRef, SubmitOutcome } from './call-kit';

export function createDatoramaCallActivities(deps: Pick<Deps, 'config' | 'warehouse'>) {
  const kit = createCallKit(deps);
  const activities = mergeActivities({
    'datorama submit': createDatoramaSubmitActivities(kit),
    'datorama reads': createDatoramaReadActivities(kit),
    'datorama collect': createDatoramaCollectActivities(kit),
  });
  // Every call activity heartbeats every few seconds while it runs (they are scheduled with a heartbeat
  // timeout, and the server's cancellation reaches them soon).
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...a: unknown[]) =>
        heartbeating(() => (fn as (...x: unknown[]) => Promise<unknown>)(...a), { maxEveryMs: 5_000 }),
    ]),
  ) as typeof activities;
}

export type DatoramaCallActivities = ReturnType<typeof createDatoramaCallActivities>;
