/**
 * The permit entity's policies, pure: concurrency, the rate window (spacing, any-60-seconds bound, daily cap,
 * the API's block), and the key pool (keys in turn, wait until the reset, refunds, spent and invalid keys).
 */
import { describe, expect, it } from 'vitest';
import {
  advance,
  decide,
  initPolicy,
  joinPolicy,
  keepUntil,
  nextChange,
  observe,
  reconfigure,
  recoverPolicy,
  released,
  validateAsk,
  validateJoinPolicy,
  withdrawn,
  type PermitAsk,
  type PermitHolder,
  type PolicyState,
} from '../../src/kit/limits/permit-policies';

const T0 = Date.parse('2026-03-10T12:00:00Z');
const ask = (n: number, extra: Partial<PermitAsk> = {}): PermitAsk => ({
  requestId: `r${n}`,
  requesterId: 'wf',
  since: T0,
  ...extra,
});
const holder = (n: number, at: number): PermitHolder => ({
  requestId: `r${n}`,
  requesterId: 'wf',
  grantedAt: at,
  leaseUntil: at + 60_000,
});

describe('concurrency policy', () => {
  it('grants while fewer than `permits` are held, then waits for a release', () => {
    const s = initPolicy({ kind: 'concurrency', permits: 2 }, T0);
    expect(decide(s, ask(1), [], T0).ok).toBe(true);
    expect(decide(s, ask(2), [holder(1, T0)], T0).ok).toBe(true);
    const d = decide(s, ask(3), [holder(1, T0), holder(2, T0)], T0);
    expect(d).toMatchObject({ ok: false, at: Infinity });
    expect(keepUntil(s)).toBe(0);
  });
});

describe('rate-window policy', () => {
  const rw = () => initPolicy({ kind: 'rateWindow', perMinute: 3, perDay: 5, spacingMs: 1_000 }, T0);

  /** Grants as fast as the policy allows from T0, releasing each permit `holdMs` after its grant. */
  function drive(s: PolicyState, n: number, holdMs: number): number[] {
    const grants: number[] = [];
    const held: PermitHolder[] = [];
    let now = T0;
    for (let i = 0; grants.length < n && now < T0 + 3 * 86_400_000; i++) {
      for (const h of held.filter((x) => x.grantedAt + holdMs <= now)) {
        held.splice(held.indexOf(h), 1);
        released(s, h, now);
      }
      advance(s, now);
      const d = decide(s, ask(grants.length), held, now);
      if (d.ok) {
        grants.push(now);
        held.push(holder(grants.length, now));
        continue;
      }
      const nextRelease = held.length ? Math.min(...held.map((h) => h.grantedAt + holdMs)) : Infinity;
      now = Math.max(now + 1, Math.min(d.at, nextRelease, nextChange(s)));
    }
    return grants;
  }

  it('spaces grants and never has more than perMinute calls in any 60 seconds (held ones count)', () => {
    const grants = drive(rw(), 5, 5_000);
    expect(grants[1] - grants[0]).toBeGreaterThanOrEqual(1_000);
    // The 4th waits until the 1st's release (5 s after its grant) has left the window: 60 s later.
    expect(grants[3] - grants[0]).toBeGreaterThanOrEqual(65_000);
    for (const g of grants) expect(grants.filter((x) => x >= g && x < g + 60_000).length).toBeLessThanOrEqual(3);
  });

  it('stops at the daily cap until 00:00 UTC, and keeps its count until then', () => {
    const s = rw();
    const grants = drive(s, 6, 100);
    expect(grants.slice(0, 5).every((g) => g < Date.parse('2026-03-11T00:00:00Z'))).toBe(true);
    expect(grants[5]).toBeGreaterThanOrEqual(Date.parse('2026-03-11T00:00:00Z'));
    const fresh = rw();
    drive(fresh, 2, 100);
    expect(keepUntil(fresh)).toBe(Date.parse('2026-03-11T00:00:00Z'));
  });

  it('takes back a grant that never reached its requester: the day and the spacing as before it', () => {
    const s = rw();
    expect(decide(s, ask(1), [], T0).ok).toBe(true);
    expect(decide(s, ask(2), [], T0 + 2_000).ok).toBe(true);
    withdrawn(s, holder(2, T0 + 2_000), T0 + 2_000);
    expect(s).toMatchObject({ usedToday: 1, lastGrantAt: T0 });
    expect(decide(s, ask(3), [holder(1, T0)], T0 + 2_000).ok).toBe(true);
  });

  it("holds everyone back while the API said to wait, and learns today's count from its headers", () => {
    const s = rw();
    observe(s, { blockUntil: T0 + 30_000 }, T0);
    expect(decide(s, ask(1), [], T0)).toMatchObject({ ok: false, at: T0 + 30_000 });
    const t = rw();
    observe(t, { dayLimit: 5, dayRemaining: 1, dayReset: Date.parse('2026-03-11T00:00:00Z') }, T0);
    expect(decide(t, ask(1), [], T0).ok).toBe(true);
    expect(decide(t, ask(2), [], T0 + 5_000)).toMatchObject({ ok: false, at: Date.parse('2026-03-11T00:00:00Z') });
  });
});

