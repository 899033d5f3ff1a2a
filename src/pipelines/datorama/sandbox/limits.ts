/**
 * The Datorama sandbox's per-token limits. Platform calls: a sliding window — at most `perMinute`
 * accepted calls in any 60 seconds (the strictest reading of "60 calls/min"; a client that never gets a
 * 429 here never exceeds 60 in any 60-second window). Daily: `perDay` accepted calls per UTC day, reset
 * at 00:00 UTC. A call refused with 429 does not count. Every response carries the headers with resets
 * in epoch ms.
 */
export const WINDOW_MS = 60_000;

export interface LimitDecision {
  allowed: boolean;
  scope?: 'minute' | 'day';
  headers: Record<string, string>;
}

const nextUtcMidnight = (now: number) => (Math.floor(now / 86_400_000) + 1) * 86_400_000;

export class TokenLimits {
  private readonly calls = new Map<string, number[]>();
  private readonly days = new Map<string, { day: number; used: number }>();

  constructor(
    readonly perMinute = 60,
    readonly perDay = 20_000,
    readonly queryPerMinute = 200,
  ) {}

  private recent(token: string, now: number): number[] {
    const list = (this.calls.get(token) ?? []).filter((t) => t > now - WINDOW_MS);
    this.calls.set(token, list);
    return list;
  }

  private dayOf(token: string, now: number) {
    const day = Math.floor(now / 86_400_000);
    let d = this.days.get(token);
    if (!d || d.day !== day) this.days.set(token, (d = { day, used: 0 }));
    return d;
  }

  /** Checks and (when allowed) counts one platform call at `now`. */
  take(token: string, now: number): LimitDecision {
    const recent = this.recent(token, now);
    const day = this.dayOf(token, now);
    let scope: LimitDecision['scope'];
    if (day.used >= this.perDay) scope = 'day';
    else if (recent.length >= this.perMinute) scope = 'minute';
    if (!scope) {
      recent.push(now);
      day.used++;
    }
    return { allowed: !scope, scope, headers: this.headers(token, now) };
  }

  headers(token: string, now: number): Record<string, string> {
    const recent = this.recent(token, now);
    const day = this.dayOf(token, now);
    const reset = recent.length ? recent[0] + WINDOW_MS : now + WINDOW_MS;
    return {
      'x-platformratelimit-limit': String(this.perMinute),
      'x-platformratelimit-remaining': String(Math.max(0, this.perMinute - recent.length)),
      'x-platformratelimit-reset': String(reset),
      'x-queryratelimit-limit': String(this.queryPerMinute),
      'x-queryratelimit-remaining': String(this.queryPerMinute),
      'x-queryratelimit-reset': String(now + WINDOW_MS),
      'x-dailyquota-limit': String(this.perDay),
      'x-dailyquota-remaining': String(Math.max(0, this.perDay - day.used)),
      'x-dailyquota-reset': String(nextUtcMidnight(now)),
    };
  }
}
