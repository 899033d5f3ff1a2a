/**
 * `longhaul export <table> --format ndjson|json|csv|parquet [--to <bucket key>]`: a warehouse table as a file —
 * what the seeds gave their users (`data.to_json(orient='records', lines=True)`, the notebook's `songs.json`).
 * The warehouse writes the file with its own exporter where it has one (Warehouse.exportTable); it then goes
 * to the bucket (one atomic put: a key never names a partial export) or to standard output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '../sinks/bucket';
import { assertKey } from '../sinks/bucket';
import { EXPORT_FORMATS, IDENT, UnknownTableError, type ExportFormat, type Warehouse } from '../sinks/warehouse';
import { InputError } from '../shared/validation';

export interface ExportOptions {
  format: string;
  /** A bucket key; absent: standard output. */
  to?: string;
}

export interface ExportOutcome {
  table: string;
  format: ExportFormat;
  rows: number;
  bytes: number;
  /** Where it went: the bucket object's URI, or "stdout". */
  where: string;
}

/** Checks the arguments before anything is read (exit 2 on a refusal, naming the argument). */
export function checkExport(table: string, opts: ExportOptions, stdoutIsTty: boolean): ExportFormat {
  if (!IDENT.test(table))
    throw new InputError(
      `table "${table}": a table name is letters, digits and underscores, not starting with a digit`,
    );
  const format = opts.format as ExportFormat;
  if (!EXPORT_FORMATS.includes(format))
    throw new InputError(`--format ${opts.format}: one of ${EXPORT_FORMATS.join(', ')}`);
  if (opts.to !== undefined) {
    try {
      assertKey(opts.to);
    } catch {
      throw new InputError(`--to ${opts.to}: not a bucket key (a relative path without "..", "//" or a leading "/")`);
    }
  }
  if (opts.to === undefined && format === 'parquet' && stdoutIsTty)
    throw new InputError('--format parquet is binary: give --to <bucket key>, or redirect the output to a file');
  return format;
}

export async function exportTable(
  deps: { warehouse: Warehouse; bucket: Bucket },
  table: string,
  opts: ExportOptions,
  stdout: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<ExportOutcome> {
  const format = checkExport(table, opts, Boolean(stdout.isTTY));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-export-'));
  try {
    const file = path.join(dir, `${table}.${format}`);
    let rows: number;
    try {
      ({ rows } = await deps.warehouse.exportTable(table, format, file));
    } catch (err) {
      if (err instanceof UnknownTableError) throw new InputError(err.message);
      throw err;
    }
    const bytes = fs.statSync(file).size;
    if (opts.to !== undefined) {
      await deps.bucket.put(opts.to, fs.createReadStream(file));
      return { table, format, rows, bytes, where: deps.bucket.uri(opts.to) };
    }
    await pipeline(fs.createReadStream(file), stdout, { end: false });
    return { table, format, rows, bytes, where: 'stdout' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
