/**
 * DuckDB's side of `Warehouse.loadCsv`: one landed CSV file read by `read_csv` (every field as text; records
 * with the wrong number of fields go to its rejects table with their line), its values checked in SQL by the
 * declared column types with the rules of the JavaScript reader (src/kit/activity/csv.ts), and the good rows
 * inserted typed where the warehouse loads them. Lines are records counted from the header (1), as the
 * JavaScript reader counts them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CsvDialectError, JS_WHITE_SPACE, TIMESTAMP } from './file-rows';
import type { CsvHeader } from './csv-header';
import type { ColumnType, CsvLoad, TableSchema } from './warehouse';

/** A quoted SQL identifier. */
export const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
/** A SQL string literal. */
export const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** JS_WHITE_SPACE as DuckDB's `trim(x, characters)` takes it: its one-argument `trim` removes spaces only. */
const JS_TRIMMED = literal(JS_WHITE_SPACE);
/** Field `x` trimmed as the JavaScript reader trims it. */
const trimmed = (x: string) => `trim(${x}, ${JS_TRIMMED})`;
/**
 * JS_WHITE_SPACE's code points (as `ord` gives a field's first character) in a few ranges — codes less than 96
 * apart merged: 9–32, 160, 5760, 8192–8287, 12288, 65279.
 */
const WHITE_SPACE_RANGES = [...JS_WHITE_SPACE]
  .map((ch) => ch.codePointAt(0)!)
  .sort((a, b) => a - b)
  .reduce<[number, number][]>((ranges, c) => {
    const last = ranges[ranges.length - 1];
    if (last && c - last[1] < 96) last[1] = c;
    else ranges.push([c, c]);
    return ranges;
  }, []);
/** Whether the first character of field `x` may be white space (within WHITE_SPACE_RANGES). */
const mayStartBlank = (x: string) =>
  `(${WHITE_SPACE_RANGES.map(([a, b]) => (a === b ? `ord(${x}) = ${a}` : `ord(${x}) BETWEEN ${a} AND ${b}`)).join(' OR ')})`;
/**
 * Whether field `x` is empty once trimmed. Only a field whose first character may be white space is trimmed to
 * find out: trimming every field by that set cost more than reading the file. A few ranges, not
 * `ord(x) IN (<25 codes>)`: DuckDB expands such a list into one comparison per code, each with vectors of its
 * own per thread — at a 64MB memory limit a part of four columns ran out of memory, at 256MB one of 20.
 */
const blank = (x: string) => `(${x} = '' OR (${mayStartBlank(x)} AND ${trimmed(x)} = ''))`;

/**
 * Whether text `x` (trimmed, not empty) is a value of `type`, and what to say when it is not. Where there is a
 * `guess` (the untrimmed field read as the type, NULL where it cannot be), `clean(raw, g)` is a cheaper test
 * on the field and its guess `g` that accepts only values `ok` accepts, and for which `g` is the value (the
 * common case: a canonical value), tried first — regular expressions cost most of a load's time, and the guess
 * is read once for both the test and the value.
 */
const RULES: Partial<
  Record<
    ColumnType,
    {
      ok: (x: string) => string;
      guess?: (raw: string) => string;
      clean?: (raw: string, g: string) => string;
      reason: string;
    }
  >
