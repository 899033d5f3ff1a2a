/**
 * Streams report files (CSV with a header, or NDJSON: `fileBatches`) into typed warehouse rows, in bounded
 * batches: memory does not grow with the report. Rows that do not fit the declared schema are counted (with a few samples), never silently
 * dropped; past the tolerance (`maxBadRows`) the parse fails at once (BadRowsError), naming the file, line
 * and column — never quoting the file's content.
 */
import { Transform, type Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse';
import type { Row, TableSchema } from '../../sinks/warehouse';
import { countBad, CsvHeaderError, TIMESTAMP, type ParseStats } from '../../sinks/file-rows';

export { BadRowsError, CsvHeaderError, type ParseStats } from '../../sinks/file-rows';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INT = /^-?\d+$/;
/** A decimal number (not hex, binary or octal, which Number() also reads; no digit separators). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** YYYY-MM-DD that is a day of the calendar. */
function isCalendarDay(v: string): boolean {
  const day = Date.parse(`${v}T00:00:00Z`);
  return !Number.isNaN(day) && new Date(day).toISOString().slice(0, 10) === v;
}

/** A value that does not fit its column; the message says what was expected, never the value. */
class CellError extends Error {}

/** An escape of a surrogate in JSON text (`\ud800`–`\udfff`): the cheap test before looking at its strings. */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A surrogate not in a pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether every string of a parsed JSON value, keys included, is Unicode text (no lone surrogate). */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.every(wellFormed);
  if (value && typeof value === 'object')
    return Object.entries(value).every(([k, x]) => !LONE_SURROGATE.test(k) && wellFormed(x));
  return true;
}

function convert(type: string, raw: string): string | number | null {
  const v = raw.trim();
  if (v === '') return null;
  switch (type) {
    case 'DATE': {
      // A calendar day (2026-02-30 is not one: it would fail the whole load in the warehouse).
      if (!DATE.test(v) || !isCalendarDay(v)) throw new CellError('not a date (YYYY-MM-DD)');
      return v;
    }
    case 'TIMESTAMP': {
      // The shape TIMESTAMP (UTC unless an offset is given) on a calendar day: "2026-02-30T00:00Z", which
      // Date.parse would roll over to March, is not a timestamp.
      const m = TIMESTAMP.exec(v);
      if (!m || !isCalendarDay(m[1]!)) throw new CellError('not a timestamp');
      const t = Date.parse(m[2] ? `${m[1]}T${m[2]}${m[4] ?? 'Z'}` : `${m[1]}T00:00:00Z`);
      if (Number.isNaN(t)) throw new CellError('not a timestamp');
      // Date keeps milliseconds (it drops the rest): the fraction's 4th to 6th digits are put back, as six
      // digits — one instant, one text (an offset moves whole minutes); past microseconds they are dropped, as
      // DuckDB drops them.
      const iso = new Date(t).toISOString();
      const fraction = m[3] ?? '';
      return fraction.length > 3 ? `${iso.slice(0, -1)}${fraction.slice(3, 6).padEnd(3, '0')}Z` : iso;
    }
    case 'BOOL': {
      // As BigQuery casts text: true or false, in any case.
      const b = v.toLowerCase();
      if (b !== 'true' && b !== 'false') throw new CellError('not a boolean');
      return b;
    }
    case 'JSON': {
      let value: unknown;
      try {
        value = JSON.parse(v);
      } catch {
        throw new CellError('not JSON');
      }
      // JSON.parse takes an escaped lone surrogate ("\ud800"), which no Unicode text holds: the warehouses'
      // JSON refuses it (DuckDB's reader counts the row bad), so it is not JSON here either.
      if (LONE_SURROGATE_ESCAPE.test(v) && !wellFormed(value)) throw new CellError('not JSON');
      return raw;
    }
    case 'INT64': {
      if (!INT.test(v)) throw new CellError('not an integer');
      const n = Number(v);
      if (Number.isSafeInteger(n)) return n;
      // Beyond 2^53 a number would lose digits: kept as text when it fits a 64-bit integer.
      const big = BigInt(v);
      if (big > 9223372036854775807n || big < -9223372036854775808n) throw new CellError('not an integer');
      return big.toString();
    }
    case 'FLOAT64': {
      if (!DECIMAL.test(v)) throw new CellError('not a number');
      const n = Number(v);
      if (!Number.isFinite(n)) throw new CellError('not a number');
      return n;
    }
    default:
      return raw;
  }
}

