/** Calendar-date helpers (YYYY-MM-DD, UTC). Pure: used by workflows, the client and activities. */
import { z } from 'zod';

const DAY_MS = 86_400_000;

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && toIso(fromIso(s)) === s, 'not a real calendar date')
  .meta({ type: 'date YYYY-MM-DD' });

const RELATIVE = /^(today|yesterday|today-(\d{1,4}))$/;

/**
 * A day given as YYYY-MM-DD, or relative to the day a run starts (UTC): `today`, `yesterday`, `today-N`.
 * Relative days let a schedule ask for "yesterday's report" every morning: the workflow resolves them from
 * its own start time (resolveDate), `longhaul run` from the moment it starts the run.
 */
export const dayOrRelative = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    if (RELATIVE.test(s)) return;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s))
      ctx.addIssue({ code: 'custom', message: 'expected YYYY-MM-DD, today, yesterday or today-N' });
    else
      for (const issue of isoDate.safeParse(s).error?.issues ?? [])
        ctx.addIssue({ code: 'custom', message: issue.message });
  })
  .meta({ type: 'date: YYYY-MM-DD, today, yesterday or today-N (UTC)' });

export const isRelativeDay = (s: string): boolean => RELATIVE.test(s);

/** The date `day` (dayOrRelative) stands for on the UTC day of `nowMs`. Pure. */
export function resolveDate(day: string, nowMs: number): string {
  const m = RELATIVE.exec(day);
  if (!m) return day;
  const back = m[1] === 'today' ? 0 : m[1] === 'yesterday' ? 1 : Number(m[2]);
  return toIso(Math.floor(nowMs / DAY_MS) * DAY_MS - back * DAY_MS);
}

export function fromIso(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** The first (`start`) or last (`end`) millisecond, UTC, of the day `date` (YYYY-MM-DD). */
export function dayEdge(date: string, edge: 'start' | 'end'): Date {
  return new Date(fromIso(date) + (edge === 'end' ? DAY_MS - 1 : 0));
}

export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return toIso(fromIso(date) + days * DAY_MS);
}

/** Number of days from start to end, both included. */
export function daysInclusive(start: string, end: string): number {
  return Math.round((fromIso(end) - fromIso(start)) / DAY_MS) + 1;
}

export interface DateWindow {
  start: string;
  end: string;
}

/** Splits [start, end] (inclusive) into consecutive windows of at most `days` days. */
export function splitWindows(start: string, end: string, days: number): DateWindow[] {
  if (days < 1) throw new Error('window length must be at least 1 day');
  if (fromIso(end) < fromIso(start)) throw new Error(`end ${end} is before start ${start}`);
  const out: DateWindow[] = [];
  for (let s = start; fromIso(s) <= fromIso(end); s = addDays(s, days)) {
    const e = addDays(s, days - 1);
    out.push({ start: s, end: fromIso(e) > fromIso(end) ? end : e });
  }
  return out;
}
