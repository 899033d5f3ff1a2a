/**
 * `youtube-enrich`: the details (snippet, contentDetails, status, statistics, topicDetails) of every
 * distinct video ID of a CSV column or an inline list, through videos.list (50 IDs a call) within the
 * daily quota of the configured Google Cloud projects — waiting for the Pacific-midnight reset as often as
 * it takes. Output: gzip NDJSON shards + manifest in the bucket, a flat warehouse table merged on video_id.
 * `longhaul run youtube-enrich --csv youtube_playlog.csv --column song --wait` (a file in the worker's input folder,
 * LONGHAUL_INPUT_DIR, or s3://…); `--dry-run` plans.
 */
import { z } from 'zod';
import { VIDEO_PARTS } from './connector/enums';
import type { EnrichPlan } from './plan';
import type { Config } from '../../config';
import { definePipeline, identityHash, stableHash, type WorkflowOf } from '../types';
import type * as workflows from './workflows';

const prefix = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9_./-]{0,200}$/, 'a bucket prefix: letters, digits, _ - . /')
  .refine((s) => !s.includes('..') && !s.includes('//') && !s.endsWith('/'), 'no "..", "//" or trailing "/"');

export const youtubeEnrichInput = z
  .object({
    /** A CSV: a file inside the worker's input folder (LONGHAUL_INPUT_DIR), or s3://<bucket>/<key> in the bucket. */
    csv: z
      .string()
      .min(1)
      .optional()
      .describe('A CSV of video IDs: a file in the worker’s input folder (LONGHAUL_INPUT_DIR) or s3://bucket/key'),
    /** The CSV column holding video IDs (`song` in the play log). */
    column: z.string().min(1).default('song').describe('The CSV column holding video IDs'),
    /** An inline list of IDs instead of a CSV. */
    ids: z.array(z.string()).min(1).max(50_000).optional().describe('Video IDs inline, instead of a CSV'),
    parts: z
      .array(z.enum(VIDEO_PARTS))
      .min(1)
      .default([...VIDEO_PARTS])
      .describe('videos.list parts to fetch'),
    /** Where shards, manifest and working files go in the bucket. */
    outPrefix: prefix.default('youtube/videos').describe('Bucket prefix of the shards, manifest and working files'),
    /** Keep only the first `limit` distinct IDs of the input (e.g. a 5,000-ID sample). */
    limit: z.number().int().positive().optional().describe('Keep only the first N distinct IDs (a sample)'),
    /** Count distinct IDs, calls, units and days of quota; call nothing. */
    dryRun: z.boolean().default(false).describe('Count distinct IDs, calls, units and quota days; call nothing'),
    /** Chunk activities running at once (each makes its calls one after the other). */
    concurrency: z.number().int().min(1).max(256).default(8).describe('Chunk activities running at once'),
    /** videos.list calls per activity (a chunk is 50 × this many IDs). */
    callsPerActivity: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe('videos.list calls per activity (a chunk is 50 × this many IDs)'),
    /** Daily units of each project (10,000 by default; raised by a quota extension). */
    unitsPerDay: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('Daily units of each Google Cloud project (raised by a quota extension)'),
    /** Units per videos.list call (1 today; the notebook's older model said 11). */
    costPerCall: z.number().int().positive().default(1).describe('Units per videos.list call'),
    /** Quota ledger pool shared with other YouTube pipelines. */
    pool: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,60}$/)
      .default('youtube')
      .describe('Quota ledger pool, shared with the other YouTube pipelines'),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,100}$/)
      .default('youtube_videos')
      .describe('Warehouse table (merged on the video ID)'),
    /**
     * Fetch again even if this input (same source, parts and chunking) was fetched before: the run first
     * clears its work area, so no earlier answer is reused (and a later plain run reuses this fetch).
     */
    refresh: z.boolean().default(false).describe('Fetch again even if this input was fetched before'),
    /** Chunks per run before continuing as new (keeps history small). */
    chunksPerRun: z
      .number()
      .int()
      .min(1)
      .max(5000)
      .default(200)
      .describe('Chunks per workflow run before it continues as new (keeps history small)'),
  })
  .refine((i) => (i.csv === undefined) !== (i.ids === undefined), {
    message: 'give either csv or ids (not both)',
    path: ['csv'],
  });