/** The formats `fileBatches` reads. */
export type RowFileFormat = 'csv' | 'ndjson';

/** What reading one file needs: the table, the counts to keep, the batch size and the bad-row tolerance. */
interface ReadContext {
  schema: TableSchema;
  stats: ParseStats;
  batchSize: number;
  maxBadRows: number;
}

/**
 * Yields batches of typed rows from report files opened one after another (`open(i)` for file i), CSV with a
 * header or NDJSON. A row that does not type is counted in `stats`; the one that takes the count past
 * `maxBadRows` fails the parse.
 */
export async function* fileBatches(
  format: RowFileFormat,
  schema: TableSchema,
  files: number,
  open: (i: number) => Promise<Readable>,
  stats: ParseStats,
  batchSize = 5000,
  maxBadRows = Infinity,
): AsyncGenerator<Row[]> {
  const read = format === 'csv' ? csvFileBatches : ndjsonFileBatches;
  const context: ReadContext = { schema, stats, batchSize, maxBadRows };
  for (let f = 0; f < files; f++) {
    const source = await open(f);
    try {
      yield* read(context, source, f);
    } finally {
      // A read stopped early (a bad row past the tolerance, a refused header, a load that failed or was
      // cancelled) leaves its source paused, not ended: a file handle, or an S3 response's socket, for good.
      source.destroy();
    }
    stats.files++;
  }
}

/** Collects rows into batches of `size`: `add` hands back a full batch, `rest` what is left at the end. */
class Batcher {
  private batch: Row[] = [];
  constructor(private readonly size: number) {}
  add(row: Row): Row[] | undefined {
    this.batch.push(row);
    if (this.batch.length < this.size) return undefined;
    const full = this.batch;
    this.batch = [];
    return full;
  }
  rest(): Row[] | undefined {
    return this.batch.length ? this.batch : undefined;
  }
}

/** A record's fields as text; undefined when one of them is not UTF-8. */
function utf8Fields(fields: Buffer[]): string[] | undefined {
  const out = new Array<string>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (!isUtf8(field)) return undefined;
    out[i] = field.toString('utf8');
  }
  return out;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The bytes of a stream without a leading UTF-8 byte order mark. (csv-parse's own `bom` option switches the
 * parser to decoding every field after one — with replacement characters, hiding bytes that are not UTF-8.)
 */
function withoutBom(): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    // Strings written to it arrive as bytes (the stream's `decodeStrings`).
    transform(bytes: Buffer, _encoding, done) {
      if (head === undefined) return done(null, bytes);
      head = Buffer.concat([head, bytes]);
      if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) return done(); // maybe a BOM yet
      const rest = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      head = undefined;
      done(null, rest);
    },
    flush(done) {
      if (head?.length) this.push(head); // a file of one or two bytes that begin a BOM
      done();
    },
  });
}

/** One CSV file: a header naming every declared column (in any order), then records. */
async function* csvFileBatches(
  { schema, stats, batchSize, maxBadRows }: ReadContext,
  source: Readable,
  f: number,
): AsyncGenerator<Row[]> {
  const sample = (msg: string) => countBad(stats, msg, maxBadRows);
  // Fields as bytes (`encoding: null`; the BOM removed before, see withoutBom): decoding them here finds a
  // record that is not UTF-8, which DuckDB's reader refuses too — a decoding stream would load it with
  // replacement characters instead.
  const parser = parse({ bom: false, relax_column_count: true, skip_empty_lines: true, encoding: null });
  // `pipe` does not carry the source's errors: a connection reset mid-download would leave the parser
  // waiting forever (the activity then dies only by its heartbeat timeout). Fail the parse instead.
  source.once('error', (e) => parser.destroy(e));
  source.pipe(withoutBom()).pipe(parser);
  let index: number[] | undefined;
  let fields = 0; // the header's
  const batches = new Batcher(batchSize);
  let line = 0;
  for await (const bytes of parser as AsyncIterable<Buffer[]>) {
    line++;
    const record = utf8Fields(bytes);
    if (!index) {
      // The header read as the warehouses' readers read it (src/sinks/csv-header.ts): a byte that is not UTF-8
      // in a column's name is a replacement character there, and the declared (ASCII) names still match.
      const header = (record ?? bytes.map((h) => h.toString('utf8'))).map((h) => h.trim().toLowerCase());
      const missing = schema.columns.filter((c) => !header.includes(c.name)).map((c) => c.name);
      if (missing.length)
        throw new CsvHeaderError(
          `report file ${f + 1} lacks column(s) ${missing.join(', ')} (header: ${header.join(',')})`,
        );
      index = schema.columns.map((c) => header.indexOf(c.name));
      fields = header.length;
      continue;
    }
    stats.rowsParsed++;
    if (!record) {
      sample(`file ${f + 1} line ${line}: not UTF-8`);
      continue;
    }
    if (record.length < fields) {
      sample(`file ${f + 1} line ${line}: ${record.length} fields, the header has ${fields}`);
      continue;
    }
    const cells = index;
    const at = line;
    const row = typedRow(
      schema,
      (i) => record[cells[i]] ?? '',
      () => `file ${f + 1} line ${at}`,
    );
    if (typeof row === 'string') {
      sample(row);
      continue;
    }
    const full = batches.add(row);
    if (full) yield full;
  }
  if (!index) throw new CsvHeaderError(`report file ${f + 1} is empty (no header)`);
  const rest = batches.rest();
  if (rest) yield rest;
}

