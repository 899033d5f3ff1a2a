/**
 * `longhaul simulate`'s pure parts: the timeline read from histories (waits and their reasons, phases, peak
 * concurrency), the `--api` options, the call statistics and the merged wait lines.
 */
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildTimeline, timerReason, type RunHistory } from '../../src/dev/timeline';
import { callStats, parseApiOptions } from '../../src/dev/simulate';
import { mergeWaits, renderSimulation } from '../../src/cli/simulate';
import { youtubeSimulation } from '../../src/pipelines/youtube/sandbox/simulation';
import type { LogEntry } from '../../src/sandbox/server';

const T0 = Date.UTC(2026, 11, 7, 16); // 08:00 Pacific
const at = (ms: number) => ({ seconds: Math.floor((T0 + ms) / 1000), nanos: ((T0 + ms) % 1000) * 1e6 });
const summary = (text: string) => ({ summary: defaultPayloadConverter.toPayload(text) });

/** A history from terse event specs: [offset ms, attributes key, attributes, summary?]. */
function history(workflowId: string, specs: [number, string, Record<string, unknown>, string?][]): RunHistory {
  return {
    workflowId,
    runId: `${workflowId}-run`,
    workflowType: 'wf',
    events: specs.map(([ms, key, attrs, s], i) => ({
      eventId: i + 1,
      eventTime: at(ms),
      [key]: attrs,
      ...(s ? { userMetadata: summary(s) } : {}),
    })) as unknown as RunHistory['events'],
  };
}

describe('simulation timeline', () => {
  it('names each wait from its timer summary or the signal that ended it, and skips periodic timers', () => {
    const run = history('report', [
      [0, 'workflowExecutionStartedEventAttributes', { workflowType: { name: 'wf' } }],
      [10, 'activityTaskScheduledEventAttributes', { activityType: { name: 'requestSlot' } }],
      [20, 'activityTaskStartedEventAttributes', { scheduledEventId: 2, attempt: 1 }],
      [30, 'activityTaskCompletedEventAttributes', { scheduledEventId: 2 }],
      // a renewal every 3 minutes: beside the work, not a wait
      [
        40,
        'timerStartedEventAttributes',
        { timerId: 't1', startToFireTimeout: { seconds: 180 } },
        'slot: every 3m, renew',
      ],
      [180_040, 'timerFiredEventAttributes', { timerId: 't1' }],
      // granted after 10 minutes of asking (the renewal's re-ask keeps the first ask's time)
      [300_000, 'activityTaskScheduledEventAttributes', { activityType: { name: 'requestSlot' } }],
      [600_000, 'workflowExecutionSignaledEventAttributes', { signalName: 'permitGranted' }],
      [
        600_010,
        'timerStartedEventAttributes',
        { timerId: 't2', startToFireTimeout: { seconds: 7200 } },
        'report x still generating: poll 2 in 2h',
      ],
      [7_800_010, 'timerFiredEventAttributes', { timerId: 't2' }],
      // an activity retried twice: its backoff is a wait too
      [7_800_020, 'activityTaskScheduledEventAttributes', { activityType: { name: 'loadReport' } }],
      [7_830_020, 'activityTaskStartedEventAttributes', { scheduledEventId: 11, attempt: 3 }],
      [7_830_520, 'activityTaskCompletedEventAttributes', { scheduledEventId: 11 }],
      [7_830_600, 'workflowExecutionCompletedEventAttributes', {}],
    ]);
    const t = buildTimeline([run]);
    expect(t.waits.map((w) => [w.reason, w.endMs - w.startMs])).toEqual([
      ['slot', 600_000 - 10],
      ['report generation', 7_200_000],
      ['backoff', 30_000],
    ]);
    expect(t.waits[2].detail).toBe('loadReport: 2 retries before this attempt');
    expect(t.phases.map((p) => [p.activity, p.count, p.retries])).toEqual([
      ['requestSlot', 1, 0],
      ['loadReport', 1, 2],
    ]);
    expect(t.marks.map((m) => m.what)).toEqual(['wf started', 'wf completed']);
    expect(t.waitsByReason).toEqual({
      slot: { count: 1, totalMs: 599_990 },
      'report generation': { count: 1, totalMs: 7_200_000 },
      backoff: { count: 1, totalMs: 30_000 },
    });
    expect([t.startMs, t.endMs]).toEqual([T0, T0 + 7_830_600]);
  });

  it('counts activities running at once across runs', () => {
    const chunk = (id: string, from: number, to: number) =>
      history(id, [
        [from - 1, 'activityTaskScheduledEventAttributes', { activityType: { name: 'fetch' } }],
        [from, 'activityTaskStartedEventAttributes', { scheduledEventId: 1, attempt: 1 }],
        [to, 'activityTaskCompletedEventAttributes', { scheduledEventId: 1 }],
      ]);
    const t = buildTimeline([chunk('a', 0, 100), chunk('b', 50, 150), chunk('c', 60, 70), chunk('d', 200, 300)]);
    expect(t.peakActivities).toEqual({ count: 3, atMs: T0 + 60 });
    expect(t.phases).toEqual([{ activity: 'fetch', count: 4, startMs: T0, endMs: T0 + 300, retries: 0 }]);
  });

  it('shows the waits an activity made inside itself for a shared rate (its result’s pacedMs)', () => {
    const result = (v: unknown) => ({ result: { payloads: [defaultPayloadConverter.toPayload(v)] } });
    const run = history('extract', [
      [0, 'activityTaskScheduledEventAttributes', { activityType: { name: 'titeliveExtract' } }],
      [10, 'activityTaskStartedEventAttributes', { scheduledEventId: 1, attempt: 1 }],
      [20_010, 'activityTaskCompletedEventAttributes', { scheduledEventId: 1, ...result({ pacedMs: 12_500 }) }],
      [20_020, 'activityTaskScheduledEventAttributes', { activityType: { name: 'titeliveExtract' } }],
      [20_030, 'activityTaskStartedEventAttributes', { scheduledEventId: 4, attempt: 1 }],
      [20_500, 'activityTaskCompletedEventAttributes', { scheduledEventId: 4, ...result({ pacedMs: 0 }) }],
      [20_600, 'activityTaskScheduledEventAttributes', { activityType: { name: 'other' } }],
      [20_700, 'activityTaskStartedEventAttributes', { scheduledEventId: 7, attempt: 1 }],
      [20_800, 'activityTaskCompletedEventAttributes', { scheduledEventId: 7, ...result('pacedMs') }],
    ]);
    const t = buildTimeline([run]);
    expect(t.waits.map((w) => [w.reason, w.startMs - T0, w.endMs - w.startMs])).toEqual([['rate window', 10, 12_500]]);
    expect(t.waits[0].detail).toBe(
      "titeliveExtract: 12.5 s in all waiting inside the activity for the workers' shared rate",
    );
    expect(t.waitsByReason).toEqual({ 'rate window': { count: 1, totalMs: 12_500 } });
  });

  it('maps the words of the workflows’ timers to reasons', () => {
    expect(timerReason('quota spent on …ab12: waiting for the daily reset (midnight PT)')).toBe('quota reset');
    expect(timerReason('report 2025-01-01..2025-01-30 still generating: poll 3 in 22s')).toBe('report generation');
    expect(timerReason('Titelive 429 on q: page 3 again in 30s (1 in a row)')).toBe('Retry-After');
    expect(timerReason('Datorama: a finished call leaves the 60-second window in 2s')).toBe('rate window');
    expect(timerReason('next tick in 10s')).toBe('interval');
    expect(timerReason(undefined)).toBe('timer');
  });

  it('merges back-to-back waits of one workflow for one reason, not others', () => {
    const w = (workflowId: string, startMs: number, endMs: number) => ({
      workflowId,
      startMs,
      endMs,
      reason: 'report generation' as const,
      detail: 'poll',
    });
    const merged = mergeWaits([w('a', 0, 10_000), w('a', 10_200, 20_000), w('b', 0, 5000), w('a', 60_000, 70_000)]);
    expect(merged.map((m) => [m.workflowId, m.startMs, m.endMs, m.count])).toEqual([
      ['a', 0, 20_000, 2],
      ['b', 0, 5000, 1],
      ['a', 60_000, 70_000, 1],
    ]);
  });
});