export type YoutubeEnrichInput = z.input<typeof youtubeEnrichInput>;
export type YoutubeEnrichConfig = z.output<typeof youtubeEnrichInput>;

export interface YoutubeEnrichResult {
  dryRun: boolean;
  plan: EnrichPlan;
  rows: number;
  distinct: number;
  duplicates: number;
  invalid: number;
  fetched: number;
  missing: number;
  calls: number;
  units: number;
  unitsByKey: Record<string, number>;
  quotaWaits: number;
  quotaExceeded: number;
  invalidKeys: string[];
  shards: number;
  manifest?: string;
  table?: string;
  rowsInTable?: number;
}

/** The parts as a set: their order and repeats do not change the work. */
const partsKey = (parts: readonly string[]) => [...new Set(parts)].sort();

/**
 * The working area of an input: the same source, parts and chunking always map to the same place — and
 * anything else to another, so a fetch made with other parts is never reused (64-bit hash).
 */
export const workKeyOf = (i: YoutubeEnrichConfig) =>
  `${i.outPrefix}/_work/${identityHash({ csv: i.csv, column: i.column, ids: i.ids, limit: i.limit, c: i.callsPerActivity, parts: partsKey(i.parts) })}`;

/** The work area of runs started before the parts were part of it (32-bit hash, parts left out). */
export const legacyWorkKeyOf = (i: YoutubeEnrichConfig) =>
  `${i.outPrefix}/_work/${stableHash({ csv: i.csv, column: i.column, ids: i.ids, limit: i.limit, c: i.callsPerActivity })}`;

/** The YouTube pipelines work for the configured set of API keys (in any order). */
export const youtubeAccount = (c: Config) =>
  c.YOUTUBE_API_KEYS?.length ? { secret: [...c.YOUTUBE_API_KEYS].sort().join(',') } : undefined;

export const youtubeEnrichPipeline = definePipeline({
  name: 'youtube-enrich',
  description: 'YouTube video details for every distinct ID of a CSV or list, within the projects’ daily quota',
  input: youtubeEnrichInput,
  workflowType: 'youtubeEnrich' satisfies WorkflowOf<typeof workflows>,
  workflowId: (i) =>
    `youtube-enrich-${i.dryRun ? 'plan-' : ''}${identityHash({
      csv: i.csv,
      column: i.column,
      ids: i.ids,
      limit: i.limit,
      parts: partsKey(i.parts),
      out: i.outPrefix,
    })}`,
  listFlags: ['ids', 'parts'],
  account: youtubeAccount,
  describeInput: (i) =>
    `YouTube details for ${i.csv ? `${i.csv} (column ${i.column})` : `${i.ids!.length} IDs`}` +
    `${i.limit ? `, first ${i.limit}` : ''}${i.dryRun ? ' — dry run (plan only)' : ` → ${i.table}`}`,
  summarize: (r: YoutubeEnrichResult) =>
    r.dryRun
      ? `plan: ${r.distinct} distinct IDs → ${r.plan.calls} calls, ${r.plan.units} units, ${r.plan.days} day(s) of quota with ${r.plan.projects} project(s)`
      : `${r.distinct} distinct IDs: ${r.fetched} fetched, ${r.missing} missing, ${r.invalid} invalid; ${r.calls} calls, ` +
        `${r.units} units, ${r.quotaWaits} quota waits → ${r.manifest} and ${r.table} (${r.rowsInTable} rows)`,
  example: { csv: 'youtube_playlog.csv', column: 'song', limit: 5000 },
});
