/** Datorama reads a run makes along its actions: a stream's current values, a workspace's running jobs. */
import { DatoramaError } from '../connector/errors';
import type { ObservedLimits } from '../shared';
import { observedOf, type CallContext, type CallKit } from './call-kit';
import type { DatoramaStream } from '../connector/schemas';

const ACTIVE = new Set(['PENDING', 'IN_PROGRESS']);

/**
 * Jobs PENDING or IN_PROGRESS in a stream listing: from `processStatsCounts` (counts keyed by status, as we read
 * the API); when no stream carries such counts (the assumption false), the streams whose last job is pending or
 * running (`lastRunStatus`) — a lower bound, a stream with several such jobs counting once — rather than none.
 */
export function pendingOf(streams: DatoramaStream[]): number {
  const counted = streams.filter(
    (s) =>
      s.processStatsCounts &&
      Object.keys(s.processStatsCounts).some((k) => ACTIVE.has(k) || k === 'SUCCESS' || k === 'FAILURE'),
  );
  if (counted.length)
    return counted.reduce(
      (n, s) => n + (s.processStatsCounts?.IN_PROGRESS ?? 0) + (s.processStatsCounts?.PENDING ?? 0),
      0,
    );
  return streams.filter((s) => ACTIVE.has(s.lastRunStatus ?? '')).length;
}

export function createDatoramaReadActivities({ client, commonFailure }: CallKit) {
  return {
    /** GET a stream: the current values of `fields` (what a rename/patch records to undo). */
    async datoramaReadStream(
      args: CallContext & { stream: number; fields: string[] },
    ): Promise<{ found: boolean; values: Record<string, unknown>; httpStatus: number; observed?: ObservedLimits }> {
      try {
        const res = await client.getStream(args.stream);
        const s = res.data as Record<string, unknown>;
        return {
          found: true,
          values: Object.fromEntries(args.fields.map((f) => [f, s[f] ?? null])),
          httpStatus: res.status,
          observed: observedOf(res.limits),
        };
      } catch (err) {
        await commonFailure(err, args);
        if (err instanceof DatoramaError && !err.ambiguous && err.status)
          return { found: false, values: {}, httpStatus: err.status };
        throw err;
      }
    },

    /**
     * A workspace's streams with their jobs PENDING or IN_PROGRESS as the API counts them (`processStatsCounts`
     * of the stream listing): the workspace throttle's view, every submitter's jobs included. No write.
     */
    async datoramaWorkspacePending(
      args: CallContext & { workspaceId: number },
    ): Promise<{ pending: number; streams: { id: number; workspaceId: number }[]; observed?: ObservedLimits }> {
      try {
        const res = await client.listStreams(args.workspaceId);
        return {
          pending: pendingOf(res.data),
          streams: res.data.map((s) => ({ id: s.id, workspaceId: s.workspaceId })),
          observed: observedOf(res.limits),
        };
      } catch (err) {
        await commonFailure(err, args);
        throw err;
      }
    },

    /** Bulk status of some streams of a workspace: jobs still PENDING or IN_PROGRESS (workspace throttle). */
    async datoramaRunningJobs(
      args: CallContext & { workspaceId: number; streams: number[] },
    ): Promise<{ running: number; observed?: ObservedLimits }> {
      try {
        const res = await client.streamsStatus(args.workspaceId, args.streams);
        return { running: pendingOf(res.data), observed: observedOf(res.limits) };
      } catch (err) {
        await commonFailure(err, args);
        throw err;
      }
    },
  };
}
