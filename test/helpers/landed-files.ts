/** Landed CSV files for the warehouses' own loaders (`Warehouse.loadCsv`) in tests. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Column, CsvLoad } from '../../src/sinks/warehouse';
import { tmpDir } from './temporal';

/** A file's bytes from text and raw byte values in order (bytes that are not UTF-8 among valid text). */
export const bytesOf = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Writes each text as a file in a fresh folder (gzipped when asked) and returns their paths. */
export function landed(texts: (string | Buffer)[], gz = false): string[] {
  const dir = tmpDir();
  return texts.map((t, i) => {
    const p = path.join(dir, `part-${i}.csv${gz ? '.gz' : ''}`);
    fs.writeFileSync(p, gz ? zlib.gzipSync(t) : t);
    return p;
  });
}

/** A load of `paths` carrying `fileColumns`, the table's `cfg` column given as the constant c1. */
export const csvLoadOf =
  (fileColumns: Column[]) =>
  (paths: string[], maxBadRows = 0): CsvLoad => ({ paths, fileColumns, constants: { cfg: 'c1' }, maxBadRows });
