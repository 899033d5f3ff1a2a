/**
 * The Datorama pipelines' activities on the main queue (no platform calls): the token's limits and
 * limiter ID (credentials stay here: workflows see a fingerprint), asking the limiter for a permit
 * (signal-with-start), the durable action states of a run key, the changes a run made (for `--undo`)
 * and the job log CSV. The platform calls themselves are in calls.ts, on the datorama queue.
 */
import { Context } from '@temporalio/activity';
import type { Deps } from '../../../activities/deps';
import { fingerprint } from '../../../node/fingerprint';
import { limiterWorkflowId, spacingMs, type PermitRequest } from '../shared';
import { requestRateWindowPermit } from '../../../kit/activity/rate-window';
import { fromArray } from '../../../sinks/warehouse';
import { CHANGES_TABLE, checkJobLog, DatoramaRecords, JOB_LOG_TABLE, writeJobLogCsv } from './tables';
import { createDatoramaCallActivities } from './calls';
import { actionKey, streamOfKey } from '../keys';

export interface DatoramaLimits {
  tokenFingerprint: string;
  limiterId: string;
  perMinute: number;
  perDay: number;
  spacingMs: number;
  /** Continue as new after this many calls in one execution (absent in histories recorded before it). */
  callsPerRun?: number;
  /** How often a run asks the limiter again for a permit not granted yet (absent before it: 5 minutes). */
  reaskMs?: number;
}

export function createDatoramaActivities(deps: Deps) {
  const { config, warehouse, bucket } = deps;
  const records = new DatoramaRecords(warehouse);
  return {
    ...createDatoramaCallActivities(deps),

    async datoramaLimits(): Promise<DatoramaLimits> {
      const fp = fingerprint(config.DATORAMA_TOKEN ?? 'no-token');
      return {
        tokenFingerprint: fp,
        limiterId: limiterWorkflowId(fp),
        perMinute: config.DATORAMA_PER_MINUTE,
        perDay: config.DATORAMA_PER_DAY,
        spacingMs: spacingMs(config.DATORAMA_PER_MINUTE, config.DATORAMA_SPACING_MARGIN_MS),
        callsPerRun: config.DATORAMA_CALLS_PER_RUN,
        reaskMs: config.DATORAMA_REASK_MS,
      };
    },

    /**
     * Signal-with-start: the limiter exists when needed. Idempotent per requestId. A limiter that is not running
     * (terminated, failed, or ended) is started again from its last state: the calls of the last 60 s, the
     * permits held and today's count must survive, or the new limiter would grant what the old one had spent.
     */
    async datoramaRequestPermit(args: {
      limits: DatoramaLimits;
      taskQueue: string;
      request: PermitRequest;
    }): Promise<void> {
      const { limits } = args;
      await requestRateWindowPermit(
        Context.current().client,
        {
          workflowType: 'datoramaLimiter',
          limiterId: limits.limiterId,
          taskQueue: args.taskQueue,
          perMinute: limits.perMinute,
          perDay: limits.perDay,
          spacingMs: limits.spacingMs,
          label: 'Datorama limiter',
        },
        args.request,
      );
    },

    /** What a run key (workflow ID) already did: SUBMITTED actions are skipped, PENDING ones checked. */
    async datoramaActionStates(args: { runKey: string; runId: string }): Promise<{
      submitted: string[];
      submittedByThisRun: string[];
      uncertain: { key: string; attemptAt: number }[];
    }> {
      const rows = await records.actions(args.runKey, args.runId);
      const submitted: string[] = [];
      const submittedByThisRun: string[] = [];
      const uncertain: { key: string; attemptAt: number }[] = [];
      for (const r of rows.values()) {
        if (r.state === 'SUBMITTED') (r.run_id === args.runId ? submittedByThisRun : submitted).push(r.action_key);
        else if (r.state === 'PENDING_SUBMIT') uncertain.push({ key: r.action_key, attemptAt: r.attempt_at ?? 0 });
      }
      return { submitted, submittedByThisRun, uncertain };
    },

    /** The changes a rename/patch run applied: stream → previous values (what `--undo` restores). */
    async datoramaChanges(args: {
      runId: string;
    }): Promise<{ stream: number; previous: Record<string, unknown>; applied: Record<string, unknown> }[]> {
      await warehouse.ensureTable(CHANGES_TABLE);
      await warehouse.ensureTable(JOB_LOG_TABLE);
      // Only changes whose PATCH went through (a refused one changed nothing): a SUBMITTED update ('u:…') of the
      // same run key and stream in the job log.
      const changes = await warehouse.select<{
        stream_id: number;
        run_key: string;
        previous: unknown;
        applied: unknown;
      }>(CHANGES_TABLE, {
        columns: ['stream_id', 'run_key', 'previous', 'applied'],
        where: { run_id: args.runId },
        orderBy: ['stream_id'],
      });
      const runKeys = [...new Set(changes.map((c) => c.run_key))];
      const submitted = await warehouse.select<{ stream_id: number; run_key: string }>(JOB_LOG_TABLE, {
        columns: ['stream_id', 'run_key'],
        where: { run_key: { in: runKeys }, status: 'SUBMITTED', action_key: { prefix: 'u:' } },
      });
      const applied = new Set(submitted.map((s) => `${s.run_key}|${Number(s.stream_id)}`));
      const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
      return changes
        .filter((c) => applied.has(`${c.run_key}|${Number(c.stream_id)}`))
        .map((c) => ({ stream: Number(c.stream_id), previous: json(c.previous), applied: json(c.applied) }));
    },

    /** Rows for actions a rerun skipped (done by an earlier run of the same workflow ID). */
    async datoramaLogSkipped(args: { runKey: string; runId: string; op: string; keys: string[] }): Promise<void> {
      const at = new Date().toISOString();
      await warehouse.load(
        JOB_LOG_TABLE,
        fromArray(
          args.keys.map((k) => ({
            run_key: args.runKey,
            run_id: args.runId,
            row_key: `${k}|skipped`,
            op: args.op,
            action_key: k,
            stream_id: streamOfKey(k) || null,
            status: 'SKIPPED',
            message: 'submitted by an earlier run of this workflow ID',
            at,
          })),
        ),
      );
    },

    /** Records that a stream's jobs were collected (a rerun of the same workflow ID skips it). */
    async datoramaMarkCollected(args: { runKey: string; runId: string; stream: number; jobs: number }): Promise<void> {
      await records.setActions(args.runKey, args.runId, 'collect', [
        {
          key: actionKey.collected(args.stream),
          stream: args.stream,
          state: 'SUBMITTED',
          message: `${args.jobs} jobs`,
        },
      ]);
    },

    /** `--jobLog` names a free key or a longhaul job log (checked before a run's first call). */
    async datoramaCheckJobLog(args: { jobLog: string }): Promise<void> {
      await checkJobLog(bucket, args.jobLog);
    },

    async datoramaWriteJobLog(args: { runKey: string; runId: string; jobLog?: string }) {
      return writeJobLogCsv(warehouse, bucket, args);
    },
  };
}

export type DatoramaActivities = ReturnType<typeof createDatoramaActivities>;
