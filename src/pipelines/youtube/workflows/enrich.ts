/**
 * The youtube-enrich workflow: prepare (distinct IDs → chunk files; only counts come back), then fetch the
 * chunks with bounded concurrency — each activity makes several videos.list calls with keys from the
 * quota ledger — and, when the ledger says every project is spent, stop launching, let the running chunks
 * finish and sleep on a durable timer until the reset. History stays small: after `chunksPerRun` chunks
 * the run drains and continues as new with a cursor (next chunk, chunks to redo, totals). Last, finalize
 * (warehouse, missing IDs, manifest). Progress (IDs done/total, calls, units per key, missing, quota waits,
 * ETA including waits) answers the shared `progress` query.
 */
import { ApplicationFailure, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { sleepUntil } from '../../../kit/sleep';
import type { YoutubeActivities } from '../activities/enrich';
import type { ChunkOutcome } from '../activities/fetch';
import type { Prepared } from '../activities/prepare';
import {
  legacyWorkKeyOf,
  workKeyOf,
  youtubeEnrichInput,
  youtubeEnrichPipeline,
  type YoutubeEnrichInput,
  type YoutubeEnrichResult,
} from '../enrich';
import { formatDuration } from '../../../shared/durations';
import { estimateRemainingMs, planEnrichment } from '../plan';
import {
  describedActivities,
  ProgressTracker,
  tail,
  thousands,
  validateInput,
  workflowNow,
} from '../../../kit/workflow';

const youtubePrepareWith = describedActivities<YoutubeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
});
const youtubePoolWith = describedActivities<YoutubeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
});
const youtubeClearWith = describedActivities<YoutubeActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 10 },
});
const youtubeFetchChunkWith = describedActivities<YoutubeActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: {
    // Transient errors and rate limits: backoff (or the API's Retry-After via nextRetryDelay), for a long while.
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 30,
    nonRetryableErrorTypes: ['YoutubeNoUsableKey', 'YoutubeInvalidRequest', 'InvalidInput'],
  },
});
const youtubeFinalizeWith = describedActivities<YoutubeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** What a run hands to the next one when it continues as new. */
export interface EnrichCursor {
  /** The run chain's work area (absent in cursors of runs started before it was carried: the legacy key). */
  workKey?: string;
  prepared: Prepared;
  projects: number;
  next: number;
  /** Chunks that stopped on a quota wait: fetched first (their done batches are not fetched again). */
  redo: number[];
  totals: {
    idsDone: number;
    fetched: number;
    missing: number;
    calls: number;
    units: number;
    quotaWaits: number;
    quotaExceeded: number;
    chunksDone: number;
    /** Time spent fetching, not waiting (ms): the call rate for the ETA. */
    workMs: number;
  };
  unitsByKey: Record<string, number>;
  invalidKeys: string[];
}

