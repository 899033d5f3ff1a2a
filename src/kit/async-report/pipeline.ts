/**
 * The pipeline of a declarative async-report source: its input (a date range in windows, plus the API's own
 * options as a zod object the API folder gives), its workflow ID (one per source, options and range, so
 * starting the same work twice attaches to the running run) and its summary. Workflow-safe.
 */
import { z } from 'zod';
import { isoDate, splitWindows } from '../../shared/dates';
import { durationMs } from '../../shared/durations';
import { definePipeline, identityHash, type PipelineDef } from '../../pipelines/types';
import type { AsyncReportSpec } from './spec';

/** The input of a source's pipeline: the range and its windows, then the API's own options (spec.options). */
export function asyncReportInput(spec: AsyncReportSpec) {
  return z
    .object({
      from: isoDate.describe('First day of data'),
      to: isoDate.describe('Last day of data'),
      windowDays: z.number().int().min(1).max(366).default(7).describe('Days per report'),
      ...(spec.options?.schema.shape ?? {}),
      pollEvery: durationMs
        .optional()
        .describe(`First wait before a report's status is read (default ${spec.poll.firstMs / 1000}s; then longer)`),
      fromLanded: z
        .boolean()
        .default(false)
        .describe('Load each window from the files an earlier run landed, without asking the API'),
      windowsPerRun: z
        .number()
        .int()
        .min(1)
        .max(500)
        .default(50)
        .describe('Windows per workflow run before it continues as new'),
    })
    .refine((i) => i.from <= i.to, { message: 'must not be after to', path: ['from'] });
}

/** The API's own options out of a validated input (what the create body is built from). */
export function optionsOf(spec: AsyncReportSpec, input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(spec.options?.schema.shape ?? {}).map((k) => [k, input[k]]));
}

export type AsyncReportInput = z.input<ReturnType<typeof asyncReportInput>>;

export interface AsyncReportResult {
  from: string;
  to: string;
  table: string;
  windows: number;
  /** Reports asked (a window whose report failed or expired asks more than one). */
  reports: number;
  recreated: number;
  rows: number;
  files: number;
}

/** The pipeline of a source (spec.pipeline): its `longhaul run` name, workflow type, summary and account. */
export function asyncReportPipeline(spec: AsyncReportSpec): PipelineDef {
  const input = asyncReportInput(spec);
  type Input = z.output<typeof input>;
  return definePipeline({
    name: spec.pipeline.name,
    description: spec.pipeline.description,
    input,
    workflowType: spec.pipeline.workflowType,
    listFlags: spec.options?.listFlags ?? [],
    // A reload from landed files is a run of its own (left out when false: a run keeps its identity).
    workflowId: (i: Input) =>
      `${spec.pipeline.name}-${i.from}-${i.to}-${identityHash({
        options: optionsOf(spec, i),
        windowDays: i.windowDays,
        ...(i.fromLanded ? { fromLanded: true } : {}),
      })}`,
    account: (c) => {
      const token = c.env[spec.env.token.name];
      return token ? { secret: token } : undefined;
    },
    range: (i: Input) => ({ start: i.from, end: i.to }),
    describeInput: (i: Input) =>
      `${spec.label} ${i.from}..${i.to} in ${splitWindows(i.from, i.to, i.windowDays).length} windows of ` +
      `${i.windowDays} days → ${spec.table.name}`,
    summarize: (r: AsyncReportResult) =>
      `${r.from}..${r.to}: ${r.windows} windows, ${r.reports} reports (${r.recreated} asked again), ` +
      `${r.files} files, ${r.rows} rows → ${r.table}`,
    example: { from: '2026-01-01', to: '2026-01-31', ...(spec.options?.example ?? {}) },
  }) as PipelineDef;
}
