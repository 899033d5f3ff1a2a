/**
 * The Dailymotion partner-reporting vocabulary, in ONE module shared by request validation, the
 * connector and the sandbox: report dimensions and metrics, products, filters, statuses, the documented
 * limits, and the metric/dimension compatibility rules a source states. Pure (zod only), so workflow
 * code may import it. Sources and what was confirmed: docs/dailymotion-api.md.
 */
import { z } from 'zod';

/** `PartnerReportDimension` of the GraphQL schema (code-generated type file, 47 values). */
export const SCHEMA_DIMENSIONS = [
  'ACCOUNT_ID',
  'ACCOUNT_USERNAME',
  'ACTION',
  'ADS_TXT_STATUS',
  'AD_ERROR_CODE',
  'AD_ERROR_READABLE',
  'AD_FORMAT',
  'BUYER',
  'BUYERTYPE',
  'CHANNEL_SLUG',
  'CLAIMER_CHANNEL',
  'CLAIMER_OR_PARENT_USERNAME',
  'CONTENT_TAG',
  'CONTENT_TAG_LIST',
  'CONTENT_TYPE',
  'DAY',
  'HOUR',
  'INVENTORY_POSITION',
  'MEDIA_TYPE',
  'MINUTE',
  'MONETIZATION_PRODUCT',
  'MONETIZATION_TYPE',
  'MONTH',
  'NOAD_REASON_READABLE',
  'OUTCOME',
  'OWNER_OR_PARENT_USERNAME',
  'PARENT_ACCOUNT_ID',
  'PARENT_ACCOUNT_USERNAME',
  'PLAYER_ID',
  'PLAYER_SIZE',
  'PLAYER_SIZE_BUCKET',
  'PLAYER_TITLE',
  'PLAYLIST_ID',
  'PLAYLIST_TITLE',
  'PLAYLIST_TYPE',
  'PUBLISHER_CHANNEL',
  'PUBLISHER_OR_PARENT_USERNAME',
  'VIDEO_ID',
  'VIDEO_OWNER_CHANNEL_SLUG',
  'VIDEO_POSITION',
  'VIDEO_TITLE',
  'VISIBILITY',
  'VISITOR_COUNTRY',
  'VISITOR_DEVICE_TYPE',
  'VISITOR_DOMAIN_GROUP',
  'VISITOR_PAGE_URL',
  'VISITOR_SUBDOMAIN',
] as const;

/**
 * Dimensions the documentation names that the (2024) schema file lacks: `PUBLISHER_ID` (compatibility
 * matrix) and `INVENTORY_POSITION_INDEX` (reporting changelog, 2026).
 */
export const DOCUMENTED_EXTRA_DIMENSIONS = ['PUBLISHER_ID', 'INVENTORY_POSITION_INDEX'] as const;

export const PARTNER_REPORT_DIMENSIONS = [...SCHEMA_DIMENSIONS, ...DOCUMENTED_EXTRA_DIMENSIONS] as const;
export const PartnerReportDimension = z.enum(PARTNER_REPORT_DIMENSIONS);
export type PartnerReportDimension = z.infer<typeof PartnerReportDimension>;

/** `PartnerReportMetric` of the GraphQL schema (code-generated type file, 61 values). */
export const SCHEMA_METRICS = [
  'AD_ERRORS',
  'AD_VIEW_COMPLETED',
  'AD_VIEW_NOT_COMPLETED',
  'BANDWIDTH_USED_LIVE_BYTES',
  'BANDWIDTH_USED_LIVE_SECONDS',
  'BANDWIDTH_USED_MEDIA_COUNT',
  'BANDWIDTH_USED_VOD_BYTES',
  'BANDWIDTH_USED_VOD_SECONDS',
  'ECPM_EUR',
  'ECPM_USD',
  'ERPM_EUR',
  'ERPM_USD',
  'ESTIMATED_EARNINGS_EUR',
  'ESTIMATED_EARNINGS_EUR_OLD',
  'ESTIMATED_EARNINGS_USD',
  'ESTIMATED_EARNINGS_USD_OLD',
  'FILL_RATE',
  'GDPR_EMPTY_CONSENT_INVENTORY',
  'GDPR_ERROR_CONSENT_INVENTORY',
  'GDPR_FULL_CONSENT_INVENTORY',
  'GDPR_FULL_CONSENT_SCORE',
  'GDPR_OTHER_CONSENT_INVENTORY',
  'GDPR_REFUSE_CONSENT_INVENTORY',
  'HIGH_VIEWABLE_IMPRESSIONS',
  'IMPRESSIONS',
  'INVALID_TRAFFIC_INVENTORY',
  'IVT_SCORE',
  'LIVE_TIME_WATCHED_SECONDS',
  'LIVE_VIEWERS',
  'LOW_VIEWABLE_IMPRESSIONS',
  'NB_IMPRESSION',
  'NB_INVENTORY_GDPR_MISSING_FULL_CONSENT',
  'NB_MISSED_IMPRESSION',
  'NO_ADS',
  'NO_ADS_TXT_INVENTORY',
  'NO_AD_RATE',
  'NO_BRANDSAFE_INVENTORY',
  'NO_FILLS',
  'NO_MONETIZED_INVENTORY',
  'SELLABLE_INVENTORY',
  'STORAGE_LIFETIME_USED_BYTES',
  'STORAGE_LIFETIME_USED_MEDIA_COUNT',
  'STORAGE_LIFETIME_USED_RENDITION_COUNT',
  'STORAGE_LIFETIME_USED_SECONDS',
  'STORAGE_USED_BYTES',
  'STORAGE_USED_MEDIA_COUNT',
  'STORAGE_USED_RENDITION_COUNT',
  'STORAGE_USED_SECONDS',
  'TIMEOUTS',
  'TIME_WATCHED_SECONDS',
  'TOTAL_INVENTORY',
  'TRANSCODING_USED_LIVE_MEDIA_COUNT',
  'TRANSCODING_USED_LIVE_SECONDS',
  'TRANSCODING_USED_VOD_MEDIA_COUNT',
  'TRANSCODING_USED_VOD_SECONDS',
  'UPLOADS',
  'VALID_TRAFFIC_INVENTORY',
  'VIEWABILITY_SCORE',
  'VIEWS',
  'VIEW_THROUGH_RATE',
  'VTR_SCORE',
] as const;

