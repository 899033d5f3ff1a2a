/**
 * Checkpointed pages: the one loop of an activity that reads an API page by page (or batch by batch), writes
 * what each page served, and must resume — after a worker kill, a retry, a cancellation — at the first page
 * not yet written, never one too far (a gap) and at worst one page back (written again, idempotently).
 *
 * A checkpoint `C` says what is written. It travels in the heartbeat's details and, when the last heartbeat
 * may be throttled away or the work outlives its attempts, in a stored copy (a small bucket object, or
 * what the written pages themselves show). An attempt starts from the newest of the two (else `initial`);
 * after each page it checks it still owns the work (`assertAttemptLive`: a stale attempt must not take the
 * checkpoint back), stores the new checkpoint, then heartbeats it. Between pages it stops if cancelled.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import { assertAttemptLive, beat } from './heartbeat';

export interface CheckpointStore<C> {
  read(): Promise<C | undefined>;
  /** Absent when the page's own write is the record (e.g. a batch file whose existence says it is done). */
  write?(checkpoint: C): Promise<void>;
}

/**
 * What one page did: go on from a new checkpoint, or stop with the activity's result — after storing the
 * checkpoint `next` when the stopping page wrote something (the last page of a query).
 */
export type PageStep<C, R> = { next: C } | { stop: R; next?: C };

export interface PageLoop<C, R> {
  /** Names the work in failures ("Titelive 2024-01-01..2024-01-31"). */
  what: string;
  /** The checkpoint when nothing is written yet. */
  initial: C;
  store?: CheckpointStore<C>;
  /** Whether `a` is further on than `b` (which of the heartbeat's and the stored checkpoint to resume from). */
  newer(a: C, b: C): boolean;
  /**
   * One page from `checkpoint`: fetch, write what it served (idempotently), and return the checkpoint after it
   * — or stop (done, or a wait the workflow sleeps out durably).
   */
  page(checkpoint: C, signal: AbortSignal): Promise<PageStep<C, R>>;
}

/** The checkpoint an attempt resumes from: the newest of its heartbeat's and the stored one, else `initial`. */
export async function resumeCheckpoint<C>(
  loop: Pick<PageLoop<C, unknown>, 'initial' | 'store' | 'newer'>,
): Promise<{ checkpoint: C; resumed: boolean }> {
  const hb = Context.current().info.heartbeatDetails as C | undefined;
  const stored = await loop.store?.read();
  const found = [hb, stored].filter((c): c is C => c !== undefined && c !== null);
  if (!found.length) return { checkpoint: loop.initial, resumed: false };
  return { checkpoint: found.reduce((best, c) => (loop.newer(c, best) ? c : best)), resumed: true };
}

/** Runs `loop` from where the last attempt left off until a page says stop; returns that page's result. */
export async function checkpointedPages<C, R>(loop: PageLoop<C, R>): Promise<R> {
  const ctx = Context.current();
  let { checkpoint } = await resumeCheckpoint(loop);
  beat(checkpoint); // starts this attempt's heartbeat clock (assertAttemptLive)
  for (;;) {
    // Cancelled (run cancelled, worker shutting down): stop between pages; the checkpoint stays.
    if (ctx.cancellationSignal.aborted)
      throw ctx.cancellationSignal.reason ?? new CancelledFailure(`${loop.what}: cancelled`);
    const step = await loop.page(checkpoint, ctx.cancellationSignal);
    if (step.next !== undefined) {
      checkpoint = step.next;
      if (loop.store?.write) {
        // A stale attempt (its worker paused past the heartbeat timeout, then resumed) stores nothing: its
        // older checkpoint would take the successor's back.
        assertAttemptLive(`${loop.what}: store the checkpoint`);
        await loop.store.write(checkpoint);
      }
      beat(checkpoint);
    }
    if ('stop' in step) return step.stop;
  }
}
