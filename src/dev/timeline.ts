/**
 * A run's virtual-time timeline, read from the histories of its runs (continue-as-new chain and child
 * workflows) after a simulation (`longhaul simulate`): its phases (each activity type's first start, last end
 * and count), every wait with its reason and length — durable timers (the summary the workflow gave them:
 * a quota reset, report generation, a Retry-After), permits granted by an entity (a report slot, a rate
 * window), activity retries' backoff, the waits an activity made inside itself for a shared rate (its result's
 * `pacedMs`: their total, drawn from the activity's start) — and the peak number of activities running at once.
 * Pure: history events in, figures out. Node-only (payload decoding).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;

export interface RunHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  events: Event[];
}

export type WaitReason =
  'quota reset' | 'report generation' | 'Retry-After' | 'rate window' | 'slot' | 'backoff' | 'interval' | 'timer';

export interface Wait {
  workflowId: string;
  startMs: number;
  endMs: number;
  reason: WaitReason;
  /** What the workflow said (a timer's summary), or what was waited for. */
  detail: string;
}

export interface Phase {
  activity: string;
  count: number;
  startMs: number;
  endMs: number;
  /** Attempts past the first, over all of this type's executions. */
  retries: number;
}

export interface RunMark {
  atMs: number;
  workflowId: string;
  what: string;
}

export interface Timeline {
  startMs: number;
  endMs: number;
  phases: Phase[];
  waits: Wait[];
  /** Runs started, continued as new, closed. */
  marks: RunMark[];
  waitsByReason: Record<string, { count: number; totalMs: number }>;
  /** Most activities running at once, and when (first time reached). */
  peakActivities: { count: number; atMs: number };
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** A payload's value, or undefined when it cannot be read here (an encoded or foreign payload). */
function decoded(p: unknown): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p as never);
  } catch {
    return undefined;
  }
}

/** An activity's result's `pacedMs` (time it waited inside itself for a shared rate), if it gives one. */
function pacedMsOf(e: Event): number | undefined {
  const v = decoded(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]);
  const paced = (v as { pacedMs?: unknown } | null | undefined)?.pacedMs;
  return typeof paced === 'number' && paced > 0 ? paced : undefined;
}

function summaryOf(e: Event): string | undefined {
  const v = decoded(e.userMetadata?.summary);
  return typeof v === 'string' ? v : undefined;
}

/** The reason a timer with this summary stands for (the words the workflows give their timers). */
export function timerReason(summary: string | undefined): WaitReason {
  const s = summary ?? '';
  if (/quota|reset/i.test(s)) return 'quota reset';
  if (/generating/i.test(s)) return 'report generation';
  if (/\b429\b|retry-after|rate.?limited/i.test(s)) return 'Retry-After';
  if (/window|per minute|limiter/i.test(s)) return 'rate window';
  if (/slot/i.test(s)) return 'slot';
  if (/next tick|interval/i.test(s)) return 'interval';
  return 'timer';
}

/** The reason waiting for this signal stands for (the permit entities' grant signals). */
function grantReason(signal: string): WaitReason | undefined {
  if (/^datoramaPermitGranted$/.test(signal)) return 'rate window';
  if (/granted/i.test(signal)) return 'slot';
  return undefined;
}

