import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BadRowsError, fileBatches, type ParseStats } from '../../src/kit/activity/csv';
import { reportSchema } from '../../src/pipelines/dailymotion/shared';

const schema = reportSchema('t', ['DAY', 'VIDEO_TITLE'], ['VIEWS', 'VIEW_THROUGH_RATE']);

async function parseAll(files: string[], batchSize = 2, maxBadRows?: number) {
  const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
  const batches = [];
  const open = async (i: number) => Readable.from([files[i]]);
  for await (const b of fileBatches('csv', schema, files.length, open, stats, batchSize, maxBadRows)) batches.push(b);
  return { batches, stats };
}

describe('report CSV parsing', () => {
  it('types columns from the declared schema, across several files, in bounded batches', async () => {
    const f1 =
      '\uFEFFday,video_title,views,view_through_rate\n2026-01-01,"Café, ""quoted"" 🎬",12,0.5\n2026-01-02,plain,3,\n';
    const f2 = 'video_title,day,view_through_rate,views\nother,2026-01-03,1.25,7\n';
    const { batches, stats } = await parseAll([f1, f2]);
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(batches.flat()).toEqual([
      { day: '2026-01-01', video_title: 'Café, "quoted" 🎬', views: 12, view_through_rate: 0.5 },
      { day: '2026-01-02', video_title: 'plain', views: 3, view_through_rate: null },
      { day: '2026-01-03', video_title: 'other', views: 7, view_through_rate: 1.25 },
    ]);
    expect(stats).toEqual({ files: 2, rowsParsed: 3, badRows: 0, badRowSamples: [] });
  });

  it('reads a timestamp in ISO 8601 on a calendar day, as UTC, to the microsecond in six digits', async () => {
    const hourly = reportSchema('t', ['HOUR'], ['VIEWS']);
    const at = hourly.columns.find((c) => c.type === 'TIMESTAMP')!.name;
    const values = [
      '2026-02-03 04:05:06',
      '2026-02-03T04:05:06+02:00',
      '2026-02-03T04:05:06.1234-0130',
      '2026-02-03T04:05:06.123456789Z',
      '2026-02-03',
      '2026-02-30T00:00:00Z', // Date.parse: March 2nd
      'epoch',
      '2026-02-03T04:05:06z',
      '2026-02-03T04:05:06+24:00',
    ];
    const f = `${at},views\n${values.map((v) => `${v},1`).join('\n')}\n`;
    const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
    const rows = [];
    for await (const b of fileBatches('csv', hourly, 1, async () => Readable.from([f]), stats, 100, 100))
      rows.push(...b);
    expect(rows.map((r) => r[at])).toEqual([
      '2026-02-03T04:05:06.000Z',
      '2026-02-03T02:05:06.000Z',
      '2026-02-03T05:35:06.123400Z',
      '2026-02-03T04:05:06.123456Z',
      '2026-02-03T00:00:00.000Z',
    ]);
    expect(stats.badRowSamples).toEqual(
      [7, 8, 9, 10].map((line) => `file 1 line ${line}, column ${at}: not a timestamp`),
    );
  });

  it('counts and describes bad rows instead of dropping them silently', async () => {
    const f =
      'day,video_title,views,view_through_rate\n2026-01-01,a,1.5,0\n2026-13-01x,b,2,0\n2026-01-03,c\n2026-01-04,d,4,0.1\n';
    const { batches, stats } = await parseAll([f], 100);
    expect(batches.flat()).toHaveLength(1);
    expect(stats.rowsParsed).toBe(4);
    expect(stats.badRows).toBe(3);
    expect(stats.badRowSamples).toEqual([
      'file 1 line 2, column views: not an integer',
      'file 1 line 3, column day: not a date (YYYY-MM-DD)',
      'file 1 line 4: 2 fields, the header has 4',
    ]);
  });

  it('refuses a file whose header lacks a declared column', async () => {
    await expect(parseAll(['day,views\n2026-01-01,1\n'])).rejects.toThrow(
      /lacks column\(s\) video_title, view_through_rate/,
    );
  });

  it('fails (instead of waiting forever) when the download breaks mid-file', async () => {
    const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
    const broken = () => {
      const p = new PassThrough();
      p.write('day,video_title,views,view_through_rate\n2026-01-01,a,1,0.5\n');
      setTimeout(() => p.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), 20);
      return p;
    };
    const rows: unknown[] = [];
    const run = (async () => {
      for await (const b of fileBatches('csv', schema, 1, async () => broken(), stats, 1)) rows.push(...b);
    })();
    await expect(run).rejects.toThrow('aborted');
    expect(stats.files).toBe(0);
  });

  it('counts a row with fewer fields than the header as bad, even when the declared columns are all there', async () => {
    const f = 'day,video_title,views,view_through_rate,extra\n2026-01-01,a,1,0.5,x\n2026-01-02,b,2,0.5\n';
    const { batches, stats } = await parseAll([f], 100);
    expect(batches.flat()).toHaveLength(1);
    expect(stats.badRows).toBe(1);
    expect(stats.badRowSamples).toEqual(['file 1 line 3: 4 fields, the header has 5']);
  });

  it('fails on the first bad row beyond the tolerance, naming file, line and column but not the value', async () => {
    const f = 'day,video_title,views,view_through_rate\n2026-01-01,a,"1,234",0\n2026-01-02,b,"5,678",0\n';
    const err = await parseAll([f], 100, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRowsError);
    expect((err as Error).message).toBe(
      'report file 1 line 2, column views: not an integer (1 bad row, over the tolerance of 0: maxBadRows)',
    );
    expect((err as Error).message).not.toContain('1,234');
    // Within the tolerance the rows are counted, and the good ones kept.
    const { batches, stats } = await parseAll([f + '2026-01-03,c,9,0\n'], 100, 2);
    expect(batches.flat()).toEqual([{ day: '2026-01-03', video_title: 'c', views: 9, view_through_rate: 0 }]);
    expect(stats.badRows).toBe(2);
  });
});
