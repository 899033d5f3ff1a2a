/**
 * Deterministic report rows: an ask (dimensions, metrics, dates, product, filters) maps to time buckets
 * × combinations of catalog entities, and row r is computed from its index alone, so any file of a split
 * report (or any page of the expected rows) is produced without the rows before it. Metric values are a
 * hash of the seed, the bucket's time, the entity combination, product and filters: the same ask always
 * gives the same rows, and two windows that overlap agree on the shared buckets.
 */
import type { AskReportInput, PartnerReportDimension } from '../connector/enums';
import { isTimeDimension, type TimeDimension } from '../connector/enums';
import type { Catalog } from './catalog';

const UNIT_MS: Record<Exclude<TimeDimension, 'MONTH'>, number> = { MINUTE: 60_000, HOUR: 3600_000, DAY: 86_400_000 };

/** FNV-1a over a string. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Mixes a number into a hash (murmur3 finaliser). */
function mix(h: number, v: number): number {
  let x = (h ^ Math.imul(v | 0, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const unit = (h: number) => h / 4294967296;

interface ProjectedAxis {
  /** Requested dimensions of this axis, in request order. */
  dims: PartnerReportDimension[];
  /** Distinct value tuples (one per row combination). */
  tuples: string[][];
  hashes: number[];
}

export interface ReportPlan {
  header: string[];
  dimensions: PartnerReportDimension[];
  metrics: string[];
  bucketStarts: number[];
  finest?: TimeDimension;
  axes: ProjectedAxis[];
  combos: number;
  total: number;
  baseHash: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The CSV text of a time dimension for a bucket starting at `t` (UTC). */
export function timeLabel(dim: TimeDimension, t: number): string {
  const d = new Date(t);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (dim === 'MONTH') return day.slice(0, 7);
  if (dim === 'DAY') return day;
  if (dim === 'HOUR') return `${day} ${pad(d.getUTCHours())}:00:00`;
  return `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00`;
}

function bucketStarts(finest: TimeDimension | undefined, startDate: string, endDate: string): number[] {
  const start = Date.parse(`${startDate}T00:00:00Z`);
  const end = Date.parse(`${endDate}T00:00:00Z`) + UNIT_MS.DAY;
  if (!finest) return [start];
  if (finest === 'MONTH') {
    const out: number[] = [];
    const d = new Date(start);
    for (let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); t < end;) {
      out.push(Math.max(t, start));
      const n = new Date(t);
      t = Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + 1, 1);
    }
    return out;
  }
  const step = UNIT_MS[finest];
  return Array.from({ length: Math.max(0, Math.round((end - start) / step)) }, (_, i) => start + i * step);
}

const FILTER_DIM: Record<string, PartnerReportDimension> = {
  channelSlug: 'CHANNEL_SLUG',
  videoOwnerChannelSlug: 'VIDEO_OWNER_CHANNEL_SLUG',
  visitorDomainGroup: 'VISITOR_DOMAIN_GROUP',
  mediaType: 'MEDIA_TYPE',
  monetizationType: 'MONETIZATION_TYPE',
};

/** Sizes and layout of an ask's report, without generating any row. */
export function planReport(catalog: Catalog, seed: number, input: AskReportInput): ReportPlan {
  const dims = input.dimensions;
  const finest = (['MINUTE', 'HOUR', 'DAY', 'MONTH'] as const).find((t) => dims.includes(t));
  const filters = Object.entries(input.filters ?? {}).filter(([, v]) => v !== undefined) as [string, string][];
  const axes: ProjectedAxis[] = [];
  let empty = false;
  // Filtered axes take part even when none of their dimensions is asked (they can empty the report).
  const axisNames = new Set<string>();
  for (const d of dims) if (!isTimeDimension(d)) axisNames.add(catalog.axisOf(d)!.name);
  for (const [f] of filters) axisNames.add(catalog.axisOf(FILTER_DIM[f])!.name);
  for (const axis of catalog.axes) {
    if (!axisNames.has(axis.name)) continue;
    const wanted = dims.filter((d) => !isTimeDimension(d) && catalog.axisOf(d) === axis);
    const keep = axis.entities.filter((e) =>
      filters.every(([f, v]) => !axis.dims.includes(FILTER_DIM[f]) || e[FILTER_DIM[f]] === v),
    );
    if (keep.length === 0) empty = true;
    if (wanted.length === 0) continue;
    const tuples: string[][] = [];
    const keys = new Set<string>();
    for (const e of keep) {
      const t = wanted.map((d) => e[d] ?? '');
      const k = JSON.stringify(t);
      if (keys.has(k)) continue;
      keys.add(k);
      tuples.push(t);
    }
    const pa: ProjectedAxis = {
      dims: wanted,
      tuples,
      hashes: tuples.map((t) => hashString(JSON.stringify([wanted, t]))),
    };
    axes.push(pa);
  }
  // Axes in the order their first dimension appears in the request.
  axes.sort((a, b) => dims.indexOf(a.dims[0]) - dims.indexOf(b.dims[0]));
  const starts = bucketStarts(finest, input.startDate, input.endDate);
  const combos = empty ? 0 : axes.reduce((n, a) => n * a.tuples.length, 1);
  const baseHash = hashString(JSON.stringify([seed, finest ?? 'ALL', input.product ?? 'CONTENT', filters.sort()]));
  return {
    header: [...dims, ...input.metrics].map((x) => x.toLowerCase()),
    dimensions: dims,
    metrics: input.metrics,
    bucketStarts: starts,
    finest,
    axes,
    combos,
    total: starts.length * combos,
    baseHash,
  };
}

const fixed = (n: number, digits: number) => n.toFixed(digits);

/** The value of each metric for one row, from the row's hash. */
function metricValues(metrics: string[], h: number): string[] {
  const u = (name: string) => unit(mix(h, hashString(name)));
  const views = Math.floor(u('VIEWS') ** 2 * 5000);
  const watched = views * (15 + Math.floor(u('WATCH') * 600));
  const live = Math.floor(u('LIVE_VIEWERS') ** 2 * 800);
  return metrics.map((m) => {
    switch (m) {
      case 'VIEWS':
        return String(views);
      case 'TIME_WATCHED_SECONDS':
        return String(watched);
      case 'AVERAGE_WATCH_TIME_SEC':
        return views ? fixed(watched / views, 2) : '0';
      case 'LIVE_VIEWERS':
        return String(live);
      case 'LIVE_TIME_WATCHED_SECONDS':
        return String(live * (30 + Math.floor(u('LIVE_WATCH') * 1200)));
      case 'UPLOADS':
        return String(Math.floor(u(m) * 3));
    }
    if (/^ESTIMATED_EARNINGS/.test(m)) return fixed(views * u(m) * 0.004, 4);
    if (/^(ECPM|ERPM)_/.test(m)) return fixed(u(m) * 12, 4);
    if (/(_RATE|_SCORE)$/.test(m)) return fixed(u(m), 4);
    if (/_BYTES$/.test(m)) return String(Math.floor(u(m) * 1e9));
    return String(Math.floor(u(m) ** 2 * 10_000));
  });
}

/** Rows [from, to) of a planned report, as CSV field values (dimensions first, then metrics). */
export function* reportRows(plan: ReportPlan, from = 0, to = plan.total): Generator<string[]> {
  const end = Math.min(to, plan.total);
  let labelsFor = -1;
  let labels = new Map<string, string>();
  const radix = plan.axes.map((a) => a.tuples.length);
  for (let r = Math.max(0, from); r < end; r++) {
    const b = Math.floor(r / plan.combos);
    let c = r % plan.combos;
    const t = plan.bucketStarts[b];
    if (b !== labelsFor) {
      labelsFor = b;
      labels = new Map(plan.dimensions.filter(isTimeDimension).map((d) => [d, timeLabel(d, t)]));
    }
    const picks = new Array<number>(radix.length);
    for (let i = radix.length - 1; i >= 0; i--) {
      picks[i] = c % radix[i];
      c = Math.floor(c / radix[i]);
    }
    let h = mix(plan.baseHash, Math.floor(t / 60_000));
    const values = new Map<string, string>();
    plan.axes.forEach((a, i) => {
      h = mix(h, a.hashes[picks[i]]);
      a.dims.forEach((d, j) => values.set(d, a.tuples[picks[i]][j]));
    });
    const row = plan.dimensions.map((d) => (isTimeDimension(d) ? labels.get(d)! : values.get(d)!));
    row.push(...metricValues(plan.metrics, h));
    yield row;
  }
}
