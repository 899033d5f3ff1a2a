/**
 * BigQuery's side of `Warehouse.loadCsv`, as SQL over a raw table: a landed CSV file loaded by BigQuery's own
 * CSV reader (a load job, every field as STRING, positional: `f0`, `f1`, … as the file's header orders them),
 * then typed into the staging table where the loaded rows wait to be applied.
 *
 * The native path takes only what it can type exactly as the JavaScript reader does (src/kit/activity/csv.ts):
 * values in their canonical spelling — an integer as digits, a number as a decimal, a date YYYY-MM-DD, a
 * timestamp ISO 8601 in UTC to the millisecond, text not blank — each checked in SQL (`clean`) before anything
 * is staged. A file holding any other value (one to trim, to reject as a bad row, a timestamp with an offset)
 * is left to the JavaScript reader as a whole (CsvDialectError): its rules, bad-row counts and samples (file,
 * line, column) then apply, which a load job cannot give line by line. So does a file BigQuery's reader
 * refuses (fields missing or extra, a stray quote, not UTF-8), and a merge whose keys repeat (the last row
 * wins there, and a load job keeps no row order).
 */
import type { Column, ColumnType } from './warehouse';
import { JS_WHITE_SPACE } from './file-rows';

/** A GoogleSQL string literal: a JSON string literal is one (same escapes, double quotes). */
const literal = (s: string) => JSON.stringify(s);

/** The types the native path reads; a file carrying another goes through the JavaScript reader. */
export const NATIVE_CSV_TYPES: ReadonlySet<ColumnType> = new Set(['STRING', 'INT64', 'FLOAT64', 'DATE', 'TIMESTAMP']);

/**
 * What JavaScript's `trim()` removes (JS_WHITE_SPACE) and what BigQuery may call whitespace too (U+0085), as a
 * regular expression: a text field made only of these (the JavaScript reader reads it as NULL) is not clean.
 */
const BLANK = `^[${[...JS_WHITE_SPACE, '\u0085'].map((c) => `\\x{${c.codePointAt(0)!.toString(16).toUpperCase()}}`).join('')}]*$`;
const DAY = '[0-9]{4}-[0-9]{2}-[0-9]{2}';
/**
 * HH:MM:SS, whole milliseconds at most: a finer fraction goes through the JavaScript reader, which keeps it to
 * the microsecond, always as six digits (one instant, one text).
 */
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,3})?';

/** A timestamp without offset (or with Z) as the JavaScript reader reads it: UTC. */
const utc = (f: string) => `CONCAT(REPLACE(RTRIM(${f}, 'Z'), ' ', 'T'), 'Z')`;

/**
 * Whether raw field `f` (a STRING or NULL: BigQuery reads an empty field as NULL, or as '' when quoted) is
 * clean for `type`: NULL or empty, or a value typed below exactly as the JavaScript reader types it.
 */
export function cleanSql(f: string, type: ColumnType): string {
  const value = (() => {
    switch (type) {
      case 'STRING':
        return `NOT REGEXP_CONTAINS(${f}, r'${BLANK}')`;
      case 'INT64':
        // Within 18 digits: never outside 64 bits.
        return `REGEXP_CONTAINS(${f}, r'^-?[0-9]{1,18}$')`;
      case 'FLOAT64':
        // A decimal the reader's DECIMAL accepts, short enough to be finite.
        return (
          `(REGEXP_CONTAINS(${f}, r'^[+-]?([0-9]{1,30}[.]?[0-9]{0,30}|[.][0-9]{1,30})([eE][+-]?[0-9]{1,2})?$') ` +
          `AND SAFE_CAST(${f} AS FLOAT64) IS NOT NULL)`
        );
      case 'DATE':
        // A calendar day (the cast refuses 2026-02-30).
        return `(REGEXP_CONTAINS(${f}, r'^${DAY}$') AND SAFE_CAST(${f} AS DATE) IS NOT NULL)`;
      case 'TIMESTAMP':
        // UTC: no offset (the reader adds Z) or Z.
        return (
          `(REGEXP_CONTAINS(${f}, r'^${DAY}([T ]${TIME}|T${TIME}Z)$') ` +
          `AND SAFE_CAST(SUBSTR(${f}, 1, 10) AS DATE) IS NOT NULL AND SAFE_CAST(${utc(f)} AS TIMESTAMP) IS NOT NULL)`
        );
      default:
        return 'FALSE';
    }
  })();
  return `(${f} IS NULL OR ${f} = '' OR ${value})`;
}

/** Clean raw field `f` typed for the staging column (empty → NULL, as the JavaScript reader reads it). */
export function typedSql(f: string, type: ColumnType): string {
  const v = `NULLIF(${f}, '')`;
  switch (type) {
    case 'STRING':
      return v;
    case 'TIMESTAMP':
      return `CAST(${utc(v)} AS TIMESTAMP)`;
    case 'FLOAT64':
      return `(CAST(${v} AS FLOAT64) + 0.0)`; // -0 as 0, as the JavaScript path stores it
    default:
      return `CAST(${v} AS ${type})`;
  }
}

/** A constant of a column the files do not carry, for the staging column (JSON is staged as its text). */
export function constantSql(value: string, type: ColumnType): string {
  return type === 'STRING' || type === 'JSON' ? literal(value) : `CAST(${literal(value)} AS ${type})`;
}

/**
 * The query counting a raw table's rows and, per declared column the file carries, the values that are not
 * clean (`bad_<i>` for fileColumns[i]); `replaced`: the records where any of the file's `fields` fields,
 * declared or not, holds a replacement character — BigQuery's reader may put one where a byte is not UTF-8,
 * a bad row to the JavaScript reader, which reads the file's bytes (a real one in the file loads there as text).
 */
export function checkSql(raw: string, fileColumns: Column[], index: number[], fields: number): string {
  const counts = fileColumns.map((c, i) => `COUNTIF(NOT ${cleanSql(`f${index[i]}`, c.type)}) AS bad_${i}`);
  const all = Array.from({ length: fields }, (_, k) => `STRPOS(IFNULL(f${k}, ''), '\uFFFD') > 0`);
  counts.push(`COUNTIF(${all.join(' OR ')}) AS replaced`);
  return `SELECT COUNT(*) AS n, ${counts.join(', ')} FROM ${raw}`;
}

/**
 * The reader's verdict on a file, from a failed load job: its message when BigQuery's CSV reader refused the
 * file (reason `invalid`; the emulator says "failed to read csv") — the caller reads that file with the
 * JavaScript reader instead. Undefined for anything else (quota, rate, access, server or network errors):
 * those are errors of the load, not of the file, and must not send it to another reader.
 */
export function csvReaderRefusal(err: unknown): string | undefined {
  const errors = (err as { errors?: { reason?: string; message?: string }[] } | undefined)?.errors;
  const list = Array.isArray(errors) ? errors : [];
  // The reader's verdict: reason `invalid` (BigQuery), or the emulator's words (its reason: jobInternalError).
  const byReader = (e: { reason?: string; message?: string }) =>
    e?.reason === 'invalid' || /failed to read csv/i.test(e?.message ?? '');
  // The client keeps the job's `errors`, not its `errorResult`: an entry of the load's own (quota, rate, access,
  // server) anywhere in them makes it the load's failure, whatever the reader also said. `stopped` is the job
  // stopping after the reader's error.
  if (list.some((e) => !byReader(e) && e?.reason !== undefined && e.reason !== 'stopped')) return undefined;
  const refused = list.find(byReader);
  return refused ? (refused.message ?? '') : undefined;
}
