import { describe, expect, it } from 'vitest';
import { buildInput, pipelineByName } from '../../src/cli/run';
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
  it.each([
    [
      [
        '--dimensions',
        'DAY,VIDEO_ID,VIDEO_TITLE,CHANNEL_SLUG,VISITOR_COUNTRY,VISITOR_DEVICE_TYPE,PLAYER_ID,PLAYLIST_ID,MEDIA_TYPE',
      ],
      /dimensions: at most 8/,
    ],
    [['--metrics', 'VIEWZ'], /metrics\.0: Invalid option/],
    [['--dimensions', 'VIDEO_ID'], /dimensions: needs a time dimension/],
    [['--start-date', '2026-02-01'], /endDate: 2026-01-31 is before startDate 2026-02-01/],
    [['--end-date', addDays(toIso(Date.now()), 2)], /endDate: .* is in the future/],
    [['--start-date', '2026-02-30'], /startDate: not a real calendar date/],
    [['--window-days', '181'], /windowDays: .*180/],
    [
      ['--metrics', 'UPLOADS', '--dimensions', 'DAY,VISITOR_COUNTRY'],
      /UPLOADS is not compatible with dimension VISITOR_COUNTRY/,
    ],
    [['--dimensions', 'MONTH,VIDEO_ID'], /writeMode: replace needs a DAY, HOUR, MINUTE dimension/],
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
    [['--start-date', 'tomorrow'], /startDate: expected YYYY-MM-DD, today, yesterday or today-N/],
    [
      ['--start-date', 'today', '--end-date', 'yesterday'],
      /endDate: yesterday \(\d{4}-\d{2}-\d{2}\) is before startDate today \(/,
    ],
  ])('refuses relative days that do not make a range: %j', (flags, message) => {
    expect(bad(...flags)).toThrow(message);
  });
});