/** Builds the timeline of every run given (their events in order). */
export function buildTimeline(runs: readonly RunHistory[]): Timeline {
  const phases = new Map<string, Phase>();
  const waits: Wait[] = [];
  const marks: RunMark[] = [];
  const intervals: [number, number][] = [];
  let startMs = Infinity;
  let endMs = -Infinity;

  for (const run of runs) {
    const byId = new Map<number, Event>();
    const timers = new Map<string, { at: number; summary?: string; timeoutMs: number }>();
    const activityStart = new Map<number, number>(); // scheduled event id → started time
    // Since when the run has been asking for a permit it does not hold yet (re-asks and renewals keep the
    // first ask's time; a grant or a release ends it).
    let asking: number | undefined;
    for (const e of run.events) {
      const id = Number(e.eventId);
      const at = ms(e.eventTime);
      byId.set(id, e);
      startMs = Math.min(startMs, at);
      endMs = Math.max(endMs, at);
      if (e.workflowExecutionStartedEventAttributes) {
        // A run that continues an earlier one: the earlier one's "continued as new" says it.
        if (!e.workflowExecutionStartedEventAttributes.continuedExecutionRunId)
          marks.push({ atMs: at, workflowId: run.workflowId, what: `${run.workflowType} started` });
      } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        marks.push({ atMs: at, workflowId: run.workflowId, what: `${run.workflowType} continued as new` });
      } else if (e.workflowExecutionCompletedEventAttributes) {
        marks.push({ atMs: at, workflowId: run.workflowId, what: `${run.workflowType} completed` });
      } else if (e.workflowExecutionFailedEventAttributes) {
        marks.push({ atMs: at, workflowId: run.workflowId, what: `${run.workflowType} failed` });
      } else if (e.timerStartedEventAttributes) {
        const a = e.timerStartedEventAttributes;
        timers.set(a.timerId ?? '', { at, summary: summaryOf(e), timeoutMs: ms(a.startToFireTimeout) });
      } else if (e.timerFiredEventAttributes || e.timerCanceledEventAttributes) {
        const tid = (e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes)?.timerId ?? '';
        const t = timers.get(tid);
        timers.delete(tid);
        // A timer cancelled at once (a condition met before its timeout) is no wait worth a line, and a
        // periodic one ("every 3m, renew held leases…") runs beside the work rather than holding it up.
        if (t && at - t.at >= 1000 && !/\bevery\b/.test(t.summary ?? ''))
          waits.push({
            workflowId: run.workflowId,
            startMs: t.at,
            endMs: at,
            reason: timerReason(t.summary),
            detail: t.summary ?? `timer of ${Math.round(t.timeoutMs / 1000)} s`,
          });
      } else if (e.activityTaskScheduledEventAttributes) {
        const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '';
        if (/release/i.test(type)) asking = undefined;
        else if (/permit|slot|acquire|request/i.test(type)) asking ??= at;
      } else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) {
        const signal = e.signalExternalWorkflowExecutionInitiatedEventAttributes.signalName ?? '';
        if (/release/i.test(signal)) asking = undefined;
        else asking ??= at;
      } else if (e.activityTaskStartedEventAttributes) {
        const a = e.activityTaskStartedEventAttributes;
        const scheduled = byId.get(Number(a.scheduledEventId));
        const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        activityStart.set(Number(a.scheduledEventId), at);
        const attempts = a.attempt ?? 1;
        if (attempts > 1 && scheduled) {
          waits.push({
            workflowId: run.workflowId,
            startMs: ms(scheduled.eventTime),
            endMs: at,
            reason: 'backoff',
            detail: `${type}: ${attempts - 1} retr${attempts > 2 ? 'ies' : 'y'} before this attempt`,
          });
        }
        const p = phases.get(type) ?? { activity: type, count: 0, startMs: at, endMs: at, retries: 0 };
        p.retries += attempts - 1;
        phases.set(type, p);
      } else if (
        e.activityTaskCompletedEventAttributes ||
        e.activityTaskFailedEventAttributes ||
        e.activityTaskTimedOutEventAttributes ||
        e.activityTaskCanceledEventAttributes
      ) {
        const a =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes!;
        const scheduledId = Number(a.scheduledEventId);
        const type = byId.get(scheduledId)?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        const started = activityStart.get(scheduledId) ?? at;
        intervals.push([started, at]);
        const paced = pacedMsOf(e);
        if (paced !== undefined && paced >= 100)
          waits.push({
            workflowId: run.workflowId,
            startMs: started,
            endMs: started + paced,
            reason: 'rate window',
            detail: `${type}: ${(paced / 1000).toFixed(1)} s in all waiting inside the activity for the workers' shared rate`,
          });
        const p = phases.get(type) ?? { activity: type, count: 0, startMs: started, endMs: at, retries: 0 };
        p.count++;
        p.startMs = Math.min(p.startMs, started);
        p.endMs = Math.max(p.endMs, at);
        phases.set(type, p);
      } else if (e.workflowExecutionSignaledEventAttributes) {
        const name = e.workflowExecutionSignaledEventAttributes.signalName ?? '';
        const reason = grantReason(name);
        const since = asking;
        // A slot is held until released; a rate window's permits come one after another (a run asks for
        // many at once), so the wait for the next one starts at this grant.
        if (reason) asking = reason === 'rate window' ? at : undefined;
        if (reason && since !== undefined && at - since >= 100)
          waits.push({
            workflowId: run.workflowId,
            startMs: since,
            endMs: at,
            reason,
            detail: reason === 'slot' ? 'waiting for a slot (granted by the entity)' : 'waiting for the rate limiter',
          });
      }
    }
  }

  // Peak concurrency: sweep the activities' [start, end] intervals.
  const points = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]) as [number, number][];
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  const peak = { count: 0, atMs: Number.isFinite(startMs) ? startMs : 0 };
  for (const [at, d] of points) {
    now += d;
    if (now > peak.count) Object.assign(peak, { count: now, atMs: at });
  }

  waits.sort((a, b) => a.startMs - b.startMs);
  marks.sort((a, b) => a.atMs - b.atMs);
  const waitsByReason: Timeline['waitsByReason'] = {};
  for (const w of waits) {
    const r = (waitsByReason[w.reason] ??= { count: 0, totalMs: 0 });
    r.count++;
    r.totalMs += w.endMs - w.startMs;
  }
  return {
    startMs: Number.isFinite(startMs) ? startMs : 0,
    endMs: Number.isFinite(endMs) ? endMs : 0,
    phases: [...phases.values()].sort((a, b) => a.startMs - b.startMs),
    waits,
    marks,
    waitsByReason,
    peakActivities: peak,
  };
}
