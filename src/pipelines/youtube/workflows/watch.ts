/**
 * The youtube-watch workflow: one long-running watcher per search query (ID `youtube-watch-<slug>-<hash>`).
 * Every `intervalSeconds` of workflow time it runs one tick activity (search.list since its cursor, upserts
 * into the videos store) and sleeps on a durable timer. When the quota ledger says every project is spent,
 * it sleeps until the reset and carries on. Pause/resume are signals, the interval an update (validated),
 * the status a query; `longhaul status` reads the shared `progress` query. It continues as new every
 * `ticksPerRun` ticks (or when the server suggests it), once its handlers have finished, handing on its
 * position (cursor and unfinished sweep), counters, interval and paused state. Timers are never cancelled:
 * an early wake-up (pause, new interval) leaves the pending timer to fire unheard.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { YoutubeWatchActivities, WatchTickResult } from '../activities/watch';
import {
  intervalSeconds as intervalSchema,
  pauseWatchSignal,
  resumeWatchSignal,
  setWatchIntervalUpdate,
  watchQuota,
  watchStatusQuery,
  youtubeWatchInput,
  type WatchStatus,
  type YoutubeWatchInput,
  type YoutubeWatchResult,
} from '../watch-shared';
import { sleepUntil } from '../../../kit/sleep';
import { formatDuration } from '../../../shared/durations';
import { youtubeWatchPipeline } from '../watch';
import { describedActivities, ProgressTracker, validateInput, workflowNow } from '../../../kit/workflow';

const tickWith = describedActivities<YoutubeWatchActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    // Rate limits, 5xx, network: a few attempts with backoff (Retry-After wins); then the tick is recorded
    // as failed and the next one comes at the next interval. No usable key or a refused request: no retry.
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['YoutubeNoUsableKey', 'YoutubeInvalidRequest', 'QuotaLedgerConflict'],
  },
});

/** What a run hands on when it continues as new. */
export interface WatchCarry {
  status: WatchStatus;
  /** Workflow time the last tick started (epoch ms): the next is due an interval later. */
  lastTickStart?: number;
}

