/**
 * The Dailymotion sandbox enforces the ask rules on its own (src/pipelines/dailymotion/sandbox/contract.ts,
 * written from the documentation) and the client checks them before asking (connector/enums.ts
 * `askProblems`). Neither imports the other: here they must agree on thousands of generated asks — a rule wrong
 * on one side (a dimension missing from a matrix row, an off-by-one in the 180 days) is a disagreement.
 */
import { describe, expect, it } from 'vitest';
import {
  askProblems,
  PARTNER_REPORT_DIMENSIONS,
  PARTNER_REPORT_METRICS,
  type AskReportInput,
} from '../../src/pipelines/dailymotion/connector/enums';
import { askRefusals } from '../../src/pipelines/dailymotion/sandbox/contract';
import { prng } from '../../src/sandbox/faults';

const NOW = Date.UTC(2026, 11, 5, 15);
const TODAY = '2026-12-05';
const day = (offset: number) => new Date(Date.UTC(2026, 11, 5) + offset * 86_400_000).toISOString().slice(0, 10);

describe('Dailymotion ask rules: the sandbox and the client agree', () => {
  it('on 5,000 generated asks (dimension counts, repeats, ranges, future dates, metric/dimension pairs)', () => {
    const rnd = prng(20261205);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const some = <T>(xs: readonly T[], n: number) => Array.from({ length: n }, () => pick(xs));
    const metrics: AskReportInput['metrics'] = [
      'VIEWS',
      'UPLOADS',
      'LIVE_VIEWERS',
      'ESTIMATED_EARNINGS_EUR',
      'TIME_WATCHED_SECONDS',
    ];
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const start = Math.floor(rnd() * 400) - 380; // up to 20 days ahead
      const input: AskReportInput = {
        metrics: some(rnd() < 0.7 ? metrics : PARTNER_REPORT_METRICS, 1 + Math.floor(rnd() * 3)),
        dimensions: some(PARTNER_REPORT_DIMENSIONS, 1 + Math.floor(rnd() * 10)),
        startDate: day(start),
        endDate: day(start + Math.floor(rnd() * 200) - 5),
      };
      const client = askProblems(input, TODAY).sort();
      const sandbox = askRefusals(input, NOW).sort();
      expect(sandbox, JSON.stringify(input)).toEqual(client);
      if (sandbox.length) refused++;
    }
    // Both kinds are well represented.
    expect(refused).toBeGreaterThan(1000);
    expect(refused).toBeLessThan(4900);
  });

  it('the documented examples', () => {
    const ask = (p: Partial<AskReportInput>): AskReportInput => ({
      metrics: ['VIEWS'],
      dimensions: ['DAY'],
      startDate: day(-30),
      endDate: day(-1),
      ...p,
    });
    // UPLOADS combines only with MONTH, DAY, VIDEO_OWNER_CHANNEL_SLUG, VIDEO_ID, VIDEO_TITLE, VISIBILITY.
    expect(askRefusals(ask({ metrics: ['UPLOADS'], dimensions: ['MONTH', 'VISIBILITY', 'VIDEO_TITLE'] }), NOW)).toEqual(
      [],
    );
    expect(askRefusals(ask({ metrics: ['UPLOADS'], dimensions: ['DAY', 'VISITOR_COUNTRY'] }), NOW)).toEqual([
      'Metric UPLOADS is not compatible with dimension VISITOR_COUNTRY (Account data)',
    ]);
    // 1 to 180 days, today included; at most 8 dimensions.
    expect(askRefusals(ask({ startDate: day(-179), endDate: day(0) }), NOW)).toEqual([]);
    expect(askRefusals(ask({ startDate: day(-180), endDate: day(0) }), NOW)).toEqual([
      'The date range cannot exceed 180 days (got 181)',
    ]);
    expect(askRefusals(ask({ startDate: day(0), endDate: day(1) }), NOW)).toEqual([
      'The date range cannot be in the future',
    ]);
    expect(
      askRefusals(
        ask({
          dimensions: [
            'DAY',
            'VIDEO_ID',
            'VIDEO_TITLE',
            'PLAYER_ID',
            'PLAYER_TITLE',
            'PUBLISHER_ID',
            'ACTION',
            'VISITOR_COUNTRY',
            'VISITOR_DEVICE_TYPE',
          ],
        }),
        NOW,
      ),
    ).toEqual(['A maximum of 8 dimensions can be passed in a single report']);
  });
});
