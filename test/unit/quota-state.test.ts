/**
 * The quota ledger's rules (pure): the bucket with the most units left serves first, keys of a project
 * take turns, partial grants, refunds within the period only, "wait until the earliest reset" when every
 * bucket is spent, markSpent (with the grace right after a reset), markInvalid, and reconfiguration.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerConfig, Permit } from '../../src/kit/limits/quota';
import {
  configure,
  emptyLedger,
  markInvalid,
  join,
  markSpent,
  recover,
  refund,
  reserve,
  validateConfig,
  validateJoin,
} from '../../src/kit/limits/quota-state';
import { nextReset } from '../../src/kit/limits/quota-reset';

const PACIFIC = { kind: 'pacific-midnight' } as const;
const NOON = Date.parse('2026-07-01T19:00:00Z'); // 12:00 PDT
const RESET = Date.parse('2026-07-02T07:00:00Z');
const config = (units = 10): LedgerConfig => ({
  buckets: [
    { id: 'a', unitsPerPeriod: units, reset: PACIFIC, keys: ['fp-a1', 'fp-a2'] },
    { id: 'b', unitsPerPeriod: units, reset: PACIFIC, keys: ['fp-b1'] },
  ],
  costs: { 'videos.list': 1, 'search.list': 100 },
});
const ledger = (units = 10) => {
  const s = emptyLedger();
  configure(s, config(units), NOON);
  return s;
};
const granted = (r: ReturnType<typeof reserve>): Permit => {
  if (r.kind !== 'granted') throw new Error(`expected a permit, got ${JSON.stringify(r)}`);
  return r.permit;
};

describe('quota ledger rules', () => {
  it('serves the fullest bucket, rotates keys within a project, grants partially', () => {
    const s = ledger();
    const p1 = granted(reserve(s, { method: 'videos.list', calls: 4 }, NOON, 'L'));
    expect(p1).toMatchObject({ id: 'L-1', bucket: 'a', fingerprint: 'fp-a1', calls: 4, units: 4 });
    const p2 = granted(reserve(s, { method: 'videos.list', calls: 4 }, NOON, 'L'));
    expect(p2).toMatchObject({ bucket: 'b', fingerprint: 'fp-b1' });
    const p3 = granted(reserve(s, { method: 'videos.list', calls: 20 }, NOON, 'L'));
    expect(p3).toMatchObject({ bucket: 'a', fingerprint: 'fp-a2', calls: 6 }); // what is left of a
    expect(s.buckets.map((b) => b.used)).toEqual([10, 4]);
    expect(s.buckets[0].resetAt).toBe(RESET);
  });

  it('refunds unused calls in the same period only', () => {
    const s = ledger();
    const p = granted(reserve(s, { method: 'videos.list', calls: 5 }, NOON, 'L'));
    refund(s, { permit: p, callsUsed: 2 }, NOON + 1000);
    expect(s.buckets[0].used).toBe(2);
    expect(s.buckets[0].keys[0]).toMatchObject({ calls: 2, units: 2 });
    const q = granted(reserve(s, { method: 'videos.list', calls: 5 }, NOON, 'L'));
    refund(s, { permit: q, callsUsed: 0 }, RESET + 1000); // after the reset: nothing to give back
    expect(s.buckets.find((b) => b.id === q.bucket)!.used).toBe(0);
  });

  it('says wait until the earliest reset when every bucket is spent, and serves again after it', () => {
    const s = ledger(3);
    granted(reserve(s, { method: 'videos.list', calls: 3 }, NOON, 'L'));
    granted(reserve(s, { method: 'videos.list', calls: 3 }, NOON, 'L'));
    expect(reserve(s, { method: 'videos.list', calls: 1 }, NOON, 'L')).toMatchObject({ kind: 'wait', until: RESET });
    // A search.list call (100 units) never fits in 3 units: wait as well.
    expect(reserve(s, { method: 'search.list', calls: 1 }, RESET, 'L')).toMatchObject({ kind: 'wait' });
    expect(granted(reserve(s, { method: 'videos.list', calls: 2 }, RESET, 'L'))).toMatchObject({ calls: 2 });
  });

  it('parks a bucket reported spent until its reset, or briefly right after a reset', () => {
    const s = ledger();
    expect(markSpent(s, 'fp-a2', NOON)).toEqual({ until: RESET });
    const p = granted(reserve(s, { method: 'videos.list', calls: 1 }, NOON, 'L'));
    expect(p.bucket).toBe('b');
    // Three minutes after the reset the provider may still be on yesterday: retry in 5 minutes, not tomorrow.
    const early = RESET + 3 * 60_000;
    expect(markSpent(s, 'fp-b1', early)).toEqual({ until: early + 5 * 60_000 });
    expect(granted(reserve(s, { method: 'videos.list', calls: 1 }, early, 'L')).bucket).toBe('a');
    expect(granted(reserve(s, { method: 'videos.list', calls: 1 }, early + 5 * 60_000, 'L')).bucket).toBe('b');
  });

  it('takes an invalid key out for good and says so when no key is left', () => {
    const s = ledger();
    markInvalid(s, 'fp-a1', 'API key not valid', NOON);
    for (let i = 0; i < 3; i++)
      expect(granted(reserve(s, { method: 'videos.list', calls: 1 }, NOON, 'L')).fingerprint).not.toBe('fp-a1');
    markInvalid(s, 'fp-a2', 'revoked', NOON);
    markInvalid(s, 'fp-b1', 'revoked', NOON);
    const r = reserve(s, { method: 'videos.list', calls: 1 }, NOON, 'L');
    expect(r.kind).toBe('none');
    expect(r.kind === 'none' && r.reason).toMatch(/fp-a1 \(a\): API key not valid; fp-a2 \(a\): revoked/);
    expect(s.removed).toHaveLength(3);
  });

  it('keeps usage across reconfiguration, adds and drops buckets, and refuses bad configurations', () => {
    const s = ledger();
    granted(reserve(s, { method: 'videos.list', calls: 4 }, NOON, 'L'));
    configure(
      s,
      {
        buckets: [
          { id: 'a', unitsPerPeriod: 50, reset: PACIFIC, keys: ['fp-a1'] },
          { id: 'c', unitsPerPeriod: 5, reset: { kind: 'utc-midnight' }, keys: ['fp-c1'] },
        ],
        costs: {},
      },
      NOON,
    );
    expect(s.buckets.map((b) => [b.id, b.used, b.unitsPerPeriod])).toEqual([
      ['a', 4, 50],
      ['c', 0, 5],
    ]);
    expect(s.buckets[1].resetAt).toBe(nextReset({ kind: 'utc-midnight' }, NOON));
    expect(s.costs['videos.list']).toBe(1);
    expect(() =>
      validateConfig({
        buckets: [
          { id: 'x', unitsPerPeriod: 1, reset: PACIFIC, keys: ['k'] },
          { id: 'y', unitsPerPeriod: 1, reset: PACIFIC, keys: ['k'] },
        ],
        costs: {},
      }),
    ).toThrow(/two buckets/);
    expect(() => validateConfig({ buckets: [], costs: { m: 0 } })).toThrow(/cost of m/);
  });

  it('a caller joins a running ledger: additions added, contradictions refused, nothing flipped', () => {
    const s = ledger();
    granted(reserve(s, { method: 'videos.list', calls: 4 }, NOON, 'L'));
    expect(() => validateJoin(s, config(10), 'L')).not.toThrow();
    expect(() => validateJoin(s, config(20), 'L')).toThrow(
      /^LedgerConflict: quota ledger L is configured differently — bucket a: 20 units per period asked, the ledger has 10; bucket b: 20/,
    );
    expect(() => validateJoin(s, { ...config(10), costs: { 'videos.list': 11 } }, 'L')).toThrow(/cost 11 asked/);
    const before = JSON.stringify(s);
    join(s, config(10), NOON);
    expect(JSON.stringify(s)).toBe(before);
    join(s, { buckets: [{ id: 'z', unitsPerPeriod: 10, reset: PACIFIC, keys: ['fp-z'] }], costs: { m: 3 } }, NOON);
    expect(s.buckets.map((b) => [b.id, b.used])).toEqual([
      ...JSON.parse(before).buckets.map((b: { id: string; used: number }) => [b.id, b.used]),
      ['z', 0],
    ]);
    expect(s.costs).toMatchObject({ 'videos.list': 1, m: 3 });
    // A recovered ledger keeps usage, gives removed keys another chance.
    markInvalid(s, 'fp-z', 'API key not valid', NOON);
    recover(s);
    expect(s.removed).toEqual([]);
    expect(s.buckets.find((b) => b.id === 'a')!.used).toBe(4);
  });
});
