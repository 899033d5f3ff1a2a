/**
 * The shared Dailymotion vocabulary: the schema's 47 dimensions and 61 metrics (plus the documented
 * extras), the names the contracts list, the compatibility rules (UPLOADS, audience, live, revenue)
 * and the ask checks (8 dimensions, 1–180 days, no future dates).
 */
import { describe, expect, it } from 'vitest';
import { NINE_DIMENSIONS } from '../helpers/dailymotion';
import {
  AskReportInput,
  askProblems,
  compatibilityIssues,
  DOCUMENTED_EXTRA_DIMENSIONS,
  PARTNER_REPORT_DIMENSIONS,
  PARTNER_REPORT_METRICS,
  PartnerReportFilters,
  PartnerReportProduct,
  rangeDays,
  SCHEMA_DIMENSIONS,
  SCHEMA_METRICS,
  TIME_DIMENSIONS,
} from '../../src/pipelines/dailymotion/connector/enums';

describe('dailymotion enums', () => {
  it('holds the schema lists without duplicates, and every name the contracts cite', () => {
    expect(SCHEMA_DIMENSIONS).toHaveLength(47);
    expect(SCHEMA_METRICS).toHaveLength(61);
    expect(new Set(PARTNER_REPORT_DIMENSIONS).size).toBe(PARTNER_REPORT_DIMENSIONS.length);
    expect(new Set(PARTNER_REPORT_METRICS).size).toBe(PARTNER_REPORT_METRICS.length);
    for (const d of DOCUMENTED_EXTRA_DIMENSIONS) expect(SCHEMA_DIMENSIONS as readonly string[]).not.toContain(d);
    const dims =
      'MINUTE HOUR DAY MONTH VIDEO_ID VIDEO_TITLE VIDEO_OWNER_CHANNEL_SLUG CHANNEL_SLUG MEDIA_TYPE PLAYLIST_ID PLAYER_ID VISITOR_COUNTRY VISITOR_DEVICE_TYPE VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN CONTENT_TYPE MONETIZATION_TYPE AD_FORMAT VISIBILITY';
    for (const d of dims.split(' ')) expect(SCHEMA_DIMENSIONS as readonly string[]).toContain(d);
    const metrics =
      'VIEWS TIME_WATCHED_SECONDS VIEW_THROUGH_RATE UPLOADS LIVE_VIEWERS LIVE_TIME_WATCHED_SECONDS IMPRESSIONS ESTIMATED_EARNINGS_USD ESTIMATED_EARNINGS_EUR ECPM_USD FILL_RATE TOTAL_INVENTORY';
    for (const m of metrics.split(' ')) expect(SCHEMA_METRICS as readonly string[]).toContain(m);
    expect(TIME_DIMENSIONS).toEqual(['MINUTE', 'HOUR', 'DAY', 'MONTH']);
    expect(PartnerReportProduct.options).toEqual(['ALL', 'CLAIM', 'CONTENT', 'EMBED']);
  });

  it('filters are the documented fields, with enum-typed mediaType and monetizationType', () => {
    expect(
      PartnerReportFilters.safeParse({ mediaType: 'LIVE', monetizationType: 'WEBSITE_MONETIZATION' }).success,
    ).toBe(true);
    expect(PartnerReportFilters.safeParse({ mediaType: 'AUDIO' }).success).toBe(false);
    expect(PartnerReportFilters.safeParse({ channel: 'x' }).success).toBe(false);
    expect(
      AskReportInput.safeParse({
        metrics: ['VIEWS'],
        dimensions: ['DAY'],
        startDate: '2025-06-01',
        endDate: '2025-6-2',
      }).success,
    ).toBe(false);
  });

  it('compatibility: only what the matrix states', () => {
    expect(compatibilityIssues(['UPLOADS'], ['DAY', 'VIDEO_ID', 'VISIBILITY'])).toEqual([]);
    expect(compatibilityIssues(['UPLOADS'], ['HOUR', 'VISITOR_COUNTRY'])).toEqual([
      'Metric UPLOADS is not compatible with dimension HOUR (Account data)',
      'Metric UPLOADS is not compatible with dimension VISITOR_COUNTRY (Account data)',
    ]);
    expect(compatibilityIssues(['VIEWS', 'TIME_WATCHED_SECONDS'], ['HOUR', 'VIDEO_ID', 'VISITOR_COUNTRY'])).toEqual([]);
    expect(compatibilityIssues(['VIEWS'], ['MINUTE'])).toHaveLength(1);
    expect(compatibilityIssues(['LIVE_VIEWERS'], ['MEDIA_TYPE'])).toHaveLength(1);
    expect(compatibilityIssues(['ESTIMATED_EARNINGS_USD'], ['DAY', 'VIDEO_ID', 'CHANNEL_SLUG'])).toEqual([]);
    expect(compatibilityIssues(['ESTIMATED_EARNINGS_USD'], ['HOUR'])).toHaveLength(1);
    // metrics the matrix does not cover are not refused
    expect(compatibilityIssues(['IMPRESSIONS', 'FILL_RATE'], ['HOUR', 'AD_FORMAT'])).toEqual([]);
  });

  it('ask checks: dimensions, range, future, repeats', () => {
    const ok = {
      metrics: ['VIEWS' as const],
      dimensions: ['DAY' as const],
      startDate: '2025-01-01',
      endDate: '2025-06-29',
    };
    expect(rangeDays(ok.startDate, ok.endDate)).toBe(180);
    expect(rangeDays('2025-06-01', '2025-06-01')).toBe(1);
    expect(askProblems(ok, '2025-07-01')).toEqual([]);
    expect(askProblems({ ...ok, endDate: '2025-06-30' }, '2025-07-01')).toEqual([
      'The date range cannot exceed 180 days (got 181)',
    ]);
    expect(askProblems({ ...ok, startDate: '2025-07-02', endDate: '2025-07-02' }, '2025-07-01')).toEqual([
      'The date range cannot be in the future',
    ]);
    expect(askProblems({ ...ok, startDate: '2025-06-02', endDate: '2025-06-01' }, '2025-07-01')).toEqual([
      'startDate must be before or equal to endDate',
    ]);
    const nine = NINE_DIMENSIONS;
    expect(askProblems({ ...ok, dimensions: [...nine] }, '2025-07-01')).toEqual([
      'A maximum of 8 dimensions can be passed in a single report',
    ]);
    expect(askProblems({ ...ok, dimensions: [...nine.slice(0, 8)] }, '2025-07-01')).toEqual([]);
    expect(askProblems({ ...ok, dimensions: ['DAY', 'DAY'] }, '2025-07-01')).toEqual(['Dimensions must not repeat']);
  });
});