export async function youtubeWatch(rawInput: YoutubeWatchInput, carry?: WatchCarry): Promise<YoutubeWatchResult> {
  const input = validateInput(youtubeWatchInput, rawInput);
  const quota = watchQuota(input);
  const requester = workflowInfo().workflowId;
  const s: WatchStatus = carry
    ? { ...carry.status, runs: carry.status.runs + 1, ticksThisRun: 0 }
    : {
        query: input.query,
        state: 'ticking',
        paused: false,
        intervalSeconds: input.intervalSeconds,
        ticks: 0,
        ticksThisRun: 0,
        runs: 1,
        insertedLastTick: 0,
        videosStored: 0,
        inserted: 0,
        merged: 0,
        position: {},
        calls: 0,
        units: 0,
        quotaWaits: 0,
        quotaExceeded: 0,
        failedTicks: 0,
        invalidKeys: [],
      };
  let lastTickStart = carry?.lastTickStart;
  /** Bumped by pause and setInterval: wakes the inter-tick sleep early. */
  let wakes = 0;

  const progress = new ProgressTracker('youtube-watch', 'videos');
  const report = () => {
    const c = progress.state.counters;
    c.ticks = s.ticks;
    c.inserted = s.inserted;
    c.merged = s.merged;
    c.insertedLastTick = s.insertedLastTick;
    c.calls = s.calls;
    c.units = s.units;
    c.quotaWaits = s.quotaWaits;
    c.quotaExceeded = s.quotaExceeded;
    c.failedTicks = s.failedTicks;
    c.intervalSeconds = s.intervalSeconds;
    const phase =
      s.state === 'paused'
        ? 'paused'
        : s.state === 'waiting-for-quota'
          ? 'quota spent on every project: waiting for the reset'
          : s.state === 'stopped'
            ? 'done'
            : `watching "${s.query}" every ${s.intervalSeconds} s` +
              (s.position.cursor ? ` (newest ${s.position.cursor})` : '') +
              (s.position.sweep ? `, catching up from ${s.position.sweep.before}` : '');
    progress.set({
      phase,
      done: s.videosStored,
      total: s.videosStored,
      ...(s.state === 'waiting-for-quota'
        ? { waiting: { reason: 'YouTube search quota (resets at midnight America/Los_Angeles)', until: s.nextReset } }
        : s.state === 'paused'
          ? { waiting: { reason: 'paused (signal youtubeWatchResume to resume)' } }
          : {}),
    });
  };

  setHandler(watchStatusQuery, () => s);
  setHandler(pauseWatchSignal, () => {
    if (s.paused) return;
    s.paused = true;
    wakes++;
  });
  setHandler(resumeWatchSignal, () => {
    s.paused = false;
  });
  setHandler(
    setWatchIntervalUpdate,
    (seconds) => {
      const previous = s.intervalSeconds;
      s.intervalSeconds = seconds;
      wakes++;
      const next = lastTickStart === undefined ? undefined : lastTickStart + seconds * 1000;
      return { previous, intervalSeconds: seconds, ...(next !== undefined ? { nextTickAt: iso(next) } : {}) };
    },
    {
      validator: (seconds) => {
        const r = intervalSchema.safeParse(seconds);
        if (!r.success) throw new Error(`intervalSeconds: an integer from 1 to 86400, got ${JSON.stringify(seconds)}`);
      },
    },
  );

  /** Sleeps `ms` on a timer that is never cancelled; returns early (false) when woken by a signal/update. */
  const nap = async (ms: number): Promise<boolean> => {
    let fired = false;
    // A timer left behind by an early wake-up rejects when the run is cancelled: the condition below (or
    // the next wait) carries the cancellation; this one must not become an unhandled rejection.
    void sleep(ms, { summary: `next tick in ${formatDuration(ms)}` }).then(
      () => (fired = true),
      () => undefined,
    );
    const seen = wakes;
    await condition(() => fired || wakes !== seen);
    return fired;
  };

  const account = (r: WatchTickResult, at: number) => {
    s.ticks++;
    s.ticksThisRun++;
    s.position = r.position;
    s.insertedLastTick = r.inserted;
    s.inserted += r.inserted;
    s.merged += r.merged;
    s.videosStored = r.videosStored;
    s.calls += r.calls;
    s.units += r.units;
    s.quotaExceeded += r.quotaExceeded;
    s.invalidKeys.push(...r.invalidKeys);
    if (r.keyFingerprint) s.keyFingerprint = r.keyFingerprint;
    s.lastTick = {
      at: iso(at),
      outcome: r.status === 'wait' ? 'quota-wait' : r.reached ? 'ok' : 'partial',
      pages: r.pages,
      inserted: r.inserted,
      merged: r.merged,
    };
  };

  report();
  for (;;) {
    if (input.stopAfterTicks !== undefined && s.ticks >= input.stopAfterTicks) break;
    if (s.ticksThisRun >= input.ticksPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof youtubeWatch>(rawInput, { status: { ...s }, lastTickStart });
    }
    if (s.paused) {
      s.state = 'paused';
      delete s.nextTickAt;
      report();
      await condition(() => !s.paused);
      continue;
    }
    // Not due yet (a new run, a shorter interval, a resume): sleep the rest of the interval.
    if (lastTickStart !== undefined) {
      const due = lastTickStart + s.intervalSeconds * 1000;
      if (due > workflowNow()) {
        s.state = 'sleeping';
        s.nextTickAt = iso(due);
        report();
        const fired = await nap(due - workflowNow());
        if (!fired) continue; // paused or new interval: look again
      }
    }

    const at = workflowNow();
    lastTickStart = at;
    s.state = 'ticking';
    delete s.nextTickAt;
    let r: WatchTickResult;
    try {
      const since = s.position.sweep
        ? `catching up below ${s.position.sweep.before}`
        : s.position.cursor
          ? `since ${s.position.cursor}`
          : input.backfillFrom
            ? `since ${input.backfillFrom} (backfill)`
            : 'newest page';
      r = await tickWith(`tick ${s.ticks + 1}: search "${input.query}", ${since}`).youtubeWatchTick({
        query: input.query,
        position: s.position,
        floor: input.backfillFrom,
        overlapSeconds: input.overlapSeconds,
        maxPages: input.maxPagesPerTick,
        pageSize: input.pageSize,
        pool: quota.pool,
        unitsPerDay: quota.unitsPerDay,
        costPerCall: quota.costPerCall,
        requester,
        seenAt: iso(at),
      });
    } catch (err) {
      if (isCancellation(err)) throw err; // the watcher was cancelled (longhaul cancel)
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      // No usable key, or quota settings that contradict the pool's ledger (QuotaLedgerConflict): waiting for
      // the next tick will not help — the watcher fails, naming why. (No history before holds a conflict.)
      if (
        cause instanceof ApplicationFailure &&
        (cause.type === 'YoutubeNoUsableKey' || cause.type === 'QuotaLedgerConflict')
      )
        throw ApplicationFailure.nonRetryable(cause.message, cause.type);
      if (!(err instanceof ActivityFailure)) throw err;
      // A tick that failed after its retries: recorded, and the watcher carries on at the next interval.
      s.ticks++;
      s.ticksThisRun++;
      s.failedTicks++;
      s.insertedLastTick = 0;
      s.lastTick = {
        at: iso(at),
        outcome: 'failed',
        pages: 0,
        inserted: 0,
        merged: 0,
        error: (cause ?? err).message,
      };
      report();
      continue;
    }
    account(r, at);
    if (r.status === 'wait') {
      const until = r.until ?? workflowNow();
      s.state = 'waiting-for-quota';
      s.nextReset = iso(until);
      report();
      await sleepUntil(until, `YouTube search quota spent on every project: wait for the reset at ${s.nextReset}`);
      s.quotaWaits++;
      delete s.nextReset;
      lastTickStart = undefined; // the quota is back: tick at once
      continue;
    }
    report();
  }

  await condition(allHandlersFinished);
  s.state = 'stopped';
  delete s.nextTickAt;
  report();
  progress.finish(youtubeWatchPipeline.summarize(s));
  return s;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
