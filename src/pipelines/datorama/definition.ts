/**
 * The Datorama pipelines (`longhaul run datorama-<op>`): process, rerun, rerun-all, rename, patch
 * (`--undo <runId>`), collect. Input schemas are shared by the client and the workflows; every run
 * writes a job log (warehouse `datorama_job_log` + CSV in the bucket). See docs/datorama.md.
 */
import { z } from 'zod';
import { isoDate } from '../../shared/dates';
import { durationMs } from '../../shared/durations';
import type { Config } from '../../config';
import { definePipeline, identityHash, type PipelineDef, type WorkflowOf } from '../types';
import type * as workflows from './workflows';

const id = z.coerce.number().int().positive();
const ids = z.array(id).min(1);

/** `--jobLog`: a cumulative job log in the bucket that every run naming it adds its rows to (a CSV key). */
const jobLog = z
  .string()
  .regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]+\.csv$/, {
    message: 'a bucket key ending .csv, e.g. logs/datorama_job_log.csv (letters, digits, . _ - /; no .. segment)',
  })
  .optional()
  .describe("Also add this run's rows to this cumulative CSV in the bucket (every run naming it appends)");

/**
 * The workspace throttle (process, rerun, rerun-all): jobs pending or running in a workspace as the API counts
 * them, every submitter's (workflows/throttle.ts).
 */
const throttleFields = {
  workspaceThrottle: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Do not submit to a workspace while it has this many jobs pending or running (as the API counts them)'),
  throttlePoll: durationMs.default(60_000).describe('How often a throttled workspace is counted again'),
};

