import { describe, expect, it } from 'vitest';
import { dayOrRelative, daysInclusive, resolveDate, splitWindows } from '../../src/shared/dates';

describe('splitWindows', () => {
  it('splits a 95-day range into 4 windows of at most 30 days, covering every day once', () => {
    const w = splitWindows('2026-01-01', '2026-04-05', 30);
    expect(daysInclusive('2026-01-01', '2026-04-05')).toBe(95);
    expect(w).toEqual([
      { start: '2026-01-01', end: '2026-01-30' },
      { start: '2026-01-31', end: '2026-03-01' },
      { start: '2026-03-02', end: '2026-03-31' },
      { start: '2026-04-01', end: '2026-04-05' },
    ]);
    expect(w.reduce((n, x) => n + daysInclusive(x.start, x.end), 0)).toBe(95);
  });
  it('keeps a single day and a 180-day maximum window', () => {
    expect(splitWindows('2026-02-28', '2026-02-28', 30)).toEqual([{ start: '2026-02-28', end: '2026-02-28' }]);
    expect(splitWindows('2025-01-01', '2025-12-31', 180)).toHaveLength(3);
  });
  it('refuses an inverted range', () => {
    expect(() => splitWindows('2026-02-02', '2026-02-01', 30)).toThrow(/before start/);
  });
});

describe('relative days', () => {
  const now = Date.parse('2026-01-01T00:30:00Z'); // just after midnight UTC: yesterday is last year
  it('resolve on the UTC day of the given instant', () => {
    expect(resolveDate('today', now)).toBe('2026-01-01');
    expect(resolveDate('yesterday', now)).toBe('2025-12-31');
    expect(resolveDate('today-31', now)).toBe('2025-12-01');
    expect(resolveDate('2025-06-15', now)).toBe('2025-06-15');
  });
  it('accept dates and the three relative forms only', () => {
    for (const ok of ['2025-06-15', 'today', 'yesterday', 'today-0', 'today-365'])
      expect(dayOrRelative.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['tomorrow', 'today+1', 'yesterday-1', '2025-02-30', 'today-12345', ''])
      expect(dayOrRelative.safeParse(bad).success, bad).toBe(false);
  });
});