export async function youtubeEnrich(rawInput: YoutubeEnrichInput, cursor?: EnrichCursor): Promise<YoutubeEnrichResult> {
  const input = validateInput(youtubeEnrichInput, rawInput);
  // The work area: parts are part of it (64-bit hash) in runs started since 'longhaul-youtube-enrich-work-key';
  // a chain keeps the area its first run chose (carried in the cursor), and runs begun before keep theirs.
  const workKey = cursor
    ? (cursor.workKey ?? legacyWorkKeyOf(input))
    : patched('longhaul-youtube-enrich-work-key')
      ? workKeyOf(input)
      : legacyWorkKeyOf(input);
  const progress = new ProgressTracker('youtube-enrich', 'IDs');
  const requester = workflowInfo().workflowId;

  const countKeys = async () => {
    const pool = await youtubePoolWith('count the YouTube API keys configured on the worker').youtubePool();
    if (pool.projects === 0 && !input.dryRun)
      throw ApplicationFailure.nonRetryable(
        'No YouTube key configured on the worker: set YOUTUBE_API_KEYS=<gcp-project>:<key>,…',
        'YoutubeNoUsableKey',
      );
    return pool;
  };

  if (!cursor) {
    // Keys are counted before the input is read, so a worker without keys leaves no working files behind
    // (runs started before this change count them after, as their histories recorded).
    const early = patched('youtube-enrich-keys-first') ? await countKeys() : undefined;
    if (input.refresh && patched('longhaul-youtube-enrich-refresh'))
      await youtubeClearWith(
        `--refresh: clear the work area ${workKey} (earlier answers are not reused)`,
      ).youtubeClearWork({
        workKey,
      });
    progress.set({ phase: 'reading and deduplicating the input' });
    const source = input.csv ? `${input.csv} (column ${input.column})` : `${input.ids!.length} inline IDs`;
    const prepared = await youtubePrepareWith(`read and deduplicate the video IDs of ${source}`).youtubePrepare({
      workKey,
      csv: input.csv,
      column: input.column,
      ids: input.ids,
      limit: input.limit,
      chunkSize: 50 * input.callsPerActivity,
    });
    const pool = early ?? (await countKeys());
    cursor = {
      workKey,
      prepared,
      projects: pool.projects,
      next: 0,
      redo: [],
      totals: {
        idsDone: 0,
        fetched: 0,
        missing: 0,
        calls: 0,
        units: 0,
        quotaWaits: 0,
        quotaExceeded: 0,
        chunksDone: 0,
        workMs: 0,
      },
      unitsByKey: {},
      invalidKeys: [],
    };
  }
  const c = cursor;
  const { prepared } = c;
  const plan = planEnrichment({
    distinctIds: prepared.distinct,
    projects: Math.max(1, c.projects), // a dry run without keys plans for one project
    unitsPerDay: input.unitsPerDay,
    costPerCall: input.costPerCall,
  });
  const summary = (extra: Partial<YoutubeEnrichResult> = {}): YoutubeEnrichResult => ({
    dryRun: input.dryRun,
    plan,
    rows: prepared.rows,
    distinct: prepared.distinct,
    duplicates: prepared.duplicates,
    invalid: prepared.invalid,
    fetched: c.totals.fetched,
    missing: c.totals.missing,
    calls: c.totals.calls,
    units: c.totals.units,
    unitsByKey: c.unitsByKey,
    quotaWaits: c.totals.quotaWaits,
    quotaExceeded: c.totals.quotaExceeded,
    invalidKeys: c.invalidKeys,
    shards: c.totals.chunksDone,
    ...extra,
  });
  const report = (phase: string, waiting?: { reason: string; until?: string }) => {
    const t = c.totals;
    for (const k of ['fetched', 'missing', 'calls', 'units', 'quotaWaits', 'quotaExceeded', 'chunksDone'] as const)
      progress.state.counters[k] = t[k];
    for (const [fp, u] of Object.entries(c.unitsByKey)) progress.state.counters[`units:${fp}`] = u;
    progress.state.counters.invalidIds = prepared.invalid;
    progress.state.counters.duplicates = prepared.duplicates;
    const remainingCalls = Math.ceil((prepared.distinct - t.idsDone) / 50);
    const etaMs = estimateRemainingMs(remainingCalls, plan.callsPerDay, t.workMs > 0 ? t.calls / t.workMs : 0);
    progress.state.counters.etaSeconds = Math.round(etaMs / 1000);
    const eta = t.calls > 0 && remainingCalls > 0 ? `, ETA ${formatDuration(etaMs)} incl. quota waits` : '';
    progress.set({
      phase: `${phase}${eta}`,
      done: t.idsDone,
      total: prepared.distinct,
      ...(waiting ? { waiting } : {}),
    });
  };

  if (input.dryRun) {
    progress.set({ phase: 'done (dry run)', done: 0, total: prepared.distinct });
    const planned = summary();
    progress.finish(youtubeEnrichPipeline.summarize(planned));
    return planned;
  }

  // Fetch.
  const redo = [...c.redo];
  const running = new Map<number, Promise<ChunkOutcome>>();
  let launched = 0;
  let pausedUntil: number | undefined;
  let lastMark = workflowNow();
  const stopLaunching = () => launched >= input.chunksPerRun || workflowInfo().continueAsNewSuggested;
  const account = (o: ChunkOutcome) => {
    const now = workflowNow();
    c.totals.workMs += now - lastMark;
    lastMark = now;
    c.totals.calls += o.calls;
    c.totals.units += o.units;
    c.totals.quotaExceeded += o.quotaExceeded;
    for (const [fp, u] of Object.entries(o.unitsByKey)) c.unitsByKey[fp] = (c.unitsByKey[fp] ?? 0) + u;
    c.invalidKeys.push(...o.invalidKeys);
    if (o.status === 'done') {
      c.totals.fetched += o.fetched;
      c.totals.missing += o.missing;
      c.totals.idsDone += o.fetched + o.missing;
      c.totals.chunksDone++;
    }
  };
  report('fetching');
  for (;;) {
    while (pausedUntil === undefined && running.size < input.concurrency && !stopLaunching()) {
      const chunk = redo.length ? redo.shift()! : c.next < prepared.chunks ? c.next++ : undefined;
      if (chunk === undefined) break;
      launched++;
      running.set(
        chunk,
        youtubeFetchChunkWith(
          `fetch chunk ${chunk + 1}/${prepared.chunks} (up to ${thousands(50 * input.callsPerActivity)} IDs, ${input.callsPerActivity} videos.list calls)`,
        ).youtubeFetchChunk({
          workKey,
          outPrefix: input.outPrefix,
          chunk,
          parts: input.parts,
          pool: input.pool,
          unitsPerDay: input.unitsPerDay,
          costPerCall: input.costPerCall,
          requester,
        }),
      );
    }
    if (running.size === 0) {
      if (pausedUntil === undefined) break;
      const until = pausedUntil;
      report(`quota spent on every project: waiting for the reset`, {
        reason: 'YouTube daily quota (resets at midnight America/Los_Angeles)',
        until: new Date(until).toISOString(),
      });
      const keys = Object.keys(c.unitsByKey).map(tail).join(', ') || 'every key';
      await sleepUntil(
        until,
        `quota spent on ${keys}: waiting for the daily reset (midnight PT) at ${new Date(until).toISOString()}, in ${formatDuration(until - workflowNow())}`,
      );
      c.totals.quotaWaits++;
      pausedUntil = undefined;
      lastMark = workflowNow();
      report('fetching');
      continue;
    }
    const o = await Promise.race(running.values());
    running.delete(o.chunk);
    account(o);
    if (o.status === 'wait') {
      redo.unshift(o.chunk);
      pausedUntil = Math.min(pausedUntil ?? Infinity, o.until ?? workflowNow());
    }
    report(pausedUntil === undefined ? 'fetching' : 'quota spent: finishing the running chunks');
  }

  if (redo.length || c.next < prepared.chunks) {
    report('continuing as new');
    await continueAsNew<typeof youtubeEnrich>(rawInput, { ...c, redo });
  }

  report('writing the warehouse table and the manifest');
  const fin = await youtubeFinalizeWith(
    `write ${input.table}, the missing IDs and the manifest under ${input.outPrefix}`,
  ).youtubeFinalize({
    workKey,
    outPrefix: input.outPrefix,
    chunks: prepared.chunks,
    table: input.table,
    summary: {
      source: input.csv ? { csv: input.csv, column: input.column } : { inline: input.ids!.length },
      limit: input.limit ?? null,
      parts: input.parts,
      rows: prepared.rows,
      distinct: prepared.distinct,
      duplicates: prepared.duplicates,
      invalid: prepared.invalid,
      invalidLines: prepared.invalidLines,
    },
  });
  c.totals.fetched = fin.fetched;
  c.totals.missing = fin.missing;
  report('done');
  const result = summary({
    manifest: fin.manifestKey,
    table: fin.table,
    rowsInTable: fin.rowsInTable,
    shards: fin.shards,
  });
  progress.finish(youtubeEnrichPipeline.summarize(result));
  return result;
}
