/**
 * Loads landed CSV parts into a declared table: with the warehouse's own loader when it has one
 * (`Warehouse.loadCsv`: DuckDB's read_csv), else — or when that loader refuses a file as a whole — through
 * the JavaScript reader (`csvBatches`) from the landed copies. Either way: the same typing rules, bad rows
 * counted with samples, one transaction, `rowsLoaded` checked against the good rows.
 */
import type { Bucket } from '../../sinks/bucket';
import { CsvDialectError, emptyParseStats } from '../../sinks/file-rows';
import type { Column, CsvLoadResult, LoadOptions, Row, TableSchema, Warehouse, WriteMode } from '../../sinks/warehouse';
import { logger } from '../../node/logger';
import { csvBatches } from './csv';
import { openLanded, withLocalFiles } from './landing';

export interface LandedCsv {
  /** The landed parts' keys, in order. */
  keys: string[];
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
  if (warehouse.loadCsv) {
    try {
      const r = await withLocalFiles(bucket, landed.keys, (paths) =>
        warehouse.loadCsv!(
          schema,
          { paths, fileColumns: landed.fileColumns, constants: landed.constants, maxBadRows: landed.maxBadRows },
          mode,
          opts,
        ),
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
  const stats = emptyParseStats();
  const batches = csvBatches(
    { name: schema.name, columns: landed.fileColumns },
    landed.keys.length,
    (i) => openLanded(bucket, landed.keys[i]!),
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
