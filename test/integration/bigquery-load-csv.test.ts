/**
 * BigQuery's native CSV load (`loadCsv`: a load job per landed file into a raw table, checked and typed in SQL)
 * on the goccy emulator, against the JavaScript reader it stands in for (`fileBatches` + `load`): the same rows
 * when it loads; a CsvDialectError with nothing written when a file needs the JavaScript reader's rules (a
 * bad value, a value to trim, a record BigQuery's reader refuses), and then — through `loadLandedCsv`, as the
 * Dailymotion load calls it — the JavaScript reader's rows, counts and samples.
 */
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileBatches, type ParseStats } from '../../src/kit/activity/csv';
import { loadLandedCsv } from '../../src/kit/activity/load-landed';
import { reportSchema } from '../../src/pipelines/dailymotion/shared';
import { BigQueryWarehouse } from '../../src/sinks/bigquery';
import { CsvDialectError } from '../../src/sinks/file-rows';
import { LocalBucket } from '../../src/sinks/local-bucket';
import {
  fromArray,
  replaceRangeOf,
  RowsOutsideRangeError,
  type Row,
  type TableSchema,
} from '../../src/sinks/warehouse';
import { emulatorExe, SupervisedEmulator } from '../helpers/production';
import { tmpDir } from '../helpers/temporal';
import { bytesOf, csvLoadOf, landed } from '../helpers/landed-files';

const csv = reportSchema('t', ['DAY', 'HOUR', 'VIDEO_TITLE'], ['VIEWS', 'VIEW_THROUGH_RATE']);
const table = (name: string, write: TableSchema['write'] = { kind: 'append' }): TableSchema => ({
  name,
  columns: [...csv.columns, { name: 'cfg', type: 'STRING' }],
  write,
});
const load = csvLoadOf(csv.columns);
const order = { orderBy: [{ column: 'day' }, { column: 'video_title' }] };

/** The JavaScript reader's rows for the same files (with the constant), in the warehouse's order. */
async function jsRows(texts: string[]) {
  const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
  const rows: Row[] = [];
  for await (const b of fileBatches('csv', csv, texts.length, async (i) => Readable.from([texts[i]]), stats, 100, 0))
    rows.push(...b.map((r) => ({ ...r, cfg: 'c1' })));
  rows.sort(
    (a, b) => String(a.day).localeCompare(String(b.day)) || String(a.video_title).localeCompare(String(b.video_title)),
  );
  return { rows, stats };
}

const clean1 =
  '\uFEFFday,hour,video_title,views,view_through_rate\r\n' +
  '2026-01-01,2026-01-01 10:00:00,"Café, ""quoted"" 🎬",12,0.5\r\n' +
  '2026-01-02,2026-01-02T23:59:59.250Z,plain,3,\r\n';
const clean2 =
  'video_title,extra,day,view_through_rate,views,hour\n' +
  '"two\nlines",x,2026-01-03,1.25e1,-7,\n' +
  '  padded text  ,y,2026-01-04,.5,9007199254740993,2026-01-04T00:00:00\n';

