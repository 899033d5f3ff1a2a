/**
 * Bounded concurrency, the one loop every pipeline uses (activities and workflows alike: no I/O, no clock,
 * deterministic — items are taken strictly in order, each by the first lane that is free).
 */

export interface PoolOptions {
  /** Checked before each item is taken (with how many were taken so far): false stops taking new ones. */
  more?: (taken: number) => boolean;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, starting them in order; resolves once every
 * call it started has ended, with the results in input order (undefined for items not taken) and how many
 * items were taken. A call that throws rejects the pool at once (as `Promise.all` does); the other lanes go
 * on — the caller decides, workflows usually by failing.
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  opts: PoolOptions = {},
): Promise<{ results: R[]; taken: number }> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`pool: limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let taken = 0;
  const lane = async () => {
    while (taken < items.length && (opts.more?.(taken) ?? true)) {
      const i = taken++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return { results, taken };
}

/** `pool` for its results only: `fn` over every item, at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return (await pool(items, limit, fn)).results;
}
