/**
 * The quota reset rule: midnight America/Los_Angeles computed without Intl, checked against Intl's time-zone
 * database hour by hour across the March and November daylight-saving changes, and the other rules.
 */
import { describe, expect, it } from 'vitest';
import {
  nextReset,
  pacificDay,
  pacificDstBounds,
  pacificOffsetMs,
  periodStart,
} from '../../src/kit/limits/quota-reset';

const PACIFIC = { kind: 'pacific-midnight' } as const;
const HOUR = 3_600_000;

/** Pacific wall-clock time of an instant, from Intl (the reference the pure code must agree with). */
const fmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const wall = (ms: number) => fmt.format(new Date(ms)).replace(', ', 'T');

describe('Pacific midnight reset', () => {
  it('knows the 2026 DST bounds', () => {
    expect(new Date(pacificDstBounds(2026).start).toISOString()).toBe('2026-03-08T10:00:00.000Z');
    expect(new Date(pacificDstBounds(2026).end).toISOString()).toBe('2026-11-01T09:00:00.000Z');
    expect(new Date(pacificDstBounds(2027).start).toISOString()).toBe('2027-03-14T10:00:00.000Z');
    expect(new Date(pacificDstBounds(2027).end).toISOString()).toBe('2027-11-07T09:00:00.000Z');
  });

  it('resets at 08:00 UTC before the March change and 07:00 UTC after it', () => {
    // Saturday 7 March 2026, 15:00 PST → next reset Sunday 8 March 00:00 PST = 08:00 UTC.
    expect(new Date(nextReset(PACIFIC, Date.parse('2026-03-07T23:00:00Z'))).toISOString()).toBe(
      '2026-03-08T08:00:00.000Z',
    );
    // Sunday 8 March, 12:00 PDT (after the change) → Monday 9 March 00:00 PDT = 07:00 UTC: a 23-hour day.
    const sunday = Date.parse('2026-03-08T19:00:00Z');
    expect(periodStart(PACIFIC, sunday)).toBe(Date.parse('2026-03-08T08:00:00Z'));
    expect(nextReset(PACIFIC, sunday)).toBe(Date.parse('2026-03-09T07:00:00Z'));
  });

  it('has a 25-hour day on the November change', () => {
    const sunday = Date.parse('2026-11-01T20:00:00Z'); // 12:00 PST
    expect(periodStart(PACIFIC, sunday)).toBe(Date.parse('2026-11-01T07:00:00Z')); // 00:00 PDT
    expect(nextReset(PACIFIC, sunday)).toBe(Date.parse('2026-11-02T08:00:00Z')); // 00:00 PST
    // Just before the change the offset is −7 h, just after −8 h.
    expect(pacificOffsetMs(Date.parse('2026-11-01T08:59:59Z'))).toBe(-7 * HOUR);
    expect(pacificOffsetMs(Date.parse('2026-11-01T09:00:00Z'))).toBe(-8 * HOUR);
  });

  it('rolls over the year', () => {
    expect(nextReset(PACIFIC, Date.parse('2026-12-31T20:00:00Z'))).toBe(Date.parse('2027-01-01T08:00:00Z'));
    expect(pacificDay(Date.parse('2027-01-01T07:59:59Z'))).toBe('2026-12-31');
    expect(pacificDay(Date.parse('2027-01-01T08:00:00Z'))).toBe('2027-01-01');
  });

  for (const [label, from] of [
    ['March 2026', '2026-03-05T00:00:00Z'],
    ['November 2026', '2026-10-29T00:00:00Z'],
    ['March 2028', '2028-03-09T00:00:00Z'],
    ['November 2028', '2028-11-02T00:00:00Z'],
  ] as const) {
    it(`agrees with Intl every 17 minutes for a week around ${label}`, () => {
      const t0 = Date.parse(from);
      for (let t = t0; t < t0 + 7 * 24 * HOUR; t += 17 * 60_000) {
        const next = nextReset(PACIFIC, t);
        const start = periodStart(PACIFIC, t);
        expect(next).toBeGreaterThan(t);
        expect(start).toBeLessThanOrEqual(t);
        expect(wall(next)).toMatch(/T00:00:00$/);
        expect(wall(start)).toMatch(/T00:00:00$/);
        expect(wall(next - 1000).slice(0, 10)).toBe(wall(t).slice(0, 10));
        expect(pacificDay(t)).toBe(wall(t).slice(0, 10));
        expect([23, 24, 25]).toContain((next - start) / HOUR);
      }
    });
  }

  it('supports UTC midnight and fixed intervals', () => {
    const t = Date.parse('2026-06-10T13:45:00Z');
    expect(nextReset({ kind: 'utc-midnight' }, t)).toBe(Date.parse('2026-06-11T00:00:00Z'));
    const rule = { kind: 'interval', periodMs: HOUR, anchorMs: Date.parse('2026-01-01T00:30:00Z') } as const;
    expect(nextReset(rule, t)).toBe(Date.parse('2026-06-10T14:30:00Z'));
    expect(periodStart(rule, t)).toBe(Date.parse('2026-06-10T13:30:00Z'));
  });
});
