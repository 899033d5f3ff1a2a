/**
 * When a quota period resets, as pure arithmetic (no Intl, no time-zone database): usable in workflows,
 * activities and sandboxes alike. YouTube quotas reset at midnight America/Los_Angeles; the US rule
 * (since 2007) puts daylight saving time from the second Sunday of March, 02:00 PST, to the first Sunday
 * of November, 02:00 PDT. Other APIs reset at UTC midnight or on a fixed interval.
 */
import { z } from 'zod';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const resetRuleSchema = z.discriminatedUnion('kind', [
  /** Midnight America/Los_Angeles (YouTube Data API). */
  z.object({ kind: z.literal('pacific-midnight') }),
  /** Midnight UTC. */
  z.object({ kind: z.literal('utc-midnight') }),
  /** Every `periodMs` from `anchorMs` (epoch ms). */
  z.object({
    kind: z.literal('interval'),
    periodMs: z.number().int().positive(),
    anchorMs: z.number().int().default(0),
  }),
]);
export type ResetRule = z.output<typeof resetRuleSchema>;

/** Day of month (1-based) of the n-th Sunday (n ≥ 1) of a month (month 0-based). */
function nthSunday(year: number, month: number, n: number): number {
  const firstDow = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - firstDow) % 7) + 7 * (n - 1);
}

/** The UTC instants DST starts and ends in a year for US Pacific time. */
export function pacificDstBounds(year: number): { start: number; end: number } {
  return {
    start: Date.UTC(year, 2, nthSunday(year, 2, 2), 2 + 8), // 02:00 PST = 10:00 UTC
    end: Date.UTC(year, 10, nthSunday(year, 10, 1), 2 + 7), // 02:00 PDT = 09:00 UTC
  };
}

/** UTC offset of Pacific time at an instant, in ms (−7 h in summer, −8 h in winter). */
export function pacificOffsetMs(epochMs: number): number {
  const { start, end } = pacificDstBounds(new Date(epochMs).getUTCFullYear());
  return epochMs >= start && epochMs < end ? -7 * HOUR : -8 * HOUR;
}

/** The instant of 00:00 Pacific on a calendar day (month 0-based). DST never changes at midnight. */
function pacificMidnight(year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month, day); // local wall-clock time, written as if it were UTC
  const y = new Date(wall).getUTCFullYear();
  const dst = wall >= Date.UTC(y, 2, nthSunday(y, 2, 2), 2) && wall < Date.UTC(y, 10, nthSunday(y, 10, 1), 2);
  return wall + (dst ? 7 : 8) * HOUR;
}

/** The Pacific calendar day (YYYY-MM-DD) an instant falls on. */
export function pacificDay(epochMs: number): string {
  return new Date(epochMs + pacificOffsetMs(epochMs)).toISOString().slice(0, 10);
}

/** Start of the quota period containing `epochMs`. */
export function periodStart(rule: ResetRule, epochMs: number): number {
  switch (rule.kind) {
    case 'utc-midnight':
      return Math.floor(epochMs / DAY) * DAY;
    case 'interval':
      return rule.anchorMs + Math.floor((epochMs - rule.anchorMs) / rule.periodMs) * rule.periodMs;
    case 'pacific-midnight': {
      const local = new Date(epochMs + pacificOffsetMs(epochMs));
      return pacificMidnight(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
    }
  }
}

/** The next reset strictly after `epochMs`. */
export function nextReset(rule: ResetRule, epochMs: number): number {
  switch (rule.kind) {
    case 'utc-midnight':
      return periodStart(rule, epochMs) + DAY;
    case 'interval':
      return periodStart(rule, epochMs) + rule.periodMs;
    case 'pacific-midnight': {
      const local = new Date(epochMs + pacificOffsetMs(epochMs));
      return pacificMidnight(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1);
    }
  }
}