> = {
  INT64: {
    ok: (x) => `(regexp_full_match(${x}, '-?[0-9]+') AND TRY_CAST(${x} AS BIGINT) IS NOT NULL)`,
    // Its own canonical text: digits with an optional minus, within 64 bits.
    guess: (raw) => `TRY_CAST(${raw} AS BIGINT)`,
    clean: (raw, g) => `(CAST(${g} AS VARCHAR) = ${raw})`,
    reason: 'not an integer',
  },
  FLOAT64: {
    ok: (x) =>
      `(regexp_full_match(${x}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') AND ` +
      `coalesce(isfinite(TRY_CAST(${x} AS DOUBLE)), false))`,
    // DuckDB's cast reads decimal numbers, surrounding spaces (`ok` trims them) and digit separators ("1_0").
    guess: (raw) => `TRY_CAST(${raw} AS DOUBLE)`,
    clean: (raw, g) => `(NOT contains(${raw}, '_') AND coalesce(isfinite(${g}), false))`,
    reason: 'not a number',
  },
  DATE: {
    ok: (x) => `(regexp_full_match(${x}, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND TRY_CAST(${x} AS DATE) IS NOT NULL)`,
    // Its own canonical text, 10 characters long: YYYY-MM-DD, a calendar day (years past 9999 print longer).
    guess: (raw) => `TRY_CAST(${raw} AS DATE)`,
    clean: (raw, g) => `(length(${raw}) = 10 AND CAST(${g} AS VARCHAR) = ${raw})`,
    reason: 'not a date (YYYY-MM-DD)',
  },
  TIMESTAMP: {
    // The JavaScript reader's shape (TIMESTAMP; not DuckDB's 'epoch' or 'infinity'), on a calendar day.
    ok: (x) =>
      `(regexp_full_match(${x}, ${literal(TIMESTAMP.source.slice(1, -1))}) AND TRY_CAST(${x} AS TIMESTAMPTZ) IS NOT NULL)`,
    // Its own canonical text, YYYY-MM-DD HH:MM:SS in UTC (a zone-less value is UTC: the session's zone).
    guess: (raw) => `(TRY_CAST(${raw} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')`,
    clean: (raw, g) => `(length(${raw}) = 19 AND CAST(${g} AS VARCHAR) = ${raw})`,
    reason: 'not a timestamp',
  },
  // As BigQuery casts text (DuckDB's own cast also reads 1/0, yes/no, t/f).
  BOOL: { ok: (x) => `(lower(${x}) IN ('true', 'false'))`, reason: 'not a boolean' },
  JSON: {
    // JSON as JSON.parse reads it: DuckDB's reader also takes NaN, inf and Infinity in any case and trailing
    // commas, looked for outside the strings (each string replaced by "" first; outside them JSON has no
    // letters but true, false, null and exponents, none of which holds "nan" or "inf"). An escaped lone
    // surrogate ("\ud800"), which JSON.parse takes and json_valid does not, the JavaScript reader refuses too.
    ok: (x) =>
      `(coalesce(json_valid(${x}), false) AND NOT regexp_matches(regexp_replace(${x}, ` +
      `'"([^"\\\\]|\\\\.)*"', '""', 'g'), '(?i)(nan|inf|,[ \t\r\n]*[]}])'))`,
    reason: 'not JSON',
  },
};

/** What the rejects table's error types mean, for the samples. */
function structural(type: string, firstMissing: number | null, fields: number): string {
  if (type === 'MISSING COLUMNS' && firstMissing !== null) return `${firstMissing} fields, the header has ${fields}`;
  if (type === 'TOO MANY COLUMNS') return `more fields than the header's ${fields}`;
  if (type === 'UNQUOTED VALUE') return 'a quote inside an unquoted field';
  if (type === 'INVALID ENCODING' || type === 'INVALID UNICODE') return 'not UTF-8';
  if (type === 'LINE SIZE OVER MAXIMUM') return 'a record over the maximum line size';
  return type.toLowerCase();
}

/**
 * Reads file `f`, checks it, and hands `write` a query of its good rows (typed: empty → NULL, typed values
 * trimmed, the table's columns in order and `_seq` after `seqBase`) to insert where the caller loads them.
 * Returns the counts and its first `want` bad rows, described, in line order.
 *
 * One pass over the file: each field is read as text, tested and converted to its type in the same statement
 * (the staged copy holds the typed values and the reason a record is bad, not the text), so what `write`
 * inserts is a copy — converting the text again there cost more than reading the file.
 */
