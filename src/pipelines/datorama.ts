/**
 * The Datorama pipelines (`longhaul run datorama-<op>`): process, rerun, rerun-all, rename, patch
 * (`--undo <runId>`), collect. Input schemas are shared by the client and the workflows; every run
 * writes a job log (warehouse `datorama_job_log` + CSV in the bucket). See docs/datorama.md.
 */
import { z } from 'zod';
import { isoDate } from '../shared/dates';
import { durationMs } from '../shared/durations';
import { TASK_QUEUES } from '../shared/task-queues';
import { definePipeline, identityHash, type PipelineDef } from './types';

const id = z.coerce.number().int().positive();
const ids = z.array(id).min(1);

export const processInput = z
  .object({
    /** Streams processed over [start, end] (or give `ranges`). */
    streams: z.array(id).optional(),
    start: isoDate.optional(),
    end: isoDate.optional(),
    /** Per-stream ranges, for streams with their own dates. */
    ranges: z.array(z.object({ stream: id, start: isoDate, end: isoDate })).optional(),
    /** Days per processed chunk (45 days at 10 → 5 chunks). */
    dRange: z.number().int().min(1).max(366).default(10),
    /** Streams per call (streams sharing a chunk go together). */
    batchSize: z.number().int().min(1).max(1000).default(100),
    /** Do not submit to a workspace while it has this many jobs pending or running. */
    workspaceThrottle: z.number().int().min(1).optional(),
    throttlePoll: durationMs.default(60_000),
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
  /** (stream, job) pairs: `--jobs 10001:700002,10001:700003` or objects. */
  jobs: z.array(pair).min(1),
  /** Job ids per call (one call per stream batch). */
  batchSize: z.number().int().min(1).max(1000).default(100),
});
export type RerunInput = z.input<typeof rerunInput>;

export const rerunAllInput = z.object({ streams: ids });
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
    renames: z.array(rename).optional(),
    /** Restore what the rename/patch run with this run ID changed. */
    undo: z.string().min(1).optional(),
  })
  .refine((i) => Boolean(i.renames?.length) !== Boolean(i.undo), { message: 'give renames or undo (not both)' });
export type RenameInput = z.input<typeof renameInput>;

export const patchInput = z
  .object({
    /** Streams that all get `fields`. */
    streams: z.array(id).optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    /** Or one partial config per stream. */
    patches: z.array(z.object({ stream: id, fields: z.record(z.string(), z.unknown()) })).optional(),
    undo: z.string().min(1).optional(),
  })
  .refine(
    (i) =>
      [Boolean(i.undo), Boolean(i.patches?.length), Boolean(i.streams?.length && i.fields)].filter(Boolean).length ===
      1,
    { message: 'give streams with fields, or patches, or undo' },
  )
  .refine((i) => !i.fields || Object.keys(i.fields).length > 0, { message: 'fields is empty', path: ['fields'] });
export type PatchInput = z.input<typeof patchInput>;

