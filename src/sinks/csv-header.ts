/**
 * The header of a landed CSV file, read by the warehouses' own loaders (`Warehouse.loadCsv`) before they read
 * the rest: where each declared column is, found by name (trimmed, case-insensitive, in any order), and how
 * many fields a record has. The same rules and messages as the JavaScript reader (src/kit/activity/csv.ts).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { parse } from 'csv-parse';
import { CsvDialectError, CsvHeaderError } from './file-rows';
import type { Column } from './warehouse';

/** A file's header: where each carried column is, and how many fields a record has. */
export interface CsvHeader {
  path: string;
  fields: number;
  /** Field index of each of `fileColumns`, in their order. */
  index: number[];
}

/** Reads the first record of a file (gunzipped when `.gz`) and finds the declared columns in it. */
export async function readCsvHeader(file: string, i: number, columns: Column[]): Promise<CsvHeader> {
  const source = fs.createReadStream(file);
  const parser = parse({ bom: true, to: 1, relax_column_count: true });
  const input = file.endsWith('.gz') ? source.pipe(zlib.createGunzip()) : source;
  source.once('error', (e) => parser.destroy(e));
  input.once('error', (e: Error) => parser.destroy(e));
  input.pipe(parser);
  let first: string[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      first = record;
      break; // the header only: the rest of the file is DuckDB's to read
    }
  } finally {
    source.destroy();
  }
  if (!first) throw new CsvHeaderError(`report file ${i + 1} is empty (no header)`);
  // The JavaScript reader skips blank lines before the header; a warehouse's reader would take it for one.
  if (first.length === 1 && first[0] === '')
    throw new CsvDialectError(`report file ${i + 1} has a blank line before its header`);
  // One field a record: a blank line would be a record of one empty field to a warehouse's reader (DuckDB reads
  // it as a row of NULL, BigQuery as a row of an empty field), and the JavaScript reader skips it.
  if (first.length === 1) throw new CsvDialectError(`report file ${i + 1} has one column`);
  const header = first.map((h) => h.trim().toLowerCase());
  const missing = columns.filter((c) => !header.includes(c.name)).map((c) => c.name);
  if (missing.length)
    throw new CsvHeaderError(
      `report file ${i + 1} lacks column(s) ${missing.join(', ')} (header: ${header.join(',')})`,
    );
  return { path: file, fields: header.length, index: columns.map((c) => header.indexOf(c.name)) };
}