/**
 * One NDJSON file: one JSON object per line, its fields by column name (a field the table does not declare
 * fails the parse, naming it: nothing is dropped silently). Values are typed as in CSV; rows that do not
 * type are counted the same way.
 */
async function* ndjsonFileBatches(
  { schema, stats, batchSize, maxBadRows }: ReadContext,
  source: Readable,
  f: number,
): AsyncGenerator<Row[]> {
  const declared = new Set(schema.columns.map((c) => c.name));
  const batches = new Batcher(batchSize);
  let line = 0;
  for await (const text of utf8Lines(source)) {
    line++;
    if (text !== undefined && text.trim() === '') continue;
    stats.rowsParsed++;
    const where = `file ${f + 1} line ${line}`;
    if (text === undefined) {
      countBad(stats, `${where}: not UTF-8`, maxBadRows);
      continue;
    }
    const record = parseJson(text);
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      countBad(stats, `${where}: not a JSON object`, maxBadRows);
      continue;
    }
    const fields = record as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !declared.has(k));
    if (unknown.length)
      throw new CsvHeaderError(`report ${where} has field(s) ${unknown.join(', ')} the table does not declare`);
    const row = typedRow(
      schema,
      (i) => fields[schema.columns[i].name],
      () => where,
    );
    if (typeof row === 'string') {
      countBad(stats, row, maxBadRows);
      continue;
    }
    const full = batches.add(row);
    if (full) yield full;
  }
  const rest = batches.rest();
  if (rest) yield rest;
}

/**
 * A row typed by the schema from its cells (`cell(i)` for column i: text, or null/undefined for NULL), or —
 * when a cell does not type — why not, naming the place (`where()`, built only then) and the column.
 */
function typedRow(schema: TableSchema, cell: (i: number) => unknown, where: () => string): Row | string {
  const row: Row = {};
  const columns = schema.columns;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const v = cell(i);
    try {
      // An NDJSON record's object or array (a JSON column) as its JSON text, a number or boolean as its text.
      const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      row[c.name] = v === null || v === undefined ? null : convert(c.type, text);
    } catch (e) {
      if (!(e instanceof CellError)) throw e;
      return `${where()}, column ${c.name}: ${e.message}`;
    }
  }
  return row;
}

/**
 * The lines of a stream, split at LF (a CR before it dropped; a lone CR is JSON white space, not a line break,
 * as DuckDB's NDJSON reader reads it), each as text, or undefined for a line that is not UTF-8 (a decoding
 * stream would give it with replacement characters). A source of strings (tests) is read as their UTF-8.
 */
async function* utf8Lines(source: Readable): AsyncGenerator<string | undefined> {
  const decoded = (bytes: Buffer) => {
    const body = bytes.length && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
    return isUtf8(body) ? body.toString('utf8') : undefined;
  };
  // The pieces of the line being read, joined once it ends (a long line over many chunks is copied once).
  let pieces: Buffer[] = [];
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let from = 0;
    for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, from)) {
      pieces.push(bytes.subarray(from, nl));
      yield decoded(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
      pieces = [];
      from = nl + 1;
    }
    if (from < bytes.length) pieces.push(bytes.subarray(from));
  }
  if (pieces.length) yield decoded(Buffer.concat(pieces));
}

/** A line's JSON value; undefined when it is not JSON (counted as a bad row, like any other). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
