/**
 * The `youtube-watch` pipeline's vocabulary, shared by the client, the workflow and the activities: the input
 * schema, the quota models, the deterministic workflow ID, the signals/updates/queries and the status shape.
 * Workflow-safe: zod, message definitions and pure code only.
 */
import { z } from 'zod';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { identityHash } from '../../shared/identity-hash';

/** The ledger method name of a YouTube search call. */
export const SEARCH_METHOD = 'search.list';

/**
 * How `search.list` is charged, per Google Cloud project:
 * - `search-bucket` (default; Google's model since 2026-06): search.list has its own bucket of 100 calls a
 *   day at 1 unit a call — its own ledger pool (`youtube-search`), so watching never eats the 10,000 units
 *   the enrichment uses;
 * - `classic`: 100 units a call from the project's 10,000 a day, shared with every other YouTube call (ledger
 *   pool `youtube`, the enrichment's).
 */
export const QUOTA_MODELS = {
  'search-bucket': { pool: 'youtube-search', unitsPerDay: 100, costPerCall: 1 },
  classic: { pool: 'youtube', unitsPerDay: 10_000, costPerCall: 100 },
} as const;
export type QuotaModel = keyof typeof QUOTA_MODELS;

/** Seconds between ticks: at least 1, at most a day. */
export const intervalSeconds = z.number().int().min(1).max(86_400);

const isoInstant = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s) && !Number.isNaN(Date.parse(s)),
    { message: 'an ISO date (2026-01-01) or date-time with its offset (2026-01-01T00:00:00Z)' },
  )
  .meta({ type: 'date YYYY-MM-DD or date-time with offset' });

export const youtubeWatchInput = z.object({
  /** The search query (`q`): one watcher per query. `--query 2026` arrives as a number: taken as text. */
  query: z
    .preprocess(
      (v) => (typeof v === 'number' ? String(v) : v),
      z.string().trim().min(1, 'a non-empty search query').max(500),
    )
    .describe('The search query (one watcher per query)'),
  /** Seconds between ticks (each tick is one activity: one or more search.list pages). */
  intervalSeconds: intervalSeconds.default(10).describe('Seconds between ticks'),
  /** On first start, also fetch the videos published since this date (else: the newest page only). */
  backfillFrom: isoInstant
    .optional()
    .describe('On first start, also fetch the videos published since then (else: the newest page only)'),
  /** Each tick asks for videos published after the newest one stored minus this much (late-indexed videos). */
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .describe('Each tick looks back this far before the newest stored video (late-indexed videos)'),
  /**
   * search.list pages (of `pageSize`) per tick at most; a sweep that needs more continues next tick. At most
   * 10: the API returns about 500 results per query, so a tick never asks past that.
   */
  maxPagesPerTick: z.number().int().min(1).max(10).default(5).describe('search.list pages per tick at most'),
  /** `maxResults` per page (0..50 in the API; 50 spends the fewest calls). */
  pageSize: z.number().int().min(1).max(50).default(50).describe('Results per search.list page (maxResults)'),
  quotaModel: z
    .enum(['search-bucket', 'classic'])
    .default('search-bucket')
    .describe('How search.list is charged: its own 100-call bucket, or 100 of the project’s 10,000 units'),
  /** Ledger pool (default by model: `youtube-search` or `youtube`). */
  pool: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,60}$/, 'lower-case letters, digits and dashes')
    .optional()
    .describe('Quota ledger pool (default by model: youtube-search or youtube)'),
  /** Each project's daily units for search (default by model: 100 calls, or 10,000 units). */
  unitsPerDay: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Each project’s daily units for search (default by model)'),
  /** Units per search.list call (default by model: 1, or 100). */
  costPerCall: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Units per search.list call (default by model: 1 or 100)'),
  /** Ticks per workflow run before continue-as-new (keeps history small: 11 events a tick — activity 3, timer 2, two workflow tasks 6). */
  ticksPerRun: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(200)
    .describe('Ticks per workflow run before it continues as new (keeps history small)'),
  /** Stop (complete) after this many ticks in all; unset = watch until cancelled. */
  stopAfterTicks: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Complete after this many ticks in all (default: watch until cancelled)'),
});
export type YoutubeWatchInput = z.input<typeof youtubeWatchInput>;
export type YoutubeWatchConfig = z.output<typeof youtubeWatchInput>;

/** The quota settings of an input: its model's defaults, overridden field by field. */
export function watchQuota(i: YoutubeWatchConfig): { pool: string; unitsPerDay: number; costPerCall: number } {
  const m = QUOTA_MODELS[i.quotaModel];
  return {
    pool: i.pool ?? m.pool,
    unitsPerDay: i.unitsPerDay ?? m.unitsPerDay,
    costPerCall: i.costPerCall ?? m.costPerCall,
  };
}

/** One watcher per query: `youtube-watch-<slug>-<64-bit hash of the query>` (16 hex digits; 8 before 2026-12). */
export function watchWorkflowId(query: string): string {
  const q = query.trim();
  const slug = q
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `youtube-watch-${slug ? `${slug}-` : ''}${identityHash(q)}`;
}

/**
 * Where a watcher is in the feed. `cursor`: every video published in (floor, cursor] has been stored.
 * `sweep`: a sweep that stopped before reaching the cursor (page limit, quota): it continues from `before`
 * (the oldest publish time it reached) down to the cursor, then the cursor becomes `top`.
 */
export interface WatchPosition {
  cursor?: string;
  sweep?: { top: string; before: string };
}

export type TickOutcome = 'ok' | 'partial' | 'quota-wait' | 'failed';

export interface TickSummary {
  /** Workflow time the tick started (ISO). */
  at: string;
  outcome: TickOutcome;
  pages: number;
  inserted: number;
  merged: number;
  error?: string;
}

export type WatchState = 'ticking' | 'sleeping' | 'paused' | 'waiting-for-quota' | 'stopped';

export interface WatchStatus {
  query: string;
  state: WatchState;
  paused: boolean;
  intervalSeconds: number;
  /** Ticks in all (every run), and in this run. */
  ticks: number;
  ticksThisRun: number;
  /** Workflow runs so far (1 + continue-as-new count). */
  runs: number;
  lastTick?: TickSummary;
  insertedLastTick: number;
  /** Videos of this query in the store (as counted by the last tick), and inserted / merged by this watcher. */
  videosStored: number;
  inserted: number;
  merged: number;
  position: WatchPosition;
  /** Fingerprint of the key the last call used (never the key). */
  keyFingerprint?: string;
  /** ISO: when the next tick is due (sleeping), or when the quota resets (waiting-for-quota). */
  nextTickAt?: string;
  nextReset?: string;
  calls: number;
  units: number;
  quotaWaits: number;
  quotaExceeded: number;
  failedTicks: number;
  invalidKeys: string[];
}

export const pauseWatchSignal = defineSignal('youtubeWatchPause');
export const resumeWatchSignal = defineSignal('youtubeWatchResume');
/** Sets the seconds between ticks (validated: 1..86,400); answers the previous value and when the next tick is due. */
export const setWatchIntervalUpdate = defineUpdate<
  { previous: number; intervalSeconds: number; nextTickAt?: string },
  [number]
>('youtubeWatchSetInterval');
export const watchStatusQuery = defineQuery<WatchStatus>('youtubeWatchStatus');

/** What a watcher returns when it stops (`stopAfterTicks`): its final status. */
export type YoutubeWatchResult = WatchStatus;