export const processInput = z
  .object({
    streams: z.array(id).optional().describe('Stream IDs processed over start..end (or give ranges)'),
    start: isoDate.optional().describe('First day processed'),
    end: isoDate.optional().describe('Last day processed'),
    ranges: z
      .array(z.object({ stream: id, start: isoDate, end: isoDate }))
      .optional()
      .describe('Per-stream ranges, as JSON [{"stream":10001,"start":"…","end":"…"}]'),
    dRange: z
      .number()
      .int()
      .min(1)
      .max(366)
      .default(10)
      .describe('Days per processed chunk (45 days at 10 → 5 chunks)'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Streams per call (streams sharing a chunk go together)'),
    ...throttleFields,
    jobLog,
  })
  .refine((i) => (i.streams?.length && i.start && i.end) || i.ranges?.length, {
    message: 'give streams with start and end, or ranges',
    path: ['streams'],
  })
  .refine((i) => [...(i.ranges ?? []), ...(i.start && i.end ? [i] : [])].every((r) => r.start! <= r.end!), {
    message: 'start must not be after end',
    path: ['start'],
  });
export type ProcessInput = z.input<typeof processInput>;

const pair = z.union(
  [
    z
      .string()
      .regex(/^\d+:\d+$/, 'expected stream:job')
      .transform((s) => {
        const [stream, job] = s.split(':').map(Number);
        return { stream, job };
      }),
    z.object({ stream: id, job: id }),
  ],
  { error: 'expected stream:job (e.g. 10001:700002) or { stream, job }' },
);

export const rerunInput = z.object({
  jobs: z.array(pair).min(1).describe('(stream, job) pairs as stream:job'),
  batchSize: z.number().int().min(1).max(1000).default(100).describe('Job IDs per call (one call per stream batch)'),
  ...throttleFields,
  jobLog,
});
export type RerunInput = z.input<typeof rerunInput>;

export const rerunAllInput = z.object({
  streams: ids.describe('Stream IDs whose every job is rerun'),
  ...throttleFields,
  jobLog,
});
export type RerunAllInput = z.input<typeof rerunAllInput>;

const rename = z.union(
  [
    z
      .string()
      .regex(/^\d+=.+$/, 'expected stream=new name')
      .transform((s) => {
        const at = s.indexOf('=');
        return { stream: Number(s.slice(0, at)), name: s.slice(at + 1) };
      }),
    z.object({ stream: id, name: z.string().min(1).max(500) }),
  ],
  { error: 'expected stream=new name (e.g. 10001=FB - Brand FR) or { stream, name }' },
);

export const renameInput = z
  .object({
    renames: z.array(rename).optional().describe('New names as stream=name'),
    undo: z.string().min(1).optional().describe('Restore what the rename/patch run with this run ID changed'),
    jobLog,
  })
  .refine((i) => Boolean(i.renames?.length) !== Boolean(i.undo), { message: 'give renames or undo (not both)' });
export type RenameInput = z.input<typeof renameInput>;

export const patchInput = z
  .object({
    streams: z.array(id).optional().describe('Stream IDs that all get fields'),
    fields: z.record(z.string(), z.unknown()).optional().describe('Stream settings to set, as JSON'),
    patches: z
      .array(z.object({ stream: id, fields: z.record(z.string(), z.unknown()) }))
      .optional()
      .describe('Or one partial config per stream, as JSON [{"stream":10001,"fields":{…}}]'),
    undo: z.string().min(1).optional().describe('Restore what the rename/patch run with this run ID changed'),
    jobLog,
  })
  .refine(
    (i) =>
      [Boolean(i.undo), Boolean(i.patches?.length), Boolean(i.streams?.length && i.fields)].filter(Boolean).length ===
      1,
    { message: 'give streams with fields, or patches, or undo' },
  )
  .refine((i) => !i.fields || Object.keys(i.fields).length > 0, { message: 'fields is empty', path: ['fields'] });
export type PatchInput = z.input<typeof patchInput>;

/** The model objects of a workspace `datorama-collect --metadata` can collect, one table each. */
export const WORKSPACE_MODELS = ['dimensions', 'patterns', 'harmonized', 'calculated'] as const;
export type WorkspaceModel = (typeof WORKSPACE_MODELS)[number];

export const collectInput = z.object({
  workspaces: z.array(id).optional().describe('Only these workspace IDs (default: every permitted one)'),
  streams: z
    .array(id)
    .min(1)
    .optional()
    .describe('Collect the jobs of these streams only (the stream listings still give every stream of a workspace)'),
  metadata: z
    .array(z.enum(WORKSPACE_MODELS))
    .optional()
    .describe('Also collect these workspace model objects (a call and a table each per workspace)'),
  configs: z
    .boolean()
    .default(false)
    .describe('Also collect each stream’s whole configuration, mapping included (one call per stream)'),
  jobs: z.boolean().default(true).describe('Collect jobs too (one call per page of every stream)'),
  pageSize: z.number().int().min(1).max(1000).default(100).describe('Jobs per page'),
  maxCalls: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Refuse to start the job phase if its estimated calls exceed this'),
  jobLog,
});
export type CollectInput = z.input<typeof collectInput>;

export interface DatoramaFailure {
  action: string;
  stream?: number;
  httpStatus?: number;
  message: string;
}

export interface DatoramaResult {
  op: string;
  runKey: string;
  runId: string;
  /** Platform calls this run made, and the estimate made up front. */
  calls: number;
  estimatedCalls: number;
  actions: { total: number; submitted: number; skipped: number; failed: number };
  jobs: number;
  chunks?: number;
  /** The first MAX_FAILURES_LISTED (100) failed actions; `actions.failed` counts all, the job log lists all. */
  failures: DatoramaFailure[];
  /** The run's own CSV; with --jobLog, also the cumulative one (its rows: every run that named it). */
  jobLog: { table: string; csv: string; rows: number; cumulative?: { csv: string; rows: number; runs: number } };
  collected?: {
    workspaces: number;
    streams: number;
    jobs: number;
    metadata?: Partial<Record<WorkspaceModel, number>>;
    /** Stream configurations collected (`configs`). */
    configs?: number;
  };
}

/** One line for a Datorama run (the CLI and the run's outcome memo): at most 5 failures, then how many more. */
export const summarizeDatorama = (r: DatoramaResult) =>
  `${r.op}: ${r.actions.submitted}/${r.actions.total} actions submitted, ${r.actions.skipped} skipped (done before), ` +
  `${r.actions.failed} failed, ${r.jobs} jobs, ${r.calls} calls (estimated ${r.estimatedCalls}); job log ${r.jobLog.csv}` +
  (r.jobLog.cumulative
    ? ` (also in ${r.jobLog.cumulative.csv}: ${r.jobLog.cumulative.rows} rows of ${r.jobLog.cumulative.runs} run(s))`
    : '') +
  (r.collected?.metadata
    ? `; workspace model: ${Object.entries(r.collected.metadata)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`
    : '') +
  (r.collected?.configs !== undefined ? `; ${r.collected.configs} stream configurations` : '') +
  (r.failures.length
    ? `; failures: ${r.failures
        .slice(0, 5)
        .map((f) => `${f.action} (${f.message})`)
        .join(
          '; ',
        )}${r.actions.failed > 5 ? `; and ${r.actions.failed - 5} more (the result lists the first 100; the job log has every call)` : ''}`
    : '');

const problems = (r: DatoramaResult) => r.failures.map((f) => `${f.action}: ${f.message}`);

const common = {
  summarize: summarizeDatorama,
  problems,
  account: (c: Config) => (c.DATORAMA_TOKEN ? { secret: c.DATORAMA_TOKEN } : undefined),
};

export const datoramaProcessPipeline = definePipeline({
  ...common,
  name: 'datorama-process',
  description: 'Datorama: process streams over date ranges in dRange-day chunks, streams sharing a chunk per call',
  input: processInput,
  workflowType: 'datoramaProcess' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['streams'],
  workflowId: (i) =>
    `datorama-process-${identityHash({ s: i.streams, a: i.start, b: i.end, r: i.ranges, d: i.dRange })}`,
  example: { streams: [10001, 10002], start: '2025-01-01', end: '2025-02-14' },
  range: (i) => {
    const ranges = [...(i.ranges ?? []), ...(i.start && i.end ? [{ start: i.start, end: i.end }] : [])];
    if (!ranges.length) return {};
    return {
      start: ranges.map((r) => r.start).reduce((a, b) => (b < a ? b : a)),
      end: ranges.map((r) => r.end).reduce((a, b) => (b > a ? b : a)),
    };
  },
  describeInput: (i) => {
    const ranges = i.ranges?.length ?? 0;
    const streams = i.streams?.length ?? 0;
    const what = [
      streams ? `${streams} stream(s) ${i.start} → ${i.end}` : '',
      ranges ? `${ranges} stream range(s)` : '',
    ];
    return (
      `Datorama process ${what.filter(Boolean).join(' + ')} in chunks of ${i.dRange} days` +
      `${i.workspaceThrottle ? `, at most ${i.workspaceThrottle} jobs running per workspace` : ''}`
    );
  },
});

export const datoramaRerunPipeline = definePipeline({
  ...common,
  name: 'datorama-rerun',
  description: 'Datorama: rerun (stream, job) pairs, one call per stream batch',
  input: rerunInput,
  workflowType: 'datoramaRerun' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['jobs'],
  workflowId: (i) => `datorama-rerun-${identityHash(i.jobs)}`,
  example: { jobs: ['10001:700002', '10001:700003'] },
  describeInput: (i) =>
    `Datorama rerun of ${i.jobs.length} job(s) in ${new Set(i.jobs.map((j) => j.stream)).size} stream(s)`,
});

export const datoramaRerunAllPipeline = definePipeline({
  ...common,
  name: 'datorama-rerun-all',
  description: 'Datorama: rerun every job of the given streams (one call per stream)',
  input: rerunAllInput,
  workflowType: 'datoramaRerunAll' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['streams'],
  workflowId: (i) => `datorama-rerun-all-${identityHash(i.streams)}`,
  example: { streams: [10001, 10002] },
  describeInput: (i) => `Datorama rerun of every job of ${i.streams.length} stream(s)`,
});

export const datoramaRenamePipeline = definePipeline({
  ...common,
  name: 'datorama-rename',
  description: 'Datorama: rename streams in bulk (PATCH), previous names recorded for --undo',
  input: renameInput,
  workflowType: 'datoramaRename' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['renames'],
  workflowId: (i) => (i.undo ? `datorama-undo-${i.undo}` : `datorama-rename-${identityHash(i.renames)}`),
  example: { renames: ['10001=FB - Brand FR', '10002=GA4 - Site'] },
  describeInput: (i) =>
    i.undo ? `Datorama undo of run ${i.undo}` : `Datorama rename of ${i.renames?.length ?? 0} stream(s)`,
});

export const datoramaPatchPipeline = definePipeline({
  ...common,
  name: 'datorama-patch',
  description: 'Datorama: patch stream settings in bulk (PATCH), previous values recorded for --undo',
  input: patchInput,
  workflowType: 'datoramaPatch' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['streams'],
  workflowId: (i) =>
    i.undo ? `datorama-undo-${i.undo}` : `datorama-patch-${identityHash({ s: i.streams, f: i.fields, p: i.patches })}`,
  example: { streams: [10001, 10002], fields: { enabled: false } },
  describeInput: (i) =>
    i.undo
      ? `Datorama undo of run ${i.undo}`
      : i.patches
        ? `Datorama patch of ${i.patches.length} stream(s)`
        : `Datorama patch of ${i.streams?.length ?? 0} stream(s): ${Object.keys(i.fields ?? {}).join(', ')}`,
});

export const datoramaCollectPipeline = definePipeline({
  ...common,
  name: 'datorama-collect',
  description: 'Datorama: workspaces → streams → jobs metadata into warehouse tables (merge on ids), resumable',
  input: collectInput,
  workflowType: 'datoramaCollect' satisfies WorkflowOf<typeof workflows>,
  listFlags: ['workspaces', 'streams', 'metadata'],
  // A run collecting configurations is not the one that collected jobs only (its `c:<stream>` marks would skip
  // every stream): `configs` joins the identity when set (IDs of runs without it unchanged).
  workflowId: (i) =>
    `datorama-collect-${identityHash({ w: i.workspaces ?? 'all', j: i.jobs, ...(i.configs ? { c: true } : {}) })}`,
  example: { jobs: true },
  describeInput: (i) =>
    `Datorama metadata of ${i.workspaces ? `${i.workspaces.length} workspace(s)` : 'every workspace'}: ` +
    `workspaces, streams${i.jobs ? `, jobs (pages of ${i.pageSize})` : ''}` +
    `${i.maxCalls ? `, at most ${i.maxCalls} job calls` : ''}`,
});

export const DATORAMA_PIPELINES = [
  datoramaProcessPipeline,
  datoramaRerunPipeline,
  datoramaRerunAllPipeline,
  datoramaRenamePipeline,
  datoramaPatchPipeline,
  datoramaCollectPipeline,
] as PipelineDef[];
