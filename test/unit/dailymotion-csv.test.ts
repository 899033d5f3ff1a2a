import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvBatches, type ParseStats } from '../../src/activities/dailymotion-csv';
import { reportSchema } from '../../src/shared/dailymotion';

const schema = reportSchema('t', ['DAY', 'VIDEO_TITLE'], ['VIEWS', 'VIEW_THROUGH_RATE']);

async function parseAll(files: string[], batchSize = 2) {
  const stats: ParseStats = { files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] };
  const batches = [];
  for await (const b of csvBatches(schema, files.length, async (i) => Readable.from([files[i]]), stats, batchSize))
    batches.push(b);
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

  it('counts and describes bad rows instead of dropping them silently', async () => {
    const f =
      'day,video_title,views,view_through_rate\n2026-01-01,a,1.5,0\n2026-13-01x,b,2,0\n2026-01-03,c\n2026-01-04,d,4,0.1\n';
    const { batches, stats } = await parseAll([f], 100);
    expect(batches.flat()).toHaveLength(1);
    expect(stats.rowsParsed).toBe(4);
    expect(stats.badRows).toBe(3);
    expect(stats.badRowSamples).toEqual([
      'file 1 line 2: not an integer: "1.5"',
      'file 1 line 3: not a date: "2026-13-01x"',
      'file 1 line 4: 2 fields, expected 4',
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
      for await (const b of csvBatches(schema, 1, async () => broken(), stats, 1)) rows.push(...b);
    })();
    await expect(run).rejects.toThrow('aborted');
    expect(stats.files).toBe(0);
  });
});
