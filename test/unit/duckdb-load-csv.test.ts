/**
 * DuckDB's native CSV load (`loadCsv`: read_csv, typing checked in SQL) against the JavaScript reader it
 * replaces on the Dailymotion path (`fileBatches` + `load`): the same rows, the same counts, the same bad-row
 * samples (file, line, column, reason — never the value), nothing written past the tolerance.
 */
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BadRowsError, fileBatches, CsvHeaderError, type ParseStats } from '../../src/kit/activity/csv';
import { reportSchema } from '../../src/pipelines/dailymotion/shared';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import type { Row, TableSchema } from '../../src/sinks/warehouse';
import { CsvDialectError, JS_WHITE_SPACE } from '../../src/sinks/file-rows';
import { tmpDir } from '../helpers/temporal';
import { loadLandedCsv } from '../../src/kit/activity/load-landed';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { bytesOf, csvLoadOf, landed } from '../helpers/landed-files';

const csv = reportSchema('t', ['DAY', 'VIDEO_TITLE'], ['VIEWS', 'VIEW_THROUGH_RATE']);
const table = (name: string): TableSchema => ({
  name,
  columns: [...csv.columns, { name: 'cfg', type: 'STRING' }],
  write: { kind: 'append' },
});

const open: DuckDbWarehouse[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});
function warehouse() {
  const w = new DuckDbWarehouse({ path: path.join(tmpDir(), 'w.duckdb'), memoryLimit: '128MB', threads: 1 });
  open.push(w);
  return w;
}
const load = csvLoadOf(csv.columns);
const rowsOf = (w: DuckDbWarehouse, name: string) =>
  w.select(table(name), { orderBy: [{ column: 'day' }, { column: 'video_title' }] });

/** The JavaScript reader's answer for the same files: rows (with the constant) and stats. */
async function jsReader(texts: (string | Buffer)[], maxBadRows: number) {
  const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
  const rows = [];
  try {
    for await (const b of fileBatches(
      'csv',
      csv,
      texts.length,
      async (i) => Readable.from([texts[i]]),
      stats,
      100,
      maxBadRows,
    ))
      rows.push(...b.map((r) => ({ ...r, cfg: 'c1' })));
  } catch (e) {
    return { error: e as Error, stats };
  }
  return { rows, stats };
}

/** A seeded generator: the same files on every run. */
function seeded(seed: number) {
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return { rnd, pick: <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]! };
}

