/** Duration strings ("90s", "5m", "2h30m", "1d") ↔ milliseconds; usable in workflows (pure). */
import { z } from 'zod';

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (!/^((\d+(?:\.\d+)?)(ms|s|m|h|d))+$/.test(s)) throw new Error(`Invalid duration "${text}" (e.g. 30s, 5m, 2h30m)`);
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * UNIT[m[2]];
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [u, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.join('');
}

/** A zod field accepting "2h30m" or a number of milliseconds; parses to milliseconds. */
export const durationMs = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    try {
      return parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  })
  .meta({ type: 'duration (e.g. 10s, 5m, 2h, or milliseconds)' });
