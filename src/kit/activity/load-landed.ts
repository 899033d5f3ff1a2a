/**
 * Lands a download's parts and loads them into a declared table: with the warehouse's own loader when it has
 * one (`Warehouse.loadCsv`: DuckDB's read_csv, BigQuery's load jobs), each part read as soon as it has landed
 * while the next one downloads; else — or when that loader refuses a file as a whole — through the JavaScript
 * reader (`fileBatches`) from the landed copies. Either way: the same typing rules, bad rows counted with
 * samples, one transaction, `rowsLoaded` checked against the good rows by the caller.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '../../sinks/bucket';
import { LocalBucket } from '../../sinks/local-bucket';
import { CsvDialectError, emptyParseStats } from '../../sinks/file-rows';
import type { Column, CsvLoadResult, LoadOptions, Row, TableSchema, Warehouse, WriteMode } from '../../sinks/warehouse';
import { logger } from '../../node/logger';
import { fileBatches } from './csv';
import { openLanded } from './landing';

export interface LandedCsv {
  /** How many parts there are. */
  parts: number;
  /** Lands part `i` (or finds it landed: it must be idempotent) and returns its key. */
  land: (i: number) => Promise<string>;
  /** Called once every part has landed, before anything is applied (e.g. writes the landing's manifest). */
  landed?: (keys: string[]) => Promise<void>;
  /** The declared columns the files carry; the table's others come from `constants`. */
  fileColumns: Column[];
  constants?: Record<string, string>;
  maxBadRows?: number;
}

export async function loadLandedCsv(
  sinks: { warehouse: Warehouse; bucket: Bucket },
  schema: TableSchema,
  landed: LandedCsv,
  mode: WriteMode | undefined,
  opts: LoadOptions & { onBatch?: (rowsParsed: number) => void } = {},
): Promise<CsvLoadResult & { reader: 'warehouse' | 'javascript' }> {
  const { warehouse, bucket } = sinks;
  // The parts landed so far, in order; `complete` once the landing's callback has run.
  const keys: string[] = [];
  let complete = false;
  const allLanded = async () => {
    await landed.landed?.(keys);
    complete = true;
  };
  if (warehouse.loadCsv) {
    try {
      const paths = landedPaths(bucket, landed, keys, allLanded);
      const r = await warehouse.loadCsv(
        schema,
        { paths, fileColumns: landed.fileColumns, constants: landed.constants, maxBadRows: landed.maxBadRows },
        mode,
        opts,
      );
      return { ...r, reader: 'warehouse' };
    } catch (err) {
      if (!(err instanceof CsvDialectError)) throw err;
      logger.warn(
        { table: schema.name, reason: err.message },
        'the warehouse refused a landed file: reading it in JavaScript',
      );
    }
  }
  // Every part lands first (the rest of them, when the warehouse's reader stopped part way).
  while (keys.length < landed.parts) keys.push(await landed.land(keys.length));
  if (!complete) await allLanded();
  const all = keys;
  const stats = emptyParseStats();
  const batches = fileBatches(
    'csv',
    { name: schema.name, columns: landed.fileColumns },
    all.length,
    (i) => openLanded(bucket, all[i]!),
    stats,
    5000,
    landed.maxBadRows ?? 0,
  );
  const constants = landed.constants ?? {};
  const tagged = async function* (): AsyncGenerator<Row[]> {
    for await (const b of batches) {
      opts.onBatch?.(stats.rowsParsed);
      for (const row of b) Object.assign(row, constants);
      yield b;
    }
  };
  const { rowsLoaded } = await warehouse.load(schema, tagged(), mode, opts);
  return { ...stats, rowsLoaded, reader: 'javascript' };
}

/**
 * The parts' local paths, each yielded once it has landed while the next one already lands (one ahead):
 * the local bucket's own files, or private temporary copies of another bucket's objects (removed at the end).
 * Landed keys are pushed to `keys` (a part still landing when the reader stops is awaited and kept);
 * `allLanded` runs when the last part has landed, before its path is yielded.
 */
async function* landedPaths(
  bucket: Bucket,
  landed: LandedCsv,
  keys: string[],
  allLanded: () => Promise<void>,
): AsyncGenerator<string> {
  const local = bucket instanceof LocalBucket ? bucket : undefined;
  const dir = local ? undefined : await fs.promises.mkdtemp(path.join(os.tmpdir(), 'longhaul-landed-'));
  let next: Promise<string> | undefined;
  const start = (i: number) => {
    if (i >= landed.parts) return undefined;
    const p = landed.land(i);
    p.catch(() => undefined); // awaited below; not an unhandled rejection if the reader stops first
    return p;
  };
  try {
    next = start(0);
    for (let i = 0; i < landed.parts; i++) {
      const key = await next!;
      next = start(i + 1);
      keys.push(key);
      if (i === landed.parts - 1) await allLanded();
      if (local) {
        yield local.pathOf(key);
        continue;
      }
      const copy = path.join(dir!, `${i}-${path.basename(key)}`);
      await pipeline(await bucket.getStream(key), fs.createWriteStream(copy, { mode: 0o600 }));
      yield copy;
      await fs.promises.rm(copy, { force: true });
    }
    if (landed.parts === 0) await allLanded();
  } finally {
    // A reader that stopped early (an error) leaves no landing running behind it; what landed is kept.
    const last = await next?.catch(() => undefined);
    if (last !== undefined && keys.length < landed.parts) keys.push(last);
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
