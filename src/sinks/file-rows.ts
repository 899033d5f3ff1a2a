/**
 * What a load of files counts, whoever parses them (the kit's JavaScript readers in src/kit/activity/csv.ts,
 * or a warehouse's own loader: `Warehouse.loadCsv`): rows parsed, bad rows with a few samples naming file, line
 * and column — never the value — and the errors that stop a load. Node-free (shared by both sides).
 */

export interface ParseStats {
  files: number;
  rowsParsed: number;
  badRows: number;
  badRowSamples: string[];
}

export const emptyParseStats = (): ParseStats => ({ files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] });

/** A file whose header (or fields) do not carry what the table declares. */
export class CsvHeaderError extends Error {
  override name = 'CsvHeaderError';
}

/**
 * A warehouse's own CSV reader refused a file as a whole (e.g. DuckDB's strict parser on a file mixing line
 * endings), before anything was written: the caller reads that load with the JavaScript reader instead.
 */
export class CsvDialectError extends Error {
  override name = 'CsvDialectError';
}

/** More rows failed typing than the tolerance allows. */
export class BadRowsError extends Error {
  override name = 'BadRowsError';
}

/** Samples kept per load. */
export const BAD_ROW_SAMPLES = 5;

/** Counts one bad row; the one that takes the count past `maxBadRows` fails the load. */
export function countBad(stats: ParseStats, msg: string, maxBadRows: number): void {
  stats.badRows++;
  if (stats.badRowSamples.length < BAD_ROW_SAMPLES) stats.badRowSamples.push(msg);
  if (stats.badRows > maxBadRows) throw overTolerance(msg, stats.badRows, maxBadRows);
}

/** The error of a load with `badRows` bad rows, over `maxBadRows`; `first` describes the first. */
export function overTolerance(first: string, badRows: number, maxBadRows: number): BadRowsError {
  return new BadRowsError(
    `report ${first} (${badRows} bad row${badRows > 1 ? 's' : ''}, over the tolerance of ${maxBadRows}: maxBadRows)`,
  );
}

/**
 * What JavaScript's `trim()` removes, which the readers trim from a value before typing it: ECMAScript's
 * WhiteSpace and LineTerminator (tab, vertical tab, form feed, space, no-break space, U+FEFF, the Zs
 * separators, LF, CR, U+2028, U+2029). DuckDB's one-argument `trim` removes spaces only (src/sinks/duckdb-csv.ts
 * gives it these); BigQuery's native path treats a value made only of these as not clean.
 */
export const JS_WHITE_SPACE =
  '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/**
 * A timestamp: day (1), time (2; its fraction 3, up to nanoseconds, kept to the microsecond) and offset (4: Z,
 * or ±HH:MM / ±HHMM within a day). The JavaScript reader (src/kit/activity/csv.ts) and DuckDB's
 * (src/sinks/duckdb-csv.ts) take this shape only (DuckDB's own cast also reads 'epoch', a lowercase z, offsets
 * past 23:59; Date.parse other formats), each on a calendar day.
 */
export const TIMESTAMP =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?)(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/;
