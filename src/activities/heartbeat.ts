/**
 * Heartbeats on a timer while an activity body runs, so a step that takes long without a natural place to
 * report progress (a warehouse commit, a BigQuery job, a Parquet write) keeps a short heartbeat timeout
 * honest: a live attempt always beats, a killed worker's attempt is retried within that timeout.
 */
import { Context } from '@temporalio/activity';

/**
 * Runs `fn`, heartbeating `details()` (if given) every `everyMs` — by default a third of the activity's
 * heartbeat timeout, between 1 and 15 s.
 */
export async function heartbeating<T>(fn: () => Promise<T>, details?: () => unknown, everyMs?: number): Promise<T> {
  const ctx = Context.current();
  const every = everyMs ?? Math.max(1_000, Math.min(15_000, (ctx.info.heartbeatTimeoutMs ?? 45_000) / 3));
  const beat = () => (details ? ctx.heartbeat(details()) : ctx.heartbeat());
  beat();
  const timer = setInterval(beat, every);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