/** Metrics the documentation names that the schema file lacks (metrics reference + compatibility matrix). */
export const DOCUMENTED_EXTRA_METRICS = ['AVERAGE_WATCH_TIME_SEC'] as const;

export const PARTNER_REPORT_METRICS = [...SCHEMA_METRICS, ...DOCUMENTED_EXTRA_METRICS] as const;
export const PartnerReportMetric = z.enum(PARTNER_REPORT_METRICS);
export type PartnerReportMetric = z.infer<typeof PartnerReportMetric>;

/** `PartnerReportProduct`; the API's default when omitted is CONTENT. */
export const PartnerReportProduct = z.enum(['ALL', 'CLAIM', 'CONTENT', 'EMBED']);
export type PartnerReportProduct = z.infer<typeof PartnerReportProduct>;

/** `PartnerReportFilterMediaType`. */
export const MediaType = z.enum(['LIVE', 'VIDEO']);
export type MediaType = z.infer<typeof MediaType>;

/** `PartnerReportFilterMonetizationType`. */
export const MonetizationType = z.enum(['CLAIM', 'VIDEO_MONETIZATION', 'WEBSITE_MONETIZATION']);
export type MonetizationType = z.infer<typeof MonetizationType>;

/** `PartnerReportFilters` (every field optional). */
export const PartnerReportFilters = z.strictObject({
  channelSlug: z.string().min(1).optional(),
  videoOwnerChannelSlug: z.string().min(1).optional(),
  visitorDomainGroup: z.string().min(1).optional(),
  mediaType: MediaType.optional(),
  monetizationType: MonetizationType.optional(),
});
export type PartnerReportFilters = z.infer<typeof PartnerReportFilters>;
export const FILTER_FIELDS = Object.keys(PartnerReportFilters.shape) as (keyof PartnerReportFilters)[];

/** `PartnerReportStatus`. */
export const PartnerReportStatus = z.enum(['IN_PROGRESS', 'FINISHED', 'FAILED', 'EXPIRED']);
export type PartnerReportStatus = z.infer<typeof PartnerReportStatus>;

/** Time dimensions, finest first. */
export const TIME_DIMENSIONS = ['MINUTE', 'HOUR', 'DAY', 'MONTH'] as const satisfies readonly PartnerReportDimension[];
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];
export const isTimeDimension = (d: string): d is TimeDimension => (TIME_DIMENSIONS as readonly string[]).includes(d);

/** Documented limits of the reporting API. */
export const LIMITS = {
  /** Dimensions per report. */
  maxDimensions: 8,
  /** Days in a report's date range, both ends included. */
  minRangeDays: 1,
  maxRangeDays: 180,
  /** The window the original pipeline used (it split requests into ≤ 30 days). */
  defaultWindowDays: 30,
  /** Reports generating at once per account. */
  maxConcurrentReports: 2,
  /** A report can take up to this long to generate. */
  maxGenerationMs: 2 * 3600_000,
  /** Report files are deleted (status EXPIRED) this long after they are generated. */
  retentionMs: 48 * 3600_000,
} as const;

/** A rule of the compatibility matrix: these metrics accept only `supported` dimensions (when known). */
export interface CompatibilityRule {
  group: string;
  metrics: readonly PartnerReportMetric[];
  /** The full list of dimensions the source says these metrics support. */
  supported?: readonly PartnerReportDimension[];
  /** Dimensions known to be unsupported (when the source's list is only partly known). */
  unsupported?: readonly PartnerReportDimension[];
}

