import { describe, expect, it } from 'vitest';
import { mapLimit, pool } from '../../src/kit/pool';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('kit pool', () => {
  it('keeps at most `limit` calls in flight, starts them in order, returns results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
      started.push(i);
      peak = Math.max(peak, ++inFlight);
      for (let k = 0; k < n; k++) await tick();
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
  });

  it('stops taking items once `more` says so, and says how many it took', async () => {
    const seen: number[] = [];
    const { taken, results } = await pool([1, 2, 3, 4, 5, 6], 2, async (n) => (seen.push(n), n), {
      more: (t) => t < 4,
    });
    expect(taken).toBe(4);
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect(results).toEqual([1, 2, 3, 4, undefined, undefined]);
  });

  it('handles an empty list and refuses a limit below 1', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
    await expect(pool([1], 0, async () => 1)).rejects.toThrow('pool: limit must be a positive integer, got 0');
  });

  it('rejects with the first error', async () => {
    await expect(
      mapLimit([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('item 2 failed');
        return n;
      }),
    ).rejects.toThrow('item 2 failed');
  });
});
