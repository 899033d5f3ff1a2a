/**
 * The partner reporting API's rules for an ask, as the sandbox enforces them — written from the public
 * documentation (developers.dailymotion.com: "Reports specifications and rate limiting", the reports
 * compatibility matrix, read 2026-12), on their own: the client's checks (connector/enums.ts `askProblems`) are
 * never imported, so a client-side rule that is wrong shows up as a disagreement (test/unit/
 * dailymotion-contract.test.ts) instead of being mirrored. The enums (the schema's lists) are shared; the
 * refusals are not. Messages follow the documentation's wording where it gives one.
 */
import type { AskReportInput } from '../connector/enums';

/** "A maximum of 8 dimensions can be passed in a single report." */
const MAX_DIMENSIONS = 8;
/** A report covers 1 to 180 days. */
const MAX_DAYS = 180;

interface MatrixRow {
  group: string;
  metrics: string[];
  /** Every dimension the matrix lists for these metrics. */
  dimensions?: string[];
  /** The row's list is cut short in the documentation: only these are known to be refused. */
  refused?: string[];
}

/** The compatibility matrix's rows, as the documentation lists them. */
const MATRIX: MatrixRow[] = [
  {
    group: 'Audience data',
    metrics: ['VIEWS', 'TIME_WATCHED_SECONDS', 'VIEW_THROUGH_RATE', 'AVERAGE_WATCH_TIME_SEC'],
    dimensions: (
      'HOUR DAY MONTH VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE MEDIA_TYPE CONTENT_TAG CONTENT_TAG_LIST ' +
      'PLAYLIST_ID PLAYLIST_TITLE VIDEO_POSITION PLAYER_ID PLAYER_TITLE PUBLISHER_ID PUBLISHER_CHANNEL ' +
      'VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN VISITOR_COUNTRY VISITOR_DEVICE_TYPE ACTION'
    ).split(' '),
  },
  {
    group: 'Account data',
    metrics: ['UPLOADS'],
    dimensions: 'MONTH DAY VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE VISIBILITY'.split(' '),
  },
  {
    group: 'Live streaming data',
    metrics: ['LIVE_VIEWERS', 'LIVE_TIME_WATCHED_SECONDS'],
    dimensions: (
      'HOUR DAY MONTH VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE CONTENT_TAG CONTENT_TAG_LIST PLAYER_ID ' +
      'PLAYER_TITLE PUBLISHER_ID PUBLISHER_CHANNEL VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN ' +
      'VISITOR_COUNTRY VISITOR_DEVICE_TYPE ACTION'
    ).split(' '),
  },
  {
    // Listed from DAY and MONTH on: no HOUR, no MINUTE (the rest of the list is cut short).
    group: 'Revenue data',
    metrics: ['ESTIMATED_EARNINGS_USD', 'ESTIMATED_EARNINGS_EUR'],
    refused: ['HOUR', 'MINUTE'],
  },
];

const DAY = 86_400_000;
const dayNumber = (ymd: string) => Date.parse(`${ymd.slice(0, 10)}T00:00:00Z`) / DAY;

/** Why the API refuses this ask (empty: it accepts it), `nowMs` on the sandbox clock (UTC days). */
export function askRefusals(input: AskReportInput, nowMs: number): string[] {
  const out: string[] = [];
  if (input.dimensions.length > MAX_DIMENSIONS)
    out.push(`A maximum of ${MAX_DIMENSIONS} dimensions can be passed in a single report`);
  const twice = (xs: string[]) => xs.some((x, i) => xs.indexOf(x) !== i);
  if (twice(input.dimensions)) out.push('Dimensions must not repeat');
  if (twice(input.metrics)) out.push('Metrics must not repeat');
  const start = dayNumber(input.startDate);
  const end = dayNumber(input.endDate);
  if (end < start) out.push('startDate must be before or equal to endDate');
  else if (end - start + 1 > MAX_DAYS)
    out.push(`The date range cannot exceed ${MAX_DAYS} days (got ${end - start + 1})`);
  const today = Math.floor(nowMs / DAY);
  if (start > today || end > today) out.push('The date range cannot be in the future');
  for (const row of MATRIX)
    for (const m of input.metrics.filter((x) => row.metrics.includes(x)))
      for (const d of input.dimensions)
        if (row.dimensions ? !row.dimensions.includes(d) : row.refused!.includes(d))
          out.push(`Metric ${m} is not compatible with dimension ${d} (${row.group})`);
  return out;
}
