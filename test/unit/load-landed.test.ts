/**
 * loadLandedCsv: parts land one ahead of the warehouse's reader (part i+1 downloads while part i is read), the
 * "all landed" callback runs before the last part is read and before anything is applied, and a file the
 * warehouse's reader refuses as a whole sends the load to the JavaScript reader over every landed part. And
 * retention of a window's landings.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLandedCsv, type LandedCsv } from '../../src/kit/activity/load-landed';
import { landPart, openLanded, pruneLandings } from '../../src/kit/activity/landing';
import { BadRowsError, fileBatches } from '../../src/kit/activity/csv';
import { reportSchema } from '../../src/pipelines/dailymotion/shared';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { LocalBucket } from '../../src/sinks/local-bucket';
import type { TableSchema, Warehouse } from '../../src/sinks/warehouse';
import { Readable } from 'node:stream';
import { tmpDir } from '../helpers/temporal';

const csv = reportSchema('t', ['DAY'], ['VIEWS']);
const table: TableSchema = { name: 'landed_t', columns: [...csv.columns, { name: 'cfg', type: 'STRING' }] };

const open: DuckDbWarehouse[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

function setup(texts: string[]) {
  const inner = new DuckDbWarehouse({ path: path.join(tmpDir(), 'w.duckdb'), memoryLimit: '128MB', threads: 1 });
  open.push(inner);
  const bucket = new LocalBucket(tmpDir());
  const events: string[] = [];
  // The warehouse's reader, observed: which path it takes, and when.
  const warehouse: Warehouse = Object.assign(Object.create(inner) as DuckDbWarehouse, {
    loadCsv: async (...args: Parameters<NonNullable<Warehouse['loadCsv']>>) => {
      const [schema, files, mode, opts] = args;
      const observed = async function* () {
        for await (const p of files.paths) {
          events.push(`read ${path.basename(p)}`);
          yield p;
        }
      };
      const r = await inner.loadCsv(schema, { ...files, paths: observed() }, mode, opts);
      events.push('applied');
      return r;
    },
  });
  const landed: LandedCsv = {
    parts: texts.length,
    land: async (i) => {
      events.push(`land ${i}`);
      await new Promise((r) => setTimeout(r, 20)); // a download
      const key = await landPart(bucket, 'landed/t', i, 'csv', async () => Readable.from([texts[i]!]));
      events.push(`landed ${i}`);
      return key;
    },
    landed: async (keys) => {
      events.push(`all landed (${keys.length})`);
    },
    fileColumns: csv.columns,
    constants: { cfg: 'c1' },
  };
  return { warehouse, inner, bucket, events, landed };
}

const file = (day: string, n: number) => `day,views\n${day},${n}\n`;

describe('loadLandedCsv', () => {
  it('reads each part with the warehouse’s reader while the next one lands, and applies once all have', async () => {
    const { warehouse, inner, bucket, events, landed } = setup([
      file('2026-01-01', 1),
      file('2026-01-02', 2),
      file('2026-01-03', 3),
    ]);
    const r = await loadLandedCsv({ warehouse, bucket }, table, landed, { kind: 'append' });
    expect(r).toMatchObject({ reader: 'warehouse', rowsLoaded: 3, files: 3, rowsParsed: 3, badRows: 0 });
    expect(events).toEqual([
      'land 0',
      'landed 0',
      'land 1', // part 1 is downloading …
      'read part-00000.csv.gz', // … while part 0 is read
      'landed 1',
      'land 2',
      'read part-00001.csv.gz',
      'landed 2',
      'all landed (3)', // the manifest, before the last part is read and before anything is applied
      'read part-00002.csv.gz',
      'applied',
    ]);
    expect(await inner.count(table)).toBe(3);
  });

  it('lands every part and reads them in JavaScript when the warehouse’s reader refuses a file as a whole', async () => {
    // Mixed line endings in part 0: DuckDB's strict reader refuses the file; the JavaScript reader takes it.
    const mixed = 'day,views\r\n2026-01-01,1\r\n2026-01-02,2\n';
    const { warehouse, inner, bucket, events, landed } = setup([mixed, file('2026-01-03', 3), file('2026-01-04', 4)]);
    const r = await loadLandedCsv({ warehouse, bucket }, table, landed, { kind: 'append' });
    expect(r).toMatchObject({ reader: 'javascript', rowsLoaded: 4, files: 3, rowsParsed: 4, badRows: 0 });
    // Part 1 was landing when the reader refused part 0: it is waited for, then part 2 lands, then the
    // manifest; nothing lands twice.
    expect(events.filter((e) => e.startsWith('land'))).toEqual([
      'land 0',
      'landed 0',
      'land 1',
      'landed 1',
      'land 2',
      'landed 2',
    ]);
    expect(events.filter((e) => e.startsWith('all landed'))).toEqual(['all landed (3)']);
    expect(events).not.toContain('applied');
    expect(await inner.count(table)).toBe(4);
  });
});

describe('pruneLandings (retention of a window’s landings)', () => {
  it('keeps the landing just loaded and the newest others up to `keep`; deletes older ones, and incomplete ones hours after their last write', async () => {
    const bucket = new LocalBucket(tmpDir());
    const land = async (name: string, landedAt?: string) => {
      const prefix = `landed/p/t/w/cfg/${name}`;
      await bucket.put(`${prefix}/part-00000.csv.gz`, 'x');
      if (landedAt)
        await bucket.put(
          `${prefix}/manifest.json`,
          JSON.stringify({ parts: [`${prefix}/part-00000.csv.gz`], landedAt, meta: {} }),
        );
      return prefix;
    };
    await land('a', '2026-12-01T00:00:00Z');
    await land('b', '2026-12-02T00:00:00Z');
    const d = await land('d'); // an attempt whose report was asked again: never completed, two days ago
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    fs.utimesSync(bucket.pathOf(`${d}/part-00000.csv.gz`), twoDaysAgo, twoDaysAgo);
    // Another run of the same window and configuration, landing right now: not complete yet, not to delete.
    await land('e');
    const c = await land('c', '2026-12-03T00:00:00Z');
    const otherCfg = 'landed/p/t/w/cfg2/z';
    await bucket.put(`${otherCfg}/part-00000.csv.gz`, 'x');

    expect(await pruneLandings(bucket, 'landed/p/t/w/cfg', c, 2)).toBe(2); // a (older) and d (incomplete)
    const left = (await bucket.list('landed/')).map((o) => o.key).sort();
    expect(left).toEqual([
      'landed/p/t/w/cfg/b/manifest.json',
      'landed/p/t/w/cfg/b/part-00000.csv.gz',
      'landed/p/t/w/cfg/c/manifest.json',
      'landed/p/t/w/cfg/c/part-00000.csv.gz',
      'landed/p/t/w/cfg/e/part-00000.csv.gz',
      `${otherCfg}/part-00000.csv.gz`,
    ]);
    // Three hours later, nothing written to it since: e was given up (a load attempt lives an hour), and goes.
    expect(await pruneLandings(bucket, 'landed/p/t/w/cfg', c, 2, { now: Date.now() + 3 * 3600_000 })).toBe(1);
    expect((await bucket.list('landed/p/t/w/cfg/e')).length).toBe(0);
  });
});

describe('reading landed parts in JavaScript (openLanded + fileBatches)', () => {
  it.each(['csv', 'ndjson'] as const)(
    'a %s read stopped early (a bad row past the tolerance) closes the bucket’s stream of the part',
    async (format) => {
      const bucket = new LocalBucket(tmpDir());
      // A bad first row, then enough rows that do not compress to be read in many chunks: the read stops while
      // most of the file is still to come.
      const rows = Array.from({ length: 100_000 }, (_, i) => `${(i * 2654435761) % 4294967296}`);
      const text =
        format === 'csv'
          ? `day,views\nnot a day,1\n${rows.map((v) => `2026-01-02,${v}\n`).join('')}`
          : `{"day":"not a day","views":1}\n${rows.map((v) => `{"day":"2026-01-02","views":${v}}\n`).join('')}`;
      const gz = zlib.gzipSync(text);
      expect(gz.length).toBeGreaterThan(256 * 1024);
      await bucket.put('p/part-00000.gz', gz);
      // The bucket's streams, kept to look at after the read.
      const opened: Readable[] = [];
      const watched = Object.assign(Object.create(bucket) as LocalBucket, {
        getStream: async (key: string) => {
          const s = await bucket.getStream(key);
          opened.push(s);
          return s;
        },
      });
      const stats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
      const read = async () => {
        for await (const _ of fileBatches(format, csv, 1, () => openLanded(watched, 'p/part-00000.gz'), stats, 10, 0));
      };
      await expect(read()).rejects.toBeInstanceOf(BadRowsError);
      expect(opened).toHaveLength(1);
      await new Promise((r) => setImmediate(r));
      expect(opened[0]!.destroyed).toBe(true);
    },
  );
});
