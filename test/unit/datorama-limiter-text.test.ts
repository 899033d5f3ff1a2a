/**
 * The Datorama limiter's own account of why it waits (its timers' summaries on the Web UI timeline) and its
 * current details: pure functions of its state, checked here for each reason a permit can wait.
 */
import { describe, expect, it } from 'vitest';
import type { LimiterState } from '../../src/pipelines/datorama/shared';
import { DAY_MS } from '../../src/pipelines/datorama/shared';
import { limiterDetails, nextPermit } from '../../src/pipelines/datorama/workflows/limiter';

const T0 = Date.parse('2026-03-10T12:00:00.000Z');
const day = Math.floor(T0 / DAY_MS);

function state(patch: Partial<LimiterState> = {}): LimiterState {
  return {
    perMinute: 60,
    perDay: 20_000,
    spacingMs: 1_050,
    recent: [],
    waiting: [{ requestId: 'w1', requesterId: 'run-1', since: T0 }],
    lastGrantAt: T0 - 400,
    day,
    usedToday: 12,
    blockedUntil: 0,
    granted: 12,
    peakInWindow: 3,
    ...patch,
  };
}

const calls = (n: number, releasedAt: (i: number) => number | undefined) =>
  Array.from({ length: n }, (_, i) => ({
    requestId: `r${i}`,
    requesterId: 'run-1',
    grantedAt: T0 - 59_000 + i,
    releasedAt: releasedAt(i),
  }));

describe('the Datorama limiter explains its waits', () => {
  it('spacing: the next permit comes one spacing after the last grant', () => {
    const n = nextPermit(state());
    expect(n.at).toBe(T0 - 400 + 1_050);
    expect(n.why('650ms')).toBe('next permit in 650ms: calls are spaced 1s apart (60/min)');
  });

  it('a full 60-second window: the next permit comes when the earliest finished call leaves it', () => {
    const s = state({ recent: calls(60, (i) => (i < 58 ? T0 - 50_000 + i * 10 : undefined)) });
    const n = nextPermit(s);
    expect(n.at).toBe(T0 - 50_000 + 60_000 + 1);
    expect(n.why('10s')).toBe('60/min window full (60 calls in the last 60 s): next permit in 10s');
  });

  it('a full window of calls still running: only a release can free a slot', () => {
    const n = nextPermit(state({ recent: calls(60, () => undefined) }));
    expect(n.at).toBe(Infinity);
  });

  it('the daily cap: the next permit comes at 00:00 UTC', () => {
    const n = nextPermit(state({ usedToday: 20_000 }));
    expect(n.at).toBe((day + 1) * DAY_MS);
    expect(n.why('12h')).toBe(
      'daily cap reached (20,000 of 20,000 calls today): next permit at the reset, 00:00 UTC, in 12h',
    );
  });

  it('the API said to wait (a 429): the next permit comes at the reset it gave', () => {
    const n = nextPermit(state({ blockedUntil: T0 + 30_000 }));
    expect(n.at).toBe(T0 + 30_000);
    expect(n.why('30s')).toMatch(/^next permit in 30s: the API said to wait \(a 429, or 0 calls remaining\)/);
  });

  it('the latest constraint wins when several hold', () => {
    const n = nextPermit(state({ blockedUntil: T0 + 30_000, usedToday: 20_000 }));
    expect(n.at).toBe((day + 1) * DAY_MS);
  });

  it('current details: granted, running, waiting, the window and the day', () => {
    const s = state({ recent: calls(3, (i) => (i === 0 ? T0 - 1_000 : undefined)), blockedUntil: T0 + 5_000 });
    expect(limiterDetails(s, T0)).toBe(
      [
        '**12 permits granted** · 2 call(s) running · 1 waiting',
        'last 60 s: 3 of 60 (peak 3) · today: 12 of 20,000 (UTC day)',
        'blocked by the API until 2026-03-10T12:00:05.000Z',
      ].join('\n\n'),
    );
    expect(limiterDetails(state(), T0)).not.toContain('blocked');
  });
});