describe.skipIf(!emulatorExe)('BigQuery loadCsv on the emulator (its own CSV reader)', () => {
  let emu: SupervisedEmulator;
  let w: BigQueryWarehouse;
  beforeAll(async () => {
    emu = await new SupervisedEmulator({ name: 'bigquery-emulator-load-csv' }).start();
    w = new BigQueryWarehouse({ projectId: 'test', datasetId: 'longhaul', apiEndpoint: emu.url });
  });
  afterAll(async () => {
    await w?.close();
    await emu?.stop();
  });

  it('loads what the JavaScript reader loads: BOM, CRLF, quotes, newlines, any column order, gzip, empty = NULL', async () => {
    const texts = [clean1, clean2];
    const r = await w.loadCsv(table('bq_csv_ok'), load(landed(texts, true)));
    const js = await jsRows(texts);
    expect(r).toMatchObject({ files: 2, rowsParsed: 4, badRows: 0, badRowSamples: [], rowsLoaded: 4 });
    expect(js.stats).toMatchObject({ files: 2, rowsParsed: 4, badRows: 0 });
    const rows = await w.select(table('bq_csv_ok'), order);
    expect(rows).toEqual(js.rows);
    // The JavaScript reader's reading of the tricky cells, spelled out.
    expect(rows.map((x) => x.hour)).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-02T23:59:59.250Z',
      null,
      '2026-01-04T00:00:00.000Z',
    ]);
    expect(rows.map((x) => x.views)).toEqual([12, 3, -7, '9007199254740993']);
    expect(rows.map((x) => x.video_title)).toEqual(['Café, "quoted" 🎬', 'plain', 'two\nlines', '  padded text  ']);
    const [tables] = await w.client.dataset('longhaul').getTables();
    expect(tables.map((t) => t.id).filter((id) => /^_(stage|csv)_/.test(id ?? ''))).toEqual([]);
  });

  it('stores a negative zero as the JavaScript reader does (0)', async () => {
    const texts = ['day,hour,video_title,views,view_through_rate\n2026-01-09,,zero,0,-0\n2026-01-10,,neg,-0,-0.0\n'];
    await w.loadCsv(table('bq_csv_zero'), load(landed(texts)));
    // The JavaScript path, as loadLandedCsv takes it: its rows through the warehouse's load.
    await w.load(table('bq_csv_zero_js'), fromArray((await jsRows(texts)).rows));
    const native = await w.select(table('bq_csv_zero'), order);
    expect(native).toEqual(await w.select(table('bq_csv_zero_js'), order));
    expect(native.map((r) => [r.views, r.view_through_rate])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it.each([
    ['a bad value', 'day,hour,video_title,views,view_through_rate\n2026-01-05,,x,many,1\n', /views: 1/],
    ['a value to trim', 'day,hour,video_title,views,view_through_rate\n2026-01-05,,x, 7 ,1\n', /views: 1/],
    ['a day that is not one', 'day,hour,video_title,views,view_through_rate\n2026-02-30,,x,7,1\n', /day: 1/],
    [
      'a timestamp with an offset',
      'day,hour,video_title,views,view_through_rate\n2026-01-05,2026-01-05T10:00:00+02:00,x,7,1\n',
      /hour: 1/,
    ],
    ['blank text', 'day,hour,video_title,views,view_through_rate\n2026-01-05,,"   ",7,1\n', /video_title: 1/],
    ['a short record', 'day,hour,video_title,views,view_through_rate\n2026-01-05,,x,7\n', /refused report file 2/],
    ['a stray quote', 'day,hour,video_title,views,view_through_rate\n2026-01-05,,x"y,7,1\n', /refused report file 2/],
    [
      'a blank line before the header',
      '\nday,hour,video_title,views,view_through_rate\n2026-01-05,,x,7,1\n',
      /file 2 has a blank line before its header/,
    ],
  ])('leaves %s to the JavaScript reader, writing nothing', async (_, text, reason) => {
    const name = 'bq_csv_refused';
    await w.load(table(name), fromArray([{ day: '2026-01-01', video_title: 'kept', views: 1, cfg: 'c0' }]));
    const before = await w.select(table(name), order);
    const err = await w.loadCsv(table(name), load(landed([clean1, text]))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvDialectError);
    expect((err as Error).message).toMatch(reason);
    expect(await w.select(table(name), order)).toEqual(before);
  });

  it('through loadLandedCsv: clean files by the warehouse, a dirty one by the JavaScript reader (counts, samples)', async () => {
    const bucket = new LocalBucket(tmpDir());
    const parts = async (texts: (string | Buffer)[], prefix: string) => {
      for (const [i, t] of texts.entries()) await bucket.put(`${prefix}/part-${i}.csv.gz`, zlib.gzipSync(t));
      return {
        parts: texts.length,
        land: async (i: number) => `${prefix}/part-${i}.csv.gz`,
        fileColumns: csv.columns,
        constants: { cfg: 'c1' },
        maxBadRows: 5,
      };
    };
    const sinks = { warehouse: w, bucket };
    const ok = await loadLandedCsv(sinks, table('bq_landed'), await parts([clean1, clean2], 'a'), undefined);
    expect(ok).toMatchObject({ reader: 'warehouse', rowsLoaded: 4, badRows: 0 });
    const dirty = 'day,hour,video_title,views,view_through_rate\n2026-01-05,,x,many,1\n2026-01-06,,y,8,1\n';
    const r = await loadLandedCsv(sinks, table('bq_landed_dirty'), await parts([clean1, dirty], 'b'), undefined);
    expect(r).toMatchObject({ reader: 'javascript', rowsLoaded: 3, rowsParsed: 4, badRows: 1 });
    expect(r.badRowSamples).toEqual(['file 2 line 2, column views: not an integer']);
    // A record that is not UTF-8 is a bad row, as DuckDB and the JavaScript reader count it — never text with
    // a replacement character (which BigQuery's reader may put in its place).
    const notUtf8 = bytesOf(
      'day,hour,video_title,views,view_through_rate\n2026-01-07,,ok,1,1\n2026-01-08,,bad ',
      [0x80],
      ' byte,2,1\n',
    );
    const u = await loadLandedCsv(sinks, table('bq_landed_utf8'), await parts([notUtf8], 'c'), undefined);
    expect(u).toMatchObject({ reader: 'javascript', rowsLoaded: 1, rowsParsed: 2, badRows: 1 });
    expect(u.badRowSamples).toEqual(['file 1 line 3: not UTF-8']);
    expect((await w.select(table('bq_landed_utf8'))).map((x) => x.video_title)).toEqual(['ok']);
    // In a field no column declares too (the JavaScript reader decodes every field of a record).
    const extra = bytesOf(
      'day,hour,video_title,views,view_through_rate,extra\n2026-01-09,,fine,1,1,x\n2026-01-10,,t,2,1,',
      [0xff],
      '\n',
    );
    const e = await loadLandedCsv(sinks, table('bq_landed_utf8_extra'), await parts([extra], 'd'), undefined);
    expect(e).toMatchObject({ reader: 'javascript', rowsLoaded: 1, rowsParsed: 2, badRows: 1 });
    expect(e.badRowSamples).toEqual(['file 1 line 3: not UTF-8']);
  });

  it('replaces a range in one step and refuses rows outside it; a merge whose keys repeat goes to the JavaScript reader', async () => {
    const name = 'bq_csv_range';
    const s: TableSchema = { ...table(name), write: { kind: 'replaceRange', column: 'day', ownedBy: ['cfg'] } };
    const mode = replaceRangeOf(s, '2026-01-01', '2026-01-03', { cfg: 'c1' });
    await w.load(s, fromArray([{ day: '2026-01-02', video_title: 'old', views: 1, cfg: 'c1' }]), mode);
    await w.loadCsv(s, load(landed([clean1])), mode);
    expect((await w.select(s, order)).map((x) => x.video_title)).toEqual(['Café, "quoted" 🎬', 'plain']);
    const outside = await w.loadCsv(s, load(landed([clean2])), mode).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(RowsOutsideRangeError);
    expect((await w.select(s, order)).map((x) => x.video_title)).toEqual(['Café, "quoted" 🎬', 'plain']);

    const m: TableSchema = { ...table('bq_csv_merge'), primaryKey: ['day'], write: { kind: 'merge' } };
    const repeated = 'day,hour,video_title,views,view_through_rate\n2026-01-05,,a,1,1\n2026-01-05,,b,2,1\n';
    await expect(w.loadCsv(m, load(landed([repeated])))).rejects.toThrow(/keys repeat/);
    const r = await w.loadCsv(m, load(landed([clean1])));
    expect(r.rowsLoaded).toBe(2);
  });
});