describe('DuckDB loadCsv (the warehouse reads the landed files)', () => {
  it('types the declared columns across files (BOM, CRLF, quotes, any column order, gzip)', async () => {
    const f1 =
      '\uFEFFday,video_title,views,view_through_rate\r\n2026-01-01,"Café, ""quoted"" 🎬",12,0.5\r\n2026-01-02,plain,3,\r\n';
    const f2 = 'video_title,extra,day,view_through_rate,views\n"two\nlines",x,2026-01-03,1.25, 7 \n';
    const w = warehouse();
    const r = await w.loadCsv(table('ok'), load(landed([f1, f2], true)));
    expect(r).toEqual({ rowsLoaded: 3, files: 2, rowsParsed: 3, badRows: 0, badRowSamples: [] });
    expect(await rowsOf(w, 'ok')).toEqual([
      { day: '2026-01-01', video_title: 'Café, "quoted" 🎬', views: 12, view_through_rate: 0.5, cfg: 'c1' },
      { day: '2026-01-02', video_title: 'plain', views: 3, view_through_rate: null, cfg: 'c1' },
      { day: '2026-01-03', video_title: 'two\nlines', views: 7, view_through_rate: 1.25, cfg: 'c1' },
    ]);
  });

  it('counts and describes bad rows as the JavaScript reader does, at their record lines', async () => {
    const f =
      'day,video_title,views,view_through_rate\n2026-01-01,a,1.5,0\n2026-13-01x,b,2,0\n2026-01-03,c\n' +
      '2026-01-04,"d\nstill d",4,0.1\n2026-01-05,e,"1,234",0\n2026-01-06,f,6,zero\n2026-01-07,g,7,1e3\n';
    const w = warehouse();
    const r = await w.loadCsv(table('bad'), load(landed([f]), 10));
    const js = await jsReader([f], 10);
    expect(r.badRowSamples).toEqual([
      'file 1 line 2, column views: not an integer',
      'file 1 line 3, column day: not a date (YYYY-MM-DD)',
      'file 1 line 4: 2 fields, the header has 4',
      'file 1 line 6, column views: not an integer',
      'file 1 line 7, column view_through_rate: not a number',
    ]);
    expect(r).toEqual({ ...js.stats, rowsLoaded: 2 });
    expect(await rowsOf(w, 'bad')).toEqual(js.rows);
  });

  it('refuses a file whose header lacks a declared column, or that is empty, writing nothing', async () => {
    const w = warehouse();
    await expect(w.loadCsv(table('hdr'), load(landed(['day,views\n2026-01-01,1\n'])))).rejects.toThrow(
      new CsvHeaderError('report file 1 lacks column(s) video_title, view_through_rate (header: day,views)'),
    );
    await expect(
      w.loadCsv(table('hdr'), load(landed(['day,video_title,views,view_through_rate\n', '']))),
    ).rejects.toThrow(/^report file 2 is empty \(no header\)$/);
    expect(await w.count(table('hdr'))).toBe(0);
  });

  it('counts a record with fewer (or more) fields than the header as bad', async () => {
    const f =
      'day,video_title,views,view_through_rate,extra\n2026-01-01,a,1,0.5,x\n2026-01-02,b,2,0.5\n2026-01-03,c,3,0.5,x,y\n';
    const r = await warehouse().loadCsv(table('fields'), load(landed([f]), 5));
    expect(r.rowsLoaded).toBe(1);
    expect(r.badRowSamples).toEqual([
      'file 1 line 3: 4 fields, the header has 5',
      "file 1 line 4: more fields than the header's 5",
    ]);
  });

  it('past the tolerance fails naming the row that takes the count over, not its value, and leaves the table as it was', async () => {
    const w = warehouse();
    const good = 'day,video_title,views,view_through_rate\n2026-01-01,a,1,0\n';
    await w.loadCsv(table('tol'), load(landed([good])));
    const f = 'day,video_title,views,view_through_rate\n2026-01-02,a,"1,234",0\n2026-01-03,b,"5,678",0\n';
    const err = await w.loadCsv(table('tol'), load(landed([f]), 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRowsError);
    expect((err as Error).message).toBe(
      'report file 1 line 3, column views: not an integer (2 bad rows, over the tolerance of 1: maxBadRows)',
    );
    // The JavaScript reader stops at the same row, with the same words.
    expect((err as Error).message).toBe((await jsReader([f], 1)).error?.message);
    expect((err as Error).message).not.toContain('1,234');
    expect(await rowsOf(w, 'tol')).toEqual([
      { day: '2026-01-01', video_title: 'a', views: 1, view_through_rate: 0, cfg: 'c1' },
    ]);
  });

  it('leaves a file with a blank line before its header to the JavaScript reader (which skips it)', async () => {
    const w = warehouse();
    const f = '\nday,video_title,views,view_through_rate\n2026-01-01,a,1,0\n';
    await expect(w.loadCsv(table('blank'), load(landed([f])))).rejects.toThrow(
      /file 1 has a blank line before its header/,
    );
    expect((await jsReader([f], 0)).rows).toHaveLength(1);
  });

  it('leaves a one-column file to the JavaScript reader: a blank line there is no record, not a row of NULL', async () => {
    const w = warehouse();
    const one: TableSchema = {
      name: 'one',
      columns: [
        { name: 'video_id', type: 'STRING' },
        { name: 'cfg', type: 'STRING' },
      ],
      write: { kind: 'append' },
    };
    const f = 'video_id\nA\n\nB\n';
    await expect(w.loadCsv(one, csvLoadOf([one.columns[0]!])(landed([f])))).rejects.toThrow(/file 1 has one column/);
    expect(await w.select(one).catch(() => [])).toEqual([]);
    // Through the landed-load path, the JavaScript reader loads it: two rows, as it parses.
    const bucket = new LocalBucket(tmpDir());
    await bucket.put('landed/one/part-00000.csv.gz', zlib.gzipSync(f));
    const r = await loadLandedCsv(
      { warehouse: w, bucket },
      one,
      {
        parts: 1,
        land: async () => 'landed/one/part-00000.csv.gz',
        fileColumns: [one.columns[0]!],
        constants: { cfg: 'c1' },
      },
      undefined,
    );
    expect(r).toMatchObject({ reader: 'javascript', rowsParsed: 2, rowsLoaded: 2 });
    expect((await w.select(one, { orderBy: [{ column: 'video_id' }] })).map((x) => x.video_id)).toEqual(['A', 'B']);
  });

  it('refuses a file its strict reader cannot follow as a whole (mixed line endings), writing nothing', async () => {
    const w = warehouse();
    const f = 'day,video_title,views,view_through_rate\r\n2026-01-01,"a\nb",1,0\r\n2026-01-02,b,2,0\n';
    await expect(w.loadCsv(table('mixed'), load(landed([f])))).rejects.toThrow(CsvDialectError);
    expect(await w.count(table('mixed'))).toBe(0);
  });

  it('gives the JavaScript reader’s rows and counts on generated files with every kind of bad row', async () => {
    const { rnd, pick } = seeded(20261205);
    const texts = Array.from({ length: 3 }, () => {
      const lines = ['day,views,video_title,view_through_rate'];
      for (let i = 0; i < 400; i++) {
        // Canonical values (each reader's fast path) and near misses of them.
        const day = pick([
          '2026-02-03',
          '2026-02-30',
          '2026-2-3',
          ' 2026-02-04 ',
          '',
          '10000-01-01',
          '2026/02/03',
          '2026-02-03T00:00',
          'epoch',
          '0999-12-31',
        ]);
        const views = pick([
          '1',
          '-2',
          '1.5',
          '',
          ' 7',
          'x',
          '99999999999999999999',
          '05',
          '-0',
          '+5',
          '1e3',
          '0x10',
          '1_000',
          '9223372036854775807',
          '-9223372036854775808',
          '9223372036854775808',
          '   ',
        ]);
        const title = pick(['t', '"a, b"', '"x\ny"', '', ' pad ', '"q ""x"""']);
        const rate = pick(['0.5', '', 'NaN', '1e-3', 'inf', '-0', '0x10', '1_0', '.5', '5.', '+1', ' 2.5 ', '1e400']);
        lines.push(rnd() < 0.05 ? `${day},${views}` : `${day},${views},${title},${rate}`);
      }
      const eol = rnd() < 0.5 ? '\n' : '\r\n';
      return lines.join(eol) + eol;
    });
    const w = warehouse();
    const r = await w.loadCsv(table('gen'), load(landed(texts), 100_000));
    const js = await jsReader(texts, 100_000);
    expect(r.rowsParsed).toBe(1200);
    expect({ ...r, rowsLoaded: undefined }).toEqual({ ...js.stats, rowsLoaded: undefined });
    expect(r.rowsLoaded).toBe(js.rows!.length);
    // Past a tolerance met in the second file: the same row named, the same words, nothing written.
    const over = (await w.loadCsv(table('gen_over'), load(landed(texts), 400)).catch((e: unknown) => e)) as Error;
    expect(over).toBeInstanceOf(BadRowsError);
    expect(over.message).toBe((await jsReader(texts, 400)).error?.message);
    expect(over.message).toMatch(/^report file 2 line /);
    expect(await w.count(table('gen_over'))).toBe(0);
    const sortKey = (x: Record<string, unknown>) => JSON.stringify(x);
    const got = (await w.select(table('gen'))).map(sortKey).sort();
    expect(got).toEqual(js.rows!.map(sortKey).sort());
  });
  it.each([
    ['without', ''],
    ['with', '\uFEFF'],
  ])(
    'counts a record that is not UTF-8 as bad in both readers (no replacement character loaded), %s a BOM',
    async (_, bom) => {
      // A lone continuation byte in a title, an overlong encoding in a number, a truncated sequence in a date,
      // and valid multi-byte text around them.
      const file = bytesOf(
        `${bom}day,views,video_title,view_through_rate\n`,
        '2026-02-03,1,Crème brûlée,0.5\n',
        '2026-02-03,2,bad ',
        [0x80],
        ' title,0.5\n',
        '2026-02-03,',
        [0xc0, 0xb3],
        ',t,0.5\n',
        '2026-02-0',
        [0xe2, 0x82],
        ',4,t,0.5\n',
        '2026-02-04,5,São Paulo – 東京,0.25\n',
      );
      const w = warehouse();
      const r = await w.loadCsv(table(`utf8_${bom ? 'bom' : 'plain'}`), load(landed([file]), 100));
      const js = await jsReader([file], 100);
      expect(js.stats).toMatchObject({ rowsParsed: 5, badRows: 3 });
      expect(js.stats.badRowSamples).toEqual([
        'file 1 line 3: not UTF-8',
        'file 1 line 4: not UTF-8',
        'file 1 line 5: not UTF-8',
      ]);
      expect({ ...r, rowsLoaded: undefined }).toEqual({ ...js.stats, rowsLoaded: undefined });
      expect((await rowsOf(w, `utf8_${bom ? 'bom' : 'plain'}`)).map((x) => x.video_title)).toEqual([
        'Crème brûlée',
        'São Paulo – 東京',
      ]);
      expect(js.rows!.map((x) => (x as Row).video_title)).toEqual(['Crème brûlée', 'São Paulo – 東京']);
    },
  );

  it('trims exactly the characters JavaScript trims (every code point of the Basic Multilingual Plane)', () => {
    const trimmedByJs: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (String.fromCharCode(c).trim() === '') trimmedByJs.push(c);
    expect([...JS_WHITE_SPACE].map((ch) => ch.charCodeAt(0)).sort((a, b) => a - b)).toEqual(trimmedByJs);
  });

  it('trims the white space the JavaScript reader trims (tabs, no-break and ideographic spaces, …), not only spaces', async () => {
    const { pick } = seeded(20261207);
    // Every white space String.prototype.trim removes, and a zero-width space (not white space: kept in both).
    const ws = ['\t', '\v', '\f', ' ', '\u00a0', '\u1680', '\u2003', '\u200a', '\u202f', '\u205f', '\u3000', '\ufeff'];
    const pad = (v: string) => `${pick(['', ...ws])}${v}${pick(['', ...ws])}`;
    const lines = ['day,views,video_title,view_through_rate'];
    for (let i = 0; i < 400; i++) {
      const day = pad(pick(['2026-02-03', '2026-02-30', '']));
      const views = pick([pad('7'), pad('-2'), pad('x'), '\u200b7', pad('')]);
      // A title is not trimmed; none starts with U+FEFF here: DuckDB stores it, but its Node client's text
      // decoder drops it at the start of a value read back (the rows compared below are read back).
      const title = pick([`${pick(['', ...ws.slice(0, -1)])}t${pick(['', ...ws])}`, pick(ws), '']);
      const rate = pad(pick(['0.5', '1e3', 'NaN']));
      lines.push([day, views, title, rate].join(','));
    }
    const texts = [lines.join('\n') + '\n'];
    const w = warehouse();
    const r = await w.loadCsv(table('ws'), load(landed(texts), 100_000));
    const js = await jsReader(texts, 100_000);
    expect(r.rowsParsed).toBe(400);
    expect(js.stats.badRows).toBeGreaterThan(0);
    expect(js.rows!.length).toBeGreaterThan(100);
    expect({ ...r, rowsLoaded: undefined }).toEqual({ ...js.stats, rowsLoaded: undefined });
    const sortKey = (x: Record<string, unknown>) => JSON.stringify(x);
    expect((await w.select(table('ws'))).map(sortKey).sort()).toEqual(js.rows!.map(sortKey).sort());
  });

  it('merges across files with bad rows skipped: the later file’s row of a key wins, once', async () => {
    // File 1 has a bad row before key k (tolerated), so its rows are numbered past its good ones; file 2's
    // numbering must start after all of them, or its row of k gets the same order as file 1's and both stay.
    const merged: TableSchema = { ...table('merged'), primaryKey: ['video_title'], write: { kind: 'merge' } };
    const f1 = 'day,video_title,views,view_through_rate\n2026-01-32,x,1,0.5\n2026-01-01,k,1,0.5\n';
    const f2 = 'day,video_title,views,view_through_rate\n2026-01-02,k,2,0.5\n';
    const w = warehouse();
    const r = await w.loadCsv(merged, load(landed([f1, f2]), 1));
    expect(r).toMatchObject({ rowsLoaded: 1, rowsParsed: 3, badRows: 1 });
    expect(await w.select(merged)).toEqual([
      { day: '2026-01-02', video_title: 'k', views: 2, view_through_rate: 0.5, cfg: 'c1' },
    ]);
  });

  it('loads a part of 250,000 rows within a 64MB memory limit on two threads', async () => {
    // A part as large as a Dailymotion report's (250,000 rows); its checks ran out of memory at 64MB while
    // the white-space test was a list of 25 codes.
    const lines = ['day,video_title,views,view_through_rate'];
    for (let i = 0; i < 250_000; i++)
      lines.push(`2026-01-${String((i % 28) + 1).padStart(2, '0')},v${i},${i % 997},${i % 5 === 0 ? '' : '0.25'}`);
    lines[7] = '2026-01-32,bad,1,0.5';
    const w = new DuckDbWarehouse({ path: path.join(tmpDir(), 'w.duckdb'), memoryLimit: '64MB', threads: 2 });
    open.push(w);
    const r = await w.loadCsv(table('small'), load(landed([lines.join('\n') + '\n'], true), 1));
    expect(r).toMatchObject({ rowsLoaded: 249_999, rowsParsed: 250_000, badRows: 1 });
    expect(r.badRowSamples).toEqual(['file 1 line 8, column day: not a date (YYYY-MM-DD)']);
    // Below what it needs, the error names the worker's variables, not DuckDB's SQL setting.
    const tight = new DuckDbWarehouse({ path: path.join(tmpDir(), 'w.duckdb'), memoryLimit: '8MB', threads: 2 });
    open.push(tight);
    await expect(tight.loadCsv(table('small'), load(landed([lines.join('\n') + '\n'], true), 1))).rejects.toThrow(
      /^DuckDB ran out of memory within its limit \(DUCKDB_MEMORY_LIMIT=8MB, DUCKDB_THREADS=2\): raise DUCKDB_MEMORY_LIMIT/,
    );
  });

  it('loads a part of 250,000 rows of a report with 20 columns within the default 256MB', async () => {
    // 8 dimensions and 12 metrics: this ran out of memory at 256MB while the white-space test was a list.
    const columns = Array.from({ length: 20 }, (_, j) => ({
      name: `c${j}`,
      type:
        j === 0 ? ('DATE' as const) : j < 8 ? ('STRING' as const) : j % 2 ? ('INT64' as const) : ('FLOAT64' as const),
    }));
    const value = (type: string, i: number) =>
      type === 'DATE' ? '2026-01-05' : type === 'STRING' ? `s${i % 5000}` : type === 'INT64' ? String(i % 1000) : '0.5';
    const lines = [columns.map((c) => c.name).join(',')];
    for (let i = 0; i < 250_000; i++) lines.push(columns.map((c) => value(c.type, i)).join(','));
    const w = new DuckDbWarehouse({ path: path.join(tmpDir(), 'w.duckdb'), memoryLimit: '256MB', threads: 2 });
    open.push(w);
    const r = await w.loadCsv(
      { name: 'wide', columns, write: { kind: 'append' } },
      { paths: landed([lines.join('\n') + '\n'], true), fileColumns: columns, maxBadRows: 0 },
    );
    expect(r).toMatchObject({ rowsLoaded: 250_000, rowsParsed: 250_000, badRows: 0 });
  });

  it('gives the JavaScript reader’s rows and counts for timestamp, boolean and JSON columns too', async () => {
    const fileColumns: TableSchema['columns'] = [
      { name: 'at', type: 'TIMESTAMP' },
      { name: 'ok', type: 'BOOL' },
      { name: 'doc', type: 'JSON' },
    ];
    const other: TableSchema = {
      name: 'other_types',
      columns: [...fileColumns, { name: 'cfg', type: 'STRING' }],
      write: { kind: 'append' },
    };
    const { pick } = seeded(20261206);
    const lines = ['at,ok,doc'];
    for (let i = 0; i < 600; i++) {
      const at = pick([
        '2026-02-03T04:05:06Z',
        '2026-02-03 04:05:06',
        '2026-02-03T04:05:06.789Z',
        '2026-02-03T04:05:06+02:00',
        ' 2026-02-03T04:05:06Z ',
        '2026-02-30T00:00:00Z',
        '2026-02-03',
        'now',
        'epoch',
        'infinity',
        '2026-02-03T04:05:06.123456Z',
        '2026-02-03T04:05:06.1234+0200',
        '2026-02-03T04:05',
        '2026-02-03T04:05:06+02',
        '2026-02-03T04:05:06z',
        '2026-02-03T04:05:06+24:00',
        '2026-02-03T04:05:06+01:75',
        '2026-02-03T04:05:06.123456789Z',
        '2026-02-03 23:59:59',
        '2026-02-03 24:00:00',
        '',
      ]);
      const ok = pick(['true', 'false', 'TRUE', ' false ', '1', '0', 'yes', 't', 'maybe', '']);
      const doc = pick([
        '"{""a"": 1}"',
        '"[1, 2]"',
        '"{bad"',
        '3',
        '"""s"""',
        'null',
        '',
        '"{""a"": {""b"": [true]}}"',
        // What DuckDB's JSON reader takes and JSON.parse does not; and the same characters inside strings.
        'NaN',
        '-Infinity',
        '"[inf]"',
        '"{""a"": nan}"',
        '-inf',
        'INFINITY',
        'Nan',
        '"[1e5, -2.5E-3, [], {}]"',
        '"{""a"": NaN}"',
        '"[1, 2,]"',
        '"{""a"": 1 , }"',
        '"[""NaN"", ""x,]"", ""Infinity,}""]"',
        '"{""k\\"",]"": 1}"',
        // Escapes of lone surrogates (JSON.parse takes them, DuckDB's JSON does not: no Unicode text holds
        // one), and a pair that is a character.
        '"""\\ud800"""',
        '"{""a"": ""x\\uDC00""}"',
        '"{""\\udbff"": 1}"',
        '"[""\\ud83d\\ude00""]"',
      ]);
      lines.push(`${at},${ok},${doc}`);
    }
    const texts = [lines.join('\n') + '\n'];
    const w = warehouse();
    const r = await w.loadCsv(other, { ...csvLoadOf(fileColumns)(landed(texts)), maxBadRows: 100_000 });
    const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
    const rows: Row[] = [];
    const batches = fileBatches(
      'csv',
      { name: 'other_types', columns: fileColumns },
      1,
      async () => Readable.from([texts[0]]),
      stats,
      100,
      100_000,
    );
    for await (const b of batches) rows.push(...b.map((x) => ({ ...x, cfg: 'c1' })));
    expect(r.rowsParsed).toBe(600);
    expect(r.badRows).toBeGreaterThan(0);
    expect(r.badRows).toBeLessThan(600);
    expect({ ...r, rowsLoaded: undefined }).toEqual({ ...stats, rowsLoaded: undefined });
    expect(r.rowsLoaded).toBe(rows.length);
    // The rows as the warehouse gives them back, against the JavaScript reader's loaded the usual way.
    const viaLoad = warehouse();
    await viaLoad.load(
      other,
      (async function* () {
        yield rows;
      })(),
    );
    const sortKey = (x: Record<string, unknown>) => JSON.stringify(x);
    expect((await w.select(other)).map(sortKey).sort()).toEqual((await viaLoad.select(other)).map(sortKey).sort());
  });
});