describe('key-pool policy', () => {
  const pool = () =>
    initPolicy(
      {
        kind: 'keyPool',
        poolId: 'yt',
        ledger: {
          buckets: [{ id: 'p1', unitsPerPeriod: 3, reset: { kind: 'utc-midnight' }, keys: ['k1', 'k2'] }],
          costs: { 'videos.list': 1 },
        },
      },
      T0,
    );

  it('grants keys in turn, waits until the reset when spent, and gives back unused calls', () => {
    const s = pool();
    const a = decide(s, ask(1, { method: 'videos.list', calls: 1 }), [], T0);
    const b = decide(s, ask(2, { method: 'videos.list', calls: 1 }), [], T0);
    expect(a.ok && a.grant?.permit?.fingerprint).toBe('k1');
    expect(b.ok && b.grant?.permit?.fingerprint).toBe('k2');
    const c = decide(s, ask(3, { method: 'videos.list', calls: 2 }), [], T0);
    expect(c.ok && c.grant?.permit?.calls).toBe(1); // what the bucket has left
    const d = decide(s, ask(4, { method: 'videos.list', calls: 1 }), [], T0);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.at).toBeGreaterThan(T0);
    // A permit whose call was not made comes back.
    if (!a.ok) throw new Error('unreachable');
    released(s, { ...holder(1, T0), grant: a.grant }, T0, { callsUsed: 0 });
    expect(decide(s, ask(5, { method: 'videos.list', calls: 1 }), [], T0).ok).toBe(true);
  });

  it('parks a key the API says is spent, and drops one it says is invalid', () => {
    const s = pool();
    observe(s, { invalid: { fingerprint: 'k1', reason: 'keyInvalid' } }, T0);
    const a = decide(s, ask(1, { method: 'videos.list', calls: 1 }), [], T0);
    expect(a.ok && a.grant?.permit?.fingerprint).toBe('k2');
    observe(s, { spent: 'k2' }, T0 + 3_600_000);
    expect(decide(s, ask(2, { method: 'videos.list', calls: 1 }), [], T0 + 3_600_000).ok).toBe(false);
  });
  it('joins what another caller adds, refuses what contradicts it, and keeps joined buckets across a restart', () => {
    const s = pool();
    if (s.kind !== 'keyPool') throw new Error('unreachable');
    const p2 = { id: 'p2', unitsPerPeriod: 5, reset: { kind: 'utc-midnight' as const }, keys: ['k3'] };
    expect(() =>
      validateJoinPolicy(
        s,
        { kind: 'keyPool', poolId: 'yt', ledger: { buckets: [{ ...p2, id: 'p1', keys: ['k1'] }], costs: {} } },
        'yt',
      ),
    ).toThrow(/^LedgerConflict: quota ledger yt is configured differently — bucket p1: 5 units per period asked/);
    const more = { kind: 'keyPool' as const, poolId: 'yt', ledger: { buckets: [p2], costs: { 'search.list': 100 } } };
    validateJoinPolicy(s, more, 'yt');
    joinPolicy(s, more, T0);
    expect(s.ledger.buckets.map((b) => b.id)).toEqual(['p1', 'p2']);
    expect(() => validateAsk(s, { method: 'nope', calls: 1 })).toThrow(/no cost configured for method nope/);
    validateAsk(s, { method: 'search.list', calls: 1 });
    // The update path serves consumed grants only: a held permit (concurrency, rate window) is asked by signal.
    for (const held of [
      initPolicy({ kind: 'concurrency', permits: 2 }, T0),
      initPolicy({ kind: 'rateWindow', perMinute: 60, perDay: 100, spacingMs: 0 }, T0),
    ])
      expect(() => validateAsk(held, {})).toThrow(new RegExp(`^a ${held.kind} permit is held until released`));
    // Continue-as-new (or a restart) with the first caller's configuration: the joined bucket stays, the
    // listed one takes its settings.
    const p1 = { id: 'p1', unitsPerPeriod: 4, reset: { kind: 'utc-midnight' as const }, keys: ['k1', 'k2'] };
    reconfigure(s, { kind: 'keyPool', poolId: 'yt', ledger: { buckets: [p1], costs: { 'videos.list': 1 } } }, T0);
    expect(s.ledger.buckets.map((b) => [b.id, b.unitsPerPeriod])).toEqual([
      ['p1', 4],
      ['p2', 5],
    ]);
  });

  it('gives removed keys another chance after a terminated run, and refuses another kind or other limits', () => {
    const s = pool();
    if (s.kind !== 'keyPool') throw new Error('unreachable');
    observe(s, { invalid: { fingerprint: 'k1', reason: 'keyInvalid' } }, T0);
    recoverPolicy(s);
    expect(s.ledger.removed).toEqual([]);
    expect(s.ledger.buckets[0].keys.every((k) => !k.invalid)).toBe(true);
    const slots = initPolicy({ kind: 'concurrency', permits: 2 }, T0);
    validateJoinPolicy(slots, { kind: 'concurrency', permits: 2 }, 'slots');
    expect(() => validateJoinPolicy(slots, { kind: 'concurrency', permits: 3 }, 'slots')).toThrow(
      /permit entity slots is configured differently/,
    );
  });
});