// Dimension groups the matrix's rows share (spelled once; each row lists its own in the source's order).
const TIME_AND_VIDEO = [
  'HOUR',
  'DAY',
  'MONTH',
  'VIDEO_OWNER_CHANNEL_SLUG',
  'VIDEO_ID',
  'VIDEO_TITLE',
] as const satisfies readonly PartnerReportDimension[];
const CONTENT_TAGS = ['CONTENT_TAG', 'CONTENT_TAG_LIST'] as const satisfies readonly PartnerReportDimension[];
const PLAYER_PUBLISHER_VISITOR = [
  'PLAYER_ID',
  'PLAYER_TITLE',
  'PUBLISHER_ID',
  'PUBLISHER_CHANNEL',
  'VISITOR_DOMAIN_GROUP',
  'VISITOR_PAGE_URL',
  'VISITOR_SUBDOMAIN',
  'VISITOR_COUNTRY',
  'VISITOR_DEVICE_TYPE',
  'ACTION',
] as const satisfies readonly PartnerReportDimension[];

/** The rows of the compatibility matrix (developers.dailymotion.com reports-compatibility-matrix). */
export const COMPATIBILITY_RULES: readonly CompatibilityRule[] = [
  {
    group: 'Audience data',
    metrics: ['VIEWS', 'TIME_WATCHED_SECONDS', 'VIEW_THROUGH_RATE', 'AVERAGE_WATCH_TIME_SEC'],
    supported: [
      ...TIME_AND_VIDEO,
      'MEDIA_TYPE',
      ...CONTENT_TAGS,
      'PLAYLIST_ID',
      'PLAYLIST_TITLE',
      'VIDEO_POSITION',
      ...PLAYER_PUBLISHER_VISITOR,
    ],
  },
  {
    group: 'Account data',
    metrics: ['UPLOADS'],
    supported: ['MONTH', 'DAY', 'VIDEO_OWNER_CHANNEL_SLUG', 'VIDEO_ID', 'VIDEO_TITLE', 'VISIBILITY'],
  },
  {
    group: 'Live streaming data',
    metrics: ['LIVE_VIEWERS', 'LIVE_TIME_WATCHED_SECONDS'],
    supported: [...TIME_AND_VIDEO, ...CONTENT_TAGS, ...PLAYER_PUBLISHER_VISITOR],
  },
  {
    // The row's list is only partly known; its time dimensions are DAY and MONTH (no HOUR, no MINUTE).
    group: 'Revenue data',
    metrics: ['ESTIMATED_EARNINGS_USD', 'ESTIMATED_EARNINGS_EUR'],
    unsupported: ['HOUR', 'MINUTE'],
  },
];

/** Incompatible metric/dimension pairs of a request, as messages (empty = compatible as far as known). */
export function compatibilityIssues(metrics: readonly string[], dimensions: readonly string[]): string[] {
  const issues: string[] = [];
  for (const rule of COMPATIBILITY_RULES) {
    for (const m of metrics) {
      if (!(rule.metrics as readonly string[]).includes(m)) continue;
      for (const d of dimensions) {
        const bad =
          (rule.supported && !(rule.supported as readonly string[]).includes(d)) ||
          (rule.unsupported && (rule.unsupported as readonly string[]).includes(d));
        if (bad) issues.push(`Metric ${m} is not compatible with dimension ${d} (${rule.group})`);
      }
    }
  }
  return issues;
}

/** An `AskPartnerReportFileInput` as longhaul sends it (dates as YYYY-MM-DD, UTC days). */
export const AskReportInput = z.object({
  metrics: z.array(PartnerReportMetric).min(1),
  dimensions: z.array(PartnerReportDimension),
  startDate: z.iso.date(),
  endDate: z.iso.date(),
  product: PartnerReportProduct.optional(),
  filters: PartnerReportFilters.optional(),
});
export type AskReportInput = z.infer<typeof AskReportInput>;

const DAY_MS = 86_400_000;

/** Days in [startDate, endDate], both included (≤ 0 when the range is reversed). */
export function rangeDays(startDate: string, endDate: string): number {
  return Math.round((Date.parse(`${endDate}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * What the API refuses in an ask beyond the enum types: too many or repeated dimensions, a reversed,
 * too long or future date range, incompatible metrics and dimensions. `today` is YYYY-MM-DD (UTC).
 */
export function askProblems(input: AskReportInput, today: string): string[] {
  const out: string[] = [];
  if (input.dimensions.length > LIMITS.maxDimensions)
    out.push(`A maximum of ${LIMITS.maxDimensions} dimensions can be passed in a single report`);
  if (new Set(input.dimensions).size !== input.dimensions.length) out.push('Dimensions must not repeat');
  if (new Set(input.metrics).size !== input.metrics.length) out.push('Metrics must not repeat');
  const days = rangeDays(input.startDate, input.endDate);
  if (days < LIMITS.minRangeDays) out.push('startDate must be before or equal to endDate');
  else if (days > LIMITS.maxRangeDays)
    out.push(`The date range cannot exceed ${LIMITS.maxRangeDays} days (got ${days})`);
  if (input.endDate > today || input.startDate > today) out.push('The date range cannot be in the future');
  out.push(...compatibilityIssues(input.metrics, input.dimensions));
  return out;
}
