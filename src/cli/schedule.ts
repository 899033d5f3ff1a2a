/**
 * `longhaul schedule create|list|describe|pause|unpause|trigger|delete`: Temporal Schedules that start a
 * pipeline on a cron. Overlap: SKIP by default — a pipeline run still going when the next is due is not
 * doubled (its work would be replaced anyway); `--overlap buffer-one` queues one run instead. Catch-up
 * window: 1 day by default — after an outage, missed runs of the last day are taken (per the overlap
 * policy), older ones are dropped.
 */
import type { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { parseDuration } from '../shared/durations';
import { InputError } from '../shared/validation';
import type { PipelineDef } from '../pipelines/types';
import type { Config } from '../config';
import { accountOf, runAttributes } from './attributes';
import { describeRun } from './render';
import { missingSearchAttributes } from './search-attributes';

export const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'allow-all': 'ALLOW_ALL',
};

export interface ScheduleCreateOptions {
  id: string;
  cron: string;
  overlap?: string;
  catchup?: string;
  timezone?: string;
  note?: string;
}

export async function createSchedule(
  client: Client,
  pipeline: PipelineDef,
  input: unknown,
  opts: ScheduleCreateOptions,
  /** The client's configuration: the source account's fingerprint goes on each run (LonghaulAccount). */
  config?: Config,
) {
  if (!/^[\w-]{1,200}$/.test(opts.id)) throw new InputError(`--id "${opts.id}": letters, digits, - and _ only`);
  const overlap = OVERLAP[opts.overlap ?? 'skip'];
  if (!overlap) throw new InputError(`--overlap must be one of ${Object.keys(OVERLAP).join(', ')}`);
  const fields = opts.cron.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new InputError(`--cron "${opts.cron}" must have 5 fields (minute hour day month weekday)`);
  let catchupWindow: number;
  try {
    catchupWindow = parseDuration(opts.catchup ?? '1d');
  } catch (e) {
    throw new InputError(`--catchup: ${(e as Error).message}`);
  }
  // A scheduled run may tag itself later (a relative range, once resolved): every attribute must exist.
  const missing = await missingSearchAttributes(client, client.options.namespace);
  if (missing.length)
    throw new InputError(
      `this server has no search attribute ${missing.join(', ')}: run \`longhaul search-attributes\` first`,
    );
  // Scheduled runs carry the same Web UI summary/details and memo as runs started by `longhaul run`.
  const run = describeRun(pipeline, input, config && accountOf(pipeline, config));
  return client.schedule.create({
    scheduleId: opts.id,
    spec: { cronExpressions: [opts.cron], timezone: opts.timezone ?? 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: pipeline.workflowType,
      taskQueue: pipeline.taskQueue,
      args: [input],
      workflowId: `${opts.id}-run`,
      typedSearchAttributes: runAttributes(pipeline, input, config),
      staticSummary: `${run.summary} (schedule ${opts.id})`,
      staticDetails: run.details,
      memo: { pipeline: pipeline.name, schedule: opts.id, input: run.fingerprint, summary: run.summary },
    },
    policies: { overlap, catchupWindow },
    state: { note: opts.note ?? `longhaul ${pipeline.name}` },
    memo: { pipeline: pipeline.name },
  });
}

export async function listSchedules(client: Client) {
  const out: { scheduleId: string; pipeline?: string; paused: boolean; next?: string; note?: string }[] = [];
  for await (const s of client.schedule.list()) {
    out.push({
      scheduleId: s.scheduleId,
      pipeline: (s.memo as { pipeline?: string } | undefined)?.pipeline,
      paused: s.state.paused,
      next: s.info.nextActionTimes[0]?.toISOString(),
      note: s.state.note,
    });
  }
  return out;
}
