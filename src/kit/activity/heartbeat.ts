/**
 * Heartbeats on a timer while an activity body runs, so a step that takes long without a natural place to
 * report progress (a warehouse commit, a BigQuery job, a Parquet write, a call waiting on a slow API) keeps
 * a short heartbeat timeout honest: a live attempt always beats — and learns of its cancellation — and a
 * killed worker's attempt is retried within that timeout.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

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
  const tick = () => beat(opts.details?.());
  tick();
  const timer = setInterval(tick, every);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Margin under the heartbeat timeout within which an attempt already counts as possibly timed out. */
const STALE_MARGIN_MS = 5_000;
const lastBeat = new WeakMap<Context, number>();
const stale = new WeakSet<Context>();

function checkGap(ctx: Context): void {
  const timeout = ctx.info.heartbeatTimeoutMs;
  const last = lastBeat.get(ctx);
  if (timeout && last !== undefined && Date.now() - last > timeout - STALE_MARGIN_MS) stale.add(ctx);
}

/**
 * Heartbeats (with `details`) and remembers when, by this process's clock: `assertAttemptLive` uses it. The
 * first call of an attempt starts the clock.
 */
export function beat(details?: unknown): void {
  const ctx = Context.current();
  checkGap(ctx);
  lastBeat.set(ctx, Date.now());
  if (details === undefined) ctx.heartbeat();
  else ctx.heartbeat(details);
}

/**
 * Before a write a newer attempt may also make: throws (retryable, type `AttemptStale`) if this attempt may
 * have been given up by the server — cancelled, or more than its heartbeat timeout (less 5 s) since its last
 * `beat()`, once or at any time before (a process stopped by SIGSTOP or a VM pause and resumed: its attempt
 * timed out meanwhile and a successor took over; its own late writes would overwrite the successor's, e.g. a
 * checkpoint going back). An attempt without a heartbeat timeout, or that never beat, is only checked for
 * cancellation.
 */
export function assertAttemptLive(what: string): void {
  const ctx = Context.current();
  if (ctx.cancellationSignal.aborted)
    throw ApplicationFailure.retryable(`${what}: not done, the attempt was cancelled`, 'AttemptStale');
  checkGap(ctx);
  if (stale.has(ctx))
    throw ApplicationFailure.retryable(
      `${what}: not done, attempt ${ctx.info.attempt} went longer than its heartbeat timeout ` +
        `(${ctx.info.heartbeatTimeoutMs} ms) without a heartbeat — a newer attempt may own the work`,
      'AttemptStale',
    );
}
