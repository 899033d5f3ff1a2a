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
});
