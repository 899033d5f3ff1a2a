/**
 * Table exports for a warehouse without an exporter to a local file (BigQuery: EXPORT DATA writes only to
 * Cloud Storage): rows streamed in the warehouse-neutral shape (query results' shape) into NDJSON, a JSON
 * array or CSV; Parquet through DuckDB's writer, from an NDJSON file typed by the table's declared columns (no
 * hand-written Parquet). Memory stays bounded by the warehouse's page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCK_TYPES } from './duckdb';
import { literal, q } from './duckdb-csv';
import type { ExportFormat, TableColumn } from './warehouse';

/** A CSV field: quoted when it holds a comma, a quote or a line break; objects as their JSON. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function write(out: fs.WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: fs.WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Writes `rows` (objects keyed by the columns' names) to `file` in `format`; returns how many. */
export async function writeRows(
  rows: AsyncIterable<Record<string, unknown>>,
  columns: readonly TableColumn[],
  format: ExportFormat,
  file: string,
): Promise<number> {
  if (format === 'parquet') {
    const ndjson = `${file}.${process.pid}.ndjson`;
    try {
      const n = await writeRows(rows, columns, 'ndjson', ndjson);
      await ndjsonToParquet(ndjson, columns, file);
      return n;
    } finally {
      fs.rmSync(ndjson, { force: true });
    }
  }
  const out = fs.createWriteStream(file);
  let n = 0;
  try {
    if (format === 'csv') await write(out, columns.map((c) => csvField(c.name)).join(',') + '\n');
    if (format === 'json') await write(out, '[');
    for await (const row of rows) {
      const line =
        format === 'csv'
          ? columns.map((c) => csvField(row[c.name])).join(',')
          : JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, row[c.name] ?? null])));
      await write(out, format === 'json' ? (n ? ',\n' : '\n') + line : line + '\n');
      n++;
    }
    if (format === 'json') await write(out, n ? '\n]\n' : ']\n');
  } finally {
    await close(out);
  }
  return n;
}

/** An NDJSON file to Parquet with the declared columns' types, by DuckDB (in memory, nothing kept). */
async function ndjsonToParquet(ndjson: string, columns: readonly TableColumn[], file: string): Promise<void> {
  const types = columns
    .map((c) => `${literal(c.name)}: ${literal(c.type ? DUCK_TYPES[c.type] : 'VARCHAR')}`)
    .join(', ');
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  const c = await db.connect();
  try {
    await c.run(
      `COPY (SELECT ${columns.map((x) => q(x.name)).join(', ')} FROM read_json(${literal(path.resolve(ndjson))}, ` +
        `format = 'newline_delimited', columns = {${types}})) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
