import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInput, pipelineByName } from '../../src/cli/run';
import { withThousands } from '../../src/pipelines/dailymotion/sandbox/server';
import { reportConfig, reportTableSchema } from '../../src/pipelines/dailymotion/shared';
import { addDays, toIso } from '../../src/shared/dates';

const p = pipelineByName('dailymotion-report');
const ok = [
  '--metrics',
  'VIEWS',
  '--dimensions',
  'DAY,VIDEO_ID',
  '--start-date',
  '2026-01-01',
  '--end-date',
  '2026-01-31',
];
const bad =
  (...flags: string[]) =>
  () =>
    buildInput(p, {}, [...ok, ...flags]);

describe('dailymotion-report input (refused before anything starts)', () => {
  it('accepts a valid input and fills the defaults', () => {
    expect(buildInput(p, {}, ok)).toMatchObject({
      windowDays: 30,
      writeMode: 'replace',
      table: 'dailymotion_report',
      maxAsks: 3,
    });
  });
  it('accepts reports without a DAY, HOUR or MINUTE dimension, replaced by window (report_window)', () => {
    for (const dims of ['VIDEO_ID', 'MONTH,VIDEO_ID'])
      expect(buildInput(p, {}, [...ok, '--dimensions', dims])).toMatchObject({
        dimensions: dims.split(','),
        writeMode: 'replace',
      });
    const s = reportTableSchema('t', ['MONTH', 'VIDEO_ID'], ['VIEWS']);
    expect(s.write).toEqual({ kind: 'replaceRange', column: 'report_window', ownedBy: ['report_config'] });
    expect(s.columns.map((c) => c.name)).toEqual(['month', 'video_id', 'views', 'report_config', 'report_window']);
    expect(reportTableSchema('t', ['DAY', 'VIDEO_ID'], ['VIEWS']).write).toMatchObject({ column: 'day' });
  });
  it.each([
    [
      [
        '--dimensions',
        'DAY,VIDEO_ID,VIDEO_TITLE,CHANNEL_SLUG,VISITOR_COUNTRY,VISITOR_DEVICE_TYPE,PLAYER_ID,PLAYLIST_ID,MEDIA_TYPE',
      ],
      /dimensions: at most 8/,
    ],
    [['--metrics', 'VIEWZ'], /--metrics \(item 1\): not a valid value/],
    [['--start-date', '2026-02-01'], /--end-date: 2026-01-31 is before startDate 2026-02-01/],
    [['--end-date', addDays(toIso(Date.now()), 2)], /--end-date: .* is in the future/],
    [['--start-date', '2026-02-30'], /--start-date: not a real calendar date/],
    [['--window-days', '181'], /--window-days: .*180/],
    [
      ['--metrics', 'UPLOADS', '--dimensions', 'DAY,VISITOR_COUNTRY'],
      /UPLOADS is not compatible with dimension VISITOR_COUNTRY/,
    ],
    [['--table', 'drop table x;'], /table: letters, digits and underscores/],
  ])('refuses %j', (flags, message) => {
    expect(bad(...flags)).toThrow(message);
  });

  it('relative days: kept in the input (a schedule resolves them at each run), resolved by the pipeline for a run now', () => {
    const rel = [
      '--metrics',
      'VIEWS',
      '--dimensions',
      'DAY,VIDEO_ID',
      '--start-date',
      'today-7',
      '--end-date',
      'yesterday',
    ];
    const input = buildInput(p, {}, rel) as { startDate: string; endDate: string };
    expect(input).toMatchObject({ startDate: 'today-7', endDate: 'yesterday' });
    const now = Date.parse('2026-03-10T23:30:00Z');
    const resolved = p.resolve!(input, now) as { startDate: string; endDate: string };
    expect([resolved.startDate, resolved.endDate]).toEqual(['2026-03-03', '2026-03-09']);
    expect(p.workflowId(resolved)).toMatch(/^dailymotion-report-2026-03-03_2026-03-09-/);
  });
  it.each([
    [['--start-date', 'tomorrow'], /--start-date: expected YYYY-MM-DD, today, yesterday or today-N/],
    [
      ['--start-date', 'today', '--end-date', 'yesterday'],
      /--end-date: yesterday \(\d{4}-\d{2}-\d{2}\) is before startDate today \(/,
    ],
  ])('refuses relative days that do not make a range: %j', (flags, message) => {
    expect(bad(...flags)).toThrow(message);
  });
});

describe('dailymotion-report bad-row tolerance and report_config', () => {
  it('maxBadRows defaults to 0, takes --max-bad-rows, refuses a negative one naming the field', () => {
    expect(buildInput(p, {}, ok)).toMatchObject({ maxBadRows: 0 });
    expect(buildInput(p, {}, [...ok, '--max-bad-rows', '25'])).toMatchObject({ maxBadRows: 25 });
    expect(bad('--max-bad-rows', '-1')).toThrow(/--max-bad-rows/);
    expect(bad('--max-bad-rows', '1.5')).toThrow(/--max-bad-rows/);
  });

  it('slotLease: optional durations, renew shorter than lease, refused naming the field; not part of the ID', () => {
    const lease = (slotLease: unknown) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dm-input-')), 'input.json');
      fs.writeFileSync(file, JSON.stringify({ slotLease }));
      return buildInput(p, { input: file }, ok);
    };
    expect(buildInput(p, {}, ok)).not.toHaveProperty('slotLease');
    expect(lease({ lease: '5s', renew: '1s', reask: '2s' })).toMatchObject({
      slotLease: { lease: 5_000, renew: 1_000, reask: 2_000 },
    });
    expect(() => lease({ lease: '5s', renew: '5s', reask: '1s' })).toThrow(/--slot-lease \(renew\)/);
    expect(() => lease({ lease: '500ms', renew: '100ms', reask: '1s' })).toThrow(/--slot-lease \(lease\)/);
    expect(() => lease({ lease: '5s', renew: '1s' })).toThrow(/--slot-lease \(reask\)/);
    expect(() => lease({ lease: '5s', renew: '1s', reask: '1s', ttl: 1 })).toThrow(/--slot-lease/);
    expect(p.workflowId(lease({ lease: '5s', renew: '1s', reask: '2s' }))).toBe(p.workflowId(buildInput(p, {}, ok)));
  });

  it('keeps the workflow ID of an input without tolerance; a tolerance makes another run', () => {
    const plain = buildInput(p, {}, ok);
    const id = p.workflowId(plain);
    const { maxBadRows: _m, ...before } = plain as Record<string, unknown>;
    expect(p.workflowId(before)).toBe(id);
    expect(p.workflowId(buildInput(p, {}, [...ok, '--max-bad-rows', '3']))).not.toBe(id);
  });

  it('lists tolerated bad rows as problems (so `run --wait` exits 1)', () => {
    const w = { start: '2026-01-01', end: '2026-01-31', reportsAsked: 1, files: 1, rowsParsed: 10, rowsLoaded: 8 };
    const result = {
      table: 't',
      reportsAsked: 2,
      rowsLoaded: 18,
      badRows: 2,
      wallTimeMs: 1,
      windows: [
        { ...w, badRows: 2, maxBadRows: 5, badRowSamples: ['file 1 line 3, column views: not an integer'] },
        { ...w, start: '2026-02-01', end: '2026-02-28', rowsLoaded: 10, badRows: 0, badRowSamples: [] },
      ],
    };
    expect(p.problems?.(result)).toEqual([
      '2026-01-01..2026-01-31: 2 bad row(s) not loaded (tolerated, maxBadRows 5): file 1 line 3, column views: not an integer',
    ]);
    expect(p.problems?.({ ...result, windows: [result.windows[1]] })).toEqual([]);
  });

  it('report_config: 16 hex digits, the same for the same configuration written differently', () => {
    const a = reportConfig({ metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'], dimensions: ['DAY', 'VIDEO_ID'] });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(reportConfig({ metrics: ['time_watched_seconds', 'VIEWS'], dimensions: ['VIDEO_ID', 'DAY'] })).toBe(a);
    const others = [
      reportConfig({ metrics: ['VIEWS'], dimensions: ['DAY', 'VIDEO_ID'] }),
      reportConfig({ metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'], dimensions: ['DAY', 'VIDEO_ID'], product: 'CONTENT' }),
      reportConfig({
        metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
        dimensions: ['DAY', 'VIDEO_ID'],
        filters: { channelSlug: 'a' },
      }),
      reportConfig({
        metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
        dimensions: ['DAY', 'VIDEO_ID'],
        filters: { channelSlug: 'b' },
      }),
    ];
    expect(new Set([a, ...others]).size).toBe(5);
  });

  it('the sandbox writes thousands separators only into plain numbers', () => {
    expect(['1234', '-1234567.25', '999', '12', 'abc', '1e21'].map(withThousands)).toEqual([
      '1,234',
      '-1,234,567.25',
      '999',
      '12',
      'abc',
      '1e21',
    ]);
  });
});
