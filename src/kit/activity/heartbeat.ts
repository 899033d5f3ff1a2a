/**
 * Heartbeats on a timer while an activity body runs, so a step that takes long without a natural place to
 * report progress (a warehouse commit, a BigQuery job, a Parquet write, a call waiting on a slow API) keeps
 * a short heartbeat timeout honest: a live attempt always beats — and learns of its cancellation — and a
 * killed worker's attempt is retried within that timeout. `beat` heartbeats by hand; `assertAttemptLive`
 * keeps an attempt the server may have given up from writing what its successor now owns.
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

/** Margin under a timeout (heartbeat or start-to-close) within which an attempt already counts as given up. */
export const STALE_MARGIN_MS = 5_000;
const lastBeat = new WeakMap<Context, number>();
const localStart = new WeakMap<Context, number>();
const stale = new WeakSet<Context>();

function checkGap(ctx: Context): void {
  const timeout = ctx.info.heartbeatTimeoutMs;
  const last = lastBeat.get(ctx);
  if (timeout && last !== undefined && Date.now() - last > timeout - STALE_MARGIN_MS) stale.add(ctx);
}

/**
 * Heartbeats (with `details`) and remembers when, by this process's clock: `assertAttemptLive` uses it. The
 * first call of an attempt starts its clocks.
 */
export function beat(details?: unknown): void {
  const ctx = Context.current();
  checkGap(ctx);
  if (!localStart.has(ctx)) localStart.set(ctx, Date.now());
  lastBeat.set(ctx, Date.now());
  if (details === undefined) ctx.heartbeat();
  else ctx.heartbeat(details);
}

/**
 * Before a write or call a newer attempt may also make: throws (retryable, type `AttemptStale`) if the server
 * may have given this attempt up, so that its successor is the only one doing it:
 * - it was cancelled — other than by its own worker shutting down (the server still counts that attempt
 *   running, so the step in hand may finish);
 * - it is past, or within 5 s of, its start-to-close deadline — by the server's schedule time and by its
 *   first `beat()`, whichever is earlier (a slow step before the write used the time up);
 * - it went longer than its heartbeat timeout (less 5 s) without a `beat()`, once or at any time before (a
 *   process stopped by SIGSTOP or a VM pause, then resumed: its late writes would overwrite the successor's,
 *   e.g. a checkpoint going back).
 * An attempt that never beat is only checked for cancellation and the server's deadline.
 */
export function assertAttemptLive(what: string): void {
  const ctx = Context.current();
  const i = ctx.info;
  // A worker shutting down cancels its attempts, but the server still counts them running (no successor yet):
  // finishing a step (e.g. a page's checkpoint) is right then. Any other cancellation means another owner.
  const reason = (ctx.cancellationSignal.reason as Error | undefined)?.message;
  if (ctx.cancellationSignal.aborted && reason !== 'WORKER_SHUTDOWN')
    throw ApplicationFailure.retryable(`${what}: not done, the attempt was cancelled`, 'AttemptStale');
  if (i.startToCloseTimeoutMs) {
    const start = Math.min(i.currentAttemptScheduledTimestampMs, localStart.get(ctx) ?? Number.POSITIVE_INFINITY);
    if (Date.now() > start + i.startToCloseTimeoutMs - STALE_MARGIN_MS)
      throw ApplicationFailure.retryable(
        `${what}: not done, attempt ${i.attempt} is past (or within ${STALE_MARGIN_MS} ms of) its start-to-close timeout`,
        'AttemptStale',
      );
  }
  checkGap(ctx);
  if (stale.has(ctx))
    throw ApplicationFailure.retryable(
      `${what}: not done, attempt ${i.attempt} went longer than its heartbeat timeout ` +
        `(${i.heartbeatTimeoutMs} ms) without a heartbeat — a newer attempt may own the work`,
      'AttemptStale',
    );
}
