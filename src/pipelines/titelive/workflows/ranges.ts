/**
 * How the titelive workflow covers a date range under the API's 20,000-results-per-query cap: a query
 * whose `nbreponses` reaches the cap is split in two halves of its date range, down to single days, then
 * a single day is split by availability code (`dispo`). Pure and deterministic (workflow-safe).
 */
export interface RangeQuery {
  /** Inclusive, YYYY-MM-DD. */
  dateMin: string;
  dateMax: string;
  dispo?: number;
}

/** Availability codes a single day is split by (the API's `dispo` values). */
export const DISPO_CODES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

const DAY = 86_400_000;
const ms = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

export const isoDayOf = (epochMs: number) => iso(epochMs);

/** A stable, key-safe name for a query (bucket folder of its raw pages). */
export function queryKey(q: RangeQuery): string {
  return `${q.dateMin}_${q.dateMax}${q.dispo === undefined ? '' : `_dispo${q.dispo}`}`;
}

/** The narrower queries covering `q`, or undefined when it cannot be split any further. */
export function splitQuery(q: RangeQuery): RangeQuery[] | undefined {
  if (q.dispo !== undefined) return undefined;
  const days = Math.round((ms(q.dateMax) - ms(q.dateMin)) / DAY) + 1;
  if (days > 1) {
    const mid = iso(ms(q.dateMin) + (Math.floor(days / 2) - 1) * DAY);
    return [
      { dateMin: q.dateMin, dateMax: mid },
      { dateMin: iso(ms(mid) + DAY), dateMax: q.dateMax },
    ];
  }
  return DISPO_CODES.map((dispo) => ({ dateMin: q.dateMin, dateMax: q.dateMax, dispo }));
}
