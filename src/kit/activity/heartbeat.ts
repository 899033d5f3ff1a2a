/**
 * Heartbeats on a timer while an activity body runs, so a step that takes long without a natural place to
 * report progress (a warehouse commit, a BigQuery job, a Parquet write, a call waiting on a slow API) keeps
 * a short heartbeat timeout honest: a live attempt always beats — and learns of its cancellation — and a
 * killed worker's attempt is retried within that timeout.
 */
import { Context } from '@temporalio/activity';

export interface HeartbeatOptions {
  /** What each heartbeat reports (read at each beat). */
  details?: () => unknown;
  /** The period. Default: a third of the activity's heartbeat timeout (15 s without one), 0.5 s to `maxEveryMs`. */
  everyMs?: number;
  /** Upper bound of the default period (default 15 s). */
  maxEveryMs?: number;
}

/** Runs `fn`, heartbeating from the start and then every period until it settles. */
export async function heartbeating<T>(fn: () => Promise<T>, opts: HeartbeatOptions = {}): Promise<T> {
  const ctx = Context.current();
  const every =
    opts.everyMs ?? Math.max(500, Math.min(opts.maxEveryMs ?? 15_000, (ctx.info.heartbeatTimeoutMs ?? 15_000) / 3));
  const beat = () => (opts.details ? ctx.heartbeat(opts.details()) : ctx.heartbeat());
  beat();
  const timer = setInterval(beat, every);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