export async function csvFileRows(
  c: DuckDBConnection,
  schema: TableSchema,
  files: CsvLoad,
  f: number,
  header: CsvHeader,
  seqBase: number,
  want: number,
  /** SQL converting text to a column's type (the warehouse's own conversion): `typed` fails on a value
   * that is not one, `tryTyped` gives NULL. */
  casts: { typed: (expr: string, type: ColumnType) => string; tryTyped: (expr: string, type: ColumnType) => string },
  write: (goodRows: string) => Promise<void>,
): Promise<{ good: number; bad: number; samples: { line: number; text: string }[] }> {
  const raw = `_csv_raw_${f}`;
  const rejects = `_csv_rejects_${f}`;
  const scans = `_csv_scans_${f}`;
  const fields = Array.from({ length: header.fields }, (_, i) => `f${i}`);
  const columns = `{${fields.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}`;
  try {
    // File column j: its field (text), its guess where its type has one, its typed value in the staged copy.
    const field = (j: number) => `f${header.index[j]}`;
    const guess = (j: number) => `g${j}`;
    const staged = (j: number) => `v${j}`;
    const guesses = files.fileColumns.flatMap((col, j) => {
      const rule = RULES[col.type];
      return rule?.guess ? [`${rule.guess(field(j))} AS ${guess(j)}`] : [];
    });
    const cleanOf = (j: number) => {
      const rule = RULES[files.fileColumns[j]!.type];
      return rule?.guess && rule.clean ? rule.clean(field(j), guess(j)) : undefined;
    };
    // The first declared column (in table order) whose value does not type, as "column: reason".
    // Each test a CASE, which evaluates a branch only for the rows the ones before it left undecided (an OR
    // evaluates every operand): null, then the clean test, then empty once trimmed, then the full rule.
    const checks = files.fileColumns.flatMap((col, j) => {
      const rule = RULES[col.type];
      if (!rule) return [];
      const x = field(j);
      const t = trimmed(x);
      const clean = cleanOf(j);
      const ok = `(CASE WHEN ${x} IS NULL THEN true ${clean ? `WHEN ${clean} THEN true ` : ''}WHEN ${blank(x)} THEN true ELSE ${rule.ok(t)} END)`;
      return [`WHEN NOT ${ok} THEN ${literal(`${col.name}: ${rule.reason}`)}`];
    });
    const bad = checks.length ? `(CASE ${checks.join(' ')} END)` : 'CAST(NULL AS VARCHAR)';
    // A good value typed: a clean one is its guess (the common case, cheapest); others trimmed, empty → NULL.
    // Bad records' values are NULL where they do not type (they are never written).
    const values = files.fileColumns.map((col, j) => {
      const x = field(j);
      const clean = cleanOf(j);
      const fast = clean ? `WHEN ${clean} THEN ${guess(j)} ` : '';
      const text = col.type === 'STRING' ? x : trimmed(x);
      return `CASE ${fast}WHEN ${blank(x)} THEN NULL ELSE ${casts.tryTyped(text, col.type)} END AS ${staged(j)}`;
    });
    // Read once, checked and typed once. Insertion order is preserved (DuckDB's default): the k-th kept record
    // is the k-th rowid (counted from the first: inside a transaction, a new table's rowids start at 2^62).
    const source =
      `read_csv(${literal(header.path)}, header = true, columns = ${columns}, auto_detect = false, delim = ',', ` +
      `quote = '"', escape = '"', null_padding = false, ignore_errors = true, ` +
      `store_rejects = true, rejects_table = ${literal(rejects)}, rejects_scan = ${literal(scans)})`;
    const read = c.run(
      `CREATE OR REPLACE TEMP TABLE ${q(raw)} AS SELECT ${[...values, `${bad} AS _bad`].join(', ')} ` +
        `FROM (SELECT ${['*', ...guesses].join(', ')} FROM ${source})`,
    );
    // Strict mode stays on (off, DuckDB would cut a record's extra fields and accept stray quotes silently);
    // a file it cannot follow as a whole (mixed line endings) is refused before anything is staged.
    await read.catch((e: unknown) => {
      const why = String((e as Error)?.message ?? e);
      if (/state machine reached an invalid state|Error when sniffing file|could not parse/i.test(why))
        throw new CsvDialectError(`report file ${f + 1}: DuckDB's CSV reader refused it (${why.split('\n')[0]})`);
      throw e;
    });
    const columnsOut = schema.columns.map((declared) => {
      const j = files.fileColumns.findIndex((x) => x.name === declared.name);
      if (j < 0)
        return `${casts.typed(literal(files.constants![declared.name]!), declared.type)} AS ${q(declared.name)}`;
      return `${staged(j)} AS ${q(declared.name)}`;
    });
    const first = (await c.runAndReadAll(`SELECT min(rowid) AS b FROM ${q(raw)}`)).getRowObjectsJS()[0]?.b ?? 0n;
    const k = `(rowid - ${String(first)} + 1)`;
    await write(`SELECT ${columnsOut.join(', ')}, ${seqBase} + ${k} AS _seq FROM ${q(raw)} WHERE _bad IS NULL`);
    const counts = (
      await c.runAndReadAll(
        `SELECT count(*) FILTER (WHERE _bad IS NULL) AS good, count(*) FILTER (WHERE _bad IS NOT NULL) AS bad ` +
          `FROM ${q(raw)}`,
      )
    ).getRowObjectsJS()[0] as { good: bigint; bad: bigint };
    const good = Number(counts.good);
    const typeBad = Number(counts.bad);
    const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRowObjectsJS()[0]?.n ?? 0);
    const rejected =
      `SELECT line, first(error_type ORDER BY column_idx) AS type, ` +
      `min(column_idx) FILTER (WHERE error_type = 'MISSING COLUMNS') AS missing FROM temp.${q(rejects)} GROUP BY line`;
    const structuralBad = await count(`SELECT count(*) AS n FROM (${rejected})`);

    // The first `want` bad records in line order. Lines count records (the header is 1), as DuckDB's rejects
    // do: the k-th kept record is on the k-th line from 2 that is not a rejected one.
    const where = (line: number) => `file ${f + 1} line ${line}`;
    const samples: { line: number; text: string }[] = [];
    if (typeBad + structuralBad > 0 && want > 0) {
      const firstRejected = (await c.runAndReadAll(`${rejected} ORDER BY line LIMIT ${want}`)).getRowObjectsJS() as {
        line: bigint;
        type: string;
        missing: bigint | null;
      }[];
      for (const r of firstRejected)
        samples.push({
          line: Number(r.line),
          text: `${where(Number(r.line))}: ${structural(r.type, r.missing === null ? null : Number(r.missing), header.fields)}`,
        });
      if (typeBad > 0) {
        const total = good + typeBad + structuralBad;
        const firstBad = (
          await c.runAndReadAll(
            `WITH kept AS (SELECT g AS line, row_number() OVER (ORDER BY g) AS k FROM generate_series(2, ${total + 1}) t(g) ` +
              `WHERE g NOT IN (SELECT line FROM temp.${q(rejects)})), ` +
              `bad AS (SELECT ${k} AS _k, _bad AS why FROM ${q(raw)} WHERE _bad IS NOT NULL ORDER BY rowid LIMIT ${want}) ` +
              `SELECT kept.line, bad.why FROM bad JOIN kept ON kept.k = bad._k ORDER BY kept.line`,
          )
        ).getRowObjectsJS() as { line: bigint; why: string }[];
        for (const b of firstBad)
          samples.push({ line: Number(b.line), text: `${where(Number(b.line))}, column ${b.why}` });
      }
      samples.sort((a, b) => a.line - b.line);
    }
    return { good, bad: typeBad + structuralBad, samples: samples.slice(0, want) };
  } finally {
    for (const t of [raw, rejects, scans]) await c.run(`DROP TABLE IF EXISTS temp.${q(t)}`).catch(() => undefined);
  }
}