describe('simulation options and figures', () => {
  it('fills defaults, parses typed values and names what is wrong', () => {
    const api = parseApiOptions('youtube', youtubeSimulation, ['projects=3', 'errorRate=0.1', 'retryAfter=30s']);
    expect(api).toMatchObject({
      projects: 3,
      keysPerProject: 1,
      unitsPerDay: 10_000,
      errorRate: 0.1,
      retryAfter: 30_000,
    });
    expect(() => parseApiOptions('youtube', youtubeSimulation, ['projectz=3'])).toThrow(
      /--api projectz: not a key of the youtube sandbox \(it accepts: projects, keysPerProject, unitsPerDay/,
    );
    expect(() => parseApiOptions('youtube', youtubeSimulation, ['projects=0'])).toThrow(
      /--api projects=0: expected an integer from 1 to 100/,
    );
    expect(() => parseApiOptions('youtube', youtubeSimulation, ['missingRate=2'])).toThrow(/a fraction from 0 to 1/);
    expect(() => parseApiOptions('youtube', youtubeSimulation, ['projects'])).toThrow(/expected key=value/);
  });

  it('finds the busiest minute in any 60 seconds and counts errors by status', () => {
    const log = (atMs: number, status = 200, route = 'process'): LogEntry => ({
      seq: 0,
      at: T0 + atMs,
      method: 'POST',
      path: '/',
      route,
      status,
    });
    // 3 calls in [40 s, 89 s] — more than in any calendar minute (2 in each).
    const s = callStats([log(0), log(40_000), log(70_000), log(89_000, 429), log(150_000, 503, 'jobs')]);
    expect(s.busiestMinute).toEqual({ calls: 3, from: new Date(T0 + 40_000).toISOString() });
    expect(s.byRoute).toEqual({
      process: { answered: 4, errors: { 429: 1 } },
      jobs: { answered: 1, errors: { 503: 1 } },
    });
    expect(s.busiestUtcDay).toEqual({ calls: 5, day: '2026-12-07' });
  });

  it('renders a report a person can read', () => {
    const text = renderSimulation({
      pipeline: 'youtube-enrich',
      workflowId: 'w',
      status: 'completed',
      summary: '10 IDs',
      virtualStart: new Date(T0).toISOString(),
      virtualEnd: new Date(T0 + 3_600_000).toISOString(),
      virtualMs: 3_600_000,
      wallMs: 2500,
      api: { projects: 1 },
      scaled: ['IDs only'],
      timeline: buildTimeline([]),
      calls: callStats([]),
      usage: { calls: 0 },
      log: '/tmp/x.log',
    });
    expect(text).toContain('Simulated youtube-enrich: completed after 1h of virtual time (2.5 s of wall time)');
    expect(text).toContain('Waits by reason:\n  none');
    expect(text).toContain('  - IDs only');
  });
});