export const collectInput = z.object({
  /** Only these workspaces (default: every permitted one). */
  workspaces: z.array(id).optional(),
  /** Collect jobs too (one call per page of every stream). */
  jobs: z.boolean().default(true),
  pageSize: z.number().int().min(1).max(1000).default(100),
  /** Refuse to start the job phase if its estimated calls exceed this. */
  maxCalls: z.number().int().min(1).optional(),
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
  jobLog: { table: string; csv: string; rows: number };
  collected?: { workspaces: number; streams: number; jobs: number };
}

/** One line for a Datorama run (the CLI and the run's outcome memo): at most 5 failures, then how many more. */
export const summarizeDatorama = (r: DatoramaResult) =>
  `${r.op}: ${r.actions.submitted}/${r.actions.total} actions submitted, ${r.actions.skipped} skipped (done before), ` +
  `${r.actions.failed} failed, ${r.jobs} jobs, ${r.calls} calls (estimated ${r.estimatedCalls}); job log ${r.jobLog.csv}` +
  (r.failures.length
    ? `; failures: ${r.failures
        .slice(0, 5)
        .map((f) => `${f.action} (${f.message})`)
        .join(
          '; ',
        )}${r.actions.failed > 5 ? `; and ${r.actions.failed - 5} more (the result lists the first 100; the job log has every call)` : ''}`
    : '');

const problems = (r: DatoramaResult) => r.failures.map((f) => `${f.action}: ${f.message}`);

const common = { taskQueue: TASK_QUEUES.main, summarize: summarizeDatorama, problems };

export const datoramaProcessPipeline = definePipeline({
  ...common,
  name: 'datorama-process',
  description: 'Datorama: process streams over date ranges in dRange-day chunks, streams sharing a chunk per call',
  input: processInput,
  workflowType: 'datoramaProcess',
  listFlags: ['streams'],
  workflowId: (i) =>
    `datorama-process-${identityHash({ s: i.streams, a: i.start, b: i.end, r: i.ranges, d: i.dRange })}`,
  example: { streams: [10001, 10002], start: '2025-01-01', end: '2025-02-14' },
});

export const datoramaRerunPipeline = definePipeline({
  ...common,
  name: 'datorama-rerun',
  description: 'Datorama: rerun (stream, job) pairs, one call per stream batch',
  input: rerunInput,
  workflowType: 'datoramaRerun',
  listFlags: ['jobs'],
  workflowId: (i) => `datorama-rerun-${identityHash(i.jobs)}`,
  example: { jobs: ['10001:700002', '10001:700003'] },
});

export const datoramaRerunAllPipeline = definePipeline({
  ...common,
  name: 'datorama-rerun-all',
  description: 'Datorama: rerun every job of the given streams (one call per stream)',
  input: rerunAllInput,
  workflowType: 'datoramaRerunAll',
  listFlags: ['streams'],
  workflowId: (i) => `datorama-rerun-all-${identityHash(i.streams)}`,
  example: { streams: [10001, 10002] },
});

export const datoramaRenamePipeline = definePipeline({
  ...common,
  name: 'datorama-rename',
  description: 'Datorama: rename streams in bulk (PATCH), previous names recorded for --undo',
  input: renameInput,
  workflowType: 'datoramaRename',
  listFlags: ['renames'],
  workflowId: (i) => (i.undo ? `datorama-undo-${i.undo}` : `datorama-rename-${identityHash(i.renames)}`),
  example: { renames: ['10001=FB - Brand FR', '10002=GA4 - Site'] },
});

export const datoramaPatchPipeline = definePipeline({
  ...common,
  name: 'datorama-patch',
  description: 'Datorama: patch stream settings in bulk (PATCH), previous values recorded for --undo',
  input: patchInput,
  workflowType: 'datoramaPatch',
  listFlags: ['streams'],
  workflowId: (i) =>
    i.undo ? `datorama-undo-${i.undo}` : `datorama-patch-${identityHash({ s: i.streams, f: i.fields, p: i.patches })}`,
  example: { streams: [10001, 10002], fields: { enabled: false } },
});

export const datoramaCollectPipeline = definePipeline({
  ...common,
  name: 'datorama-collect',
  description: 'Datorama: workspaces → streams → jobs metadata into warehouse tables (merge on ids), resumable',
  input: collectInput,
  workflowType: 'datoramaCollect',
  listFlags: ['workspaces'],
  workflowId: (i) => `datorama-collect-${identityHash({ w: i.workspaces ?? 'all', j: i.jobs })}`,
  example: { jobs: true },
});

export const DATORAMA_PIPELINES = [
  datoramaProcessPipeline,
  datoramaRerunPipeline,
  datoramaRerunAllPipeline,
  datoramaRenamePipeline,
  datoramaPatchPipeline,
  datoramaCollectPipeline,
] as PipelineDef[];
