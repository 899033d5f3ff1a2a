/**
 * Where a Dailymotion report's files land in the bucket, and what their manifest says:
 * `landed/dailymotion-report/<table>/<start>_<end>/<report config>/<report>/part-NNNNN.csv.gz` + `manifest.json`.
 * The report segment is a fingerprint of its token (a new ask lands apart; the token itself is not written).
 */
import { fnv1a64 } from '../../../shared/identity-hash';
import type { DateWindow } from '../../../shared/dates';
import type { Bucket } from '../../../sinks/bucket';
import { landedPrefix, landingsUnder, type LandedManifest } from '../../../kit/activity/landing';
import type { ReportConfigInput } from '../shared';

export interface LandedReport extends ReportConfigInput {
  window: DateWindow;
  table: string;
  /** reportConfig() of the above: the rows' `report_config`. */
  config: string;
}

export const landedReportsPrefix = (table: string, window?: DateWindow) =>
  window
    ? landedPrefix('dailymotion-report', table, `${window.start}_${window.end}`)
    : landedPrefix('dailymotion-report', table);

export const landedReportPrefix = (table: string, window: DateWindow, config: string, reportToken: string) =>
  `${landedReportsPrefix(table, window)}/${config}/${fnv1a64(`dailymotion-report:${reportToken}`)}`;

/** The configuration part of a load's input, as the manifest keeps it. */
export const reportConfigOf = (i: ReportConfigInput): ReportConfigInput => ({
  metrics: i.metrics,
  dimensions: i.dimensions,
  ...(i.product ? { product: i.product } : {}),
  ...(i.filters ? { filters: i.filters } : {}),
});

/** The newest complete landing of a report configuration's window (what `--from-landed` loads), if any. */
export async function latestLanding(
  bucket: Bucket,
  table: string,
  window: DateWindow,
  config: string,
): Promise<LandedManifest<LandedReport> | undefined> {
  return (await landingsUnder<LandedReport>(bucket, `${landedReportsPrefix(table, window)}/${config}/`))[0];
}