describe('token-bucket policy', () => {
  const bucket = () => initPolicy({ kind: 'tokenBucket', perSecond: 25, burst: 10 }, T0);
  const take = (s: PolicyState, calls: number, at: number) => {
    advance(s, at);
    return decide(s, ask(0, { calls }), [], at);
  };

  it('grants a full burst at once, then calls at perSecond, and says when the next ones are ready', () => {
    const s = bucket();
    expect(take(s, 10, T0)).toEqual({ ok: true });
    const d = take(s, 5, T0);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.at).toBe(T0 + 200); // 5 tokens at 25/s
      expect(d.why('200ms')).toMatch(/25\/s on average, at most 10 at once/);
    }
    expect(take(s, 5, T0 + 200)).toEqual({ ok: true });
    // Never more than burst + perSecond × t in any span t, whatever the asks: simulate a greedy caller.
    const s2 = bucket();
    const grants: number[] = [];
    for (let t = T0; t < T0 + 10_000; t += 7) if (take(s2, 1, t).ok) grants.push(t);
    for (let i = 0; i < grants.length; i++) {
      const inSecond = grants.filter((g) => g >= grants[i] && g < grants[i] + 1000).length;
      expect(inSecond).toBeLessThanOrEqual(10 + 25);
    }
    expect(grants.length).toBeGreaterThanOrEqual(10 + 25 * 9.9);
    expect(grants.length).toBeLessThanOrEqual(10 + 25 * 10);
  });

  it('holds every call while the API said to wait, then starts from an empty bucket', () => {
    const s = bucket();
    observe(s, { blockUntil: T0 + 30_000 }, T0);
    const d = take(s, 1, T0 + 1000);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.at).toBe(T0 + 30_000);
    expect(take(s, 1, T0 + 30_000).ok).toBe(false); // empty at the end of the hold
    expect(take(s, 1, T0 + 30_040)).toEqual({ ok: true });
    expect(keepUntil(s)).toBeGreaterThan(T0 + 30_040); // refilling: a new entity must not start full
  });

  it('refuses asks beyond its burst, keeps its tokens across a restart, and refuses other limits', () => {
    const s = bucket();
    expect(() => validateAsk(s, { calls: 11 })).toThrow(/1 to 10 calls at once/);
    expect(() => validateAsk(s, { calls: 3 })).not.toThrow();
    take(s, 8, T0);
    reconfigure(s, { kind: 'tokenBucket', perSecond: 25, burst: 10 }, T0);
    expect(take(s, 3, T0).ok).toBe(false); // still 2 left, not a fresh 10
    expect(() => validateJoinPolicy(s, { kind: 'tokenBucket', perSecond: 30, burst: 10 }, 'tl')).toThrow(
      /configured differently/,
    );
    expect(() => validateJoinPolicy(s, { kind: 'tokenBucket', perSecond: 25, burst: 10 }, 'tl')).not.toThrow();
  });
});
