/**
 * `longhaul schedule create|list|describe|pause|unpause|trigger|delete`: Temporal Schedules that start a
 * pipeline on a cron. Overlap: a schedule of relative days (today, yesterday, today-N) allows all by
 * default — each run loads its own days and shares nothing with the others but the report semaphore, so a
 * run still going when the next is due must not cost that day; other schedules SKIP by default (a run of
 * the same fixed input would only replace the same data). Catch-up window: 7 days by default — after an
 * outage, missed runs of the last week are taken. `list` and `describe` warn about any action a schedule
 * missed (outside the catch-up window) or skipped (overlap): those days were not loaded by the schedule.
 */
import type { Client, ScheduleDescription, ScheduleOverlapPolicy } from '@temporalio/client';
import { isRelativeDay } from '../shared/dates';
import { parseDuration } from '../shared/durations';
import { InputError } from '../shared/validation';
import type { PipelineDef } from '../pipelines/types';
import type { Config } from '../config';
import { accountOf } from '../node/account';
import { runAttributes } from './attributes';
import { describeRun } from './render';
import { missingSearchAttributes } from './search-attributes';

export const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'allow-all': 'ALLOW_ALL',
};

/** Default catch-up window: runs missed during an outage of up to a week are still taken. */
export const DEFAULT_CATCHUP = '7d';

/** `allow-all` for inputs of relative days (each run its own days), `skip` otherwise. */
export function defaultOverlap(input: unknown): string {
  const days = input && typeof input === 'object' ? Object.values(input as Record<string, unknown>) : [];
  return days.some((v) => typeof v === 'string' && isRelativeDay(v)) ? 'allow-all' : 'skip';
}

/** Warnings for actions a schedule did not take: each is a run (for relative days: a day) never loaded. */
export function scheduleWarnings(
  info: Pick<ScheduleDescription['info'], 'numActionsMissedCatchupWindow' | 'numActionsSkippedOverlap'>,
): string[] {
  const out: string[] = [];
  if (info.numActionsMissedCatchupWindow > 0)
    out.push(
      `${info.numActionsMissedCatchupWindow} run(s) missed (due while the server was down, older than the catch-up window): start them with \`longhaul run\` or a backfill`,
    );
  if (info.numActionsSkippedOverlap > 0)
    out.push(
      `${info.numActionsSkippedOverlap} run(s) skipped because the previous run was still going (overlap policy): start them with \`longhaul run\` or a backfill`,
    );
  return out;
}

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
  const overlap = OVERLAP[opts.overlap ?? defaultOverlap(input)];
  if (!overlap) throw new InputError(`--overlap must be one of ${Object.keys(OVERLAP).join(', ')}`);
  const fields = opts.cron.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new InputError(`--cron "${opts.cron}" must have 5 fields (minute hour day month weekday)`);
  let catchupWindow: number;
  try {
    catchupWindow = parseDuration(opts.catchup ?? DEFAULT_CATCHUP);
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

export interface ScheduleRow {
  scheduleId: string;
  pipeline?: string;
  paused: boolean;
  next?: string;
  note?: string;
  overlap?: string;
  missedCatchup: number;
  skippedOverlap: number;
  warnings: string[];
}

function row(scheduleId: string, d: ScheduleDescription): ScheduleRow {
  return {
    scheduleId,
    pipeline: (d.memo as { pipeline?: string } | undefined)?.pipeline,
    paused: d.state.paused,
    next: d.info.nextActionTimes[0]?.toISOString(),
    note: d.state.note,
    overlap: d.policies.overlap,
    missedCatchup: d.info.numActionsMissedCatchupWindow,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    warnings: scheduleWarnings(d.info),
  };
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleRow> {
  return row(scheduleId, await client.schedule.getHandle(scheduleId).describe());
}

/** Every schedule, described (the list alone has no missed/skipped counts). */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  const out: ScheduleRow[] = [];
  for (const id of ids) out.push(await describeSchedule(client, id));
  return out;
}
