/**
 * Seeded Datorama data for the sandbox: workspaces, data streams (with a full config a PUT can clear)
 * and jobs ("data stream stats") whose status follows the sandbox clock: PENDING while queued, then
 * IN_PROGRESS, then SUCCESS or FAILURE. Deterministic for a seed.
 */
import { prng } from '../../../sandbox/faults';

export type JobStatus = 'PENDING' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILURE';

export interface Workspace {
  id: number;
  name: string;
  accountId: number;
  timezone: string;
  currency: string;
  createTime: number;
  updateTime: number;
}

/** Every field of a stream the API returns; `config` holds the data-source settings a PUT replaces. */
export interface Stream {
  id: number;
  name: string | null;
  workspaceId: number;
  dataSourceName: string;
  dataSourceId: number;
  enabled: boolean | null;
  timezone: string | null;
  description: string | null;
  schedule: { frequency: string; hour: number } | null;
  config: Record<string, unknown> | null;
  createTime: number;
  updateTime: number;
  /** Sandbox behaviour: every job of this stream ends in FAILURE. */
  failing: boolean;
}

export interface Job {
  id: number;
  dataStreamId: number;
  workspaceId: number;
  dataStartDate: string;
  dataEndDate: string;
  type: 'PROCESS' | 'RERUN' | 'SCHEDULED';
  createTime: number;
  updateTime: number;
  /** When the current run was queued, started, ended (sandbox clock, epoch ms). */
  queuedAt: number;
  startAt: number;
  endAt: number;
  fails: boolean;
  rowsProcessed: number;
  rerunCount: number;
}

export interface SeedOptions {
  seed?: number;
  workspaces?: number;
  streams?: number;
  /** Historical jobs per stream: 0..maxJobs, seeded. */
  maxJobs?: number;
  /** Sandbox time at seeding (jobs in the past end before it). */
  now: number;
  /** One stream in this many always fails its jobs (0 = none). */
  failEvery?: number;
}

const SOURCES = [
  'Facebook Ads',
  'Google Ads',
  'DV360',
  'TikTok Ads',
  'Google Analytics 4',
  'LinkedIn Ads',
  'Amazon Ads',
  'Criteo',
  'Total Connect',
];
const BRANDS = ['Brand FR', 'Brand UK', 'Retail DE', 'Search ES', 'Video IT', 'Always-on', 'Promo Q4', 'App US'];
const DAY = 86_400_000;

export const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The status of a job at `now`. */
export function jobStatus(j: Job, now: number): JobStatus {
  if (now < j.startAt) return 'PENDING';
  if (now < j.endAt) return 'IN_PROGRESS';
  return j.fails ? 'FAILURE' : 'SUCCESS';
}

/** Queue delay and run time of a job over `days` days (sandbox timing, seeded by the job id). */
export function jobTiming(id: number, days: number, from: number): Pick<Job, 'queuedAt' | 'startAt' | 'endAt'> {
  const r = prng(id)();
  const startAt = from + 5_000 + Math.floor(r * 25_000);
  return { queuedAt: from, startAt, endAt: startAt + 10_000 + days * 3_000 };
}

export function seedData(o: SeedOptions) {
  const rnd = prng(o.seed ?? 1);
  const workspaces: Workspace[] = [];
  const streams: Stream[] = [];
  const jobs: Job[] = [];
  const nWs = o.workspaces ?? 4;
  const nStreams = o.streams ?? 240;
  const failEvery = o.failEvery ?? 23;
  const created = o.now - 400 * DAY;
  for (let w = 0; w < nWs; w++) {
    workspaces.push({
      id: 5000 + w + 1,
      name: `${['Global', 'EMEA', 'Americas', 'APAC', 'Agency', 'Brand'][w % 6]} Media ${w + 1}`,
      accountId: 900,
      timezone: ['Europe/Paris', 'America/New_York', 'Asia/Tokyo'][w % 3],
      currency: ['EUR', 'USD', 'JPY'][w % 3],
      createTime: created,
      updateTime: created,
    });
  }
  let jobId = 700_000;
  for (let s = 0; s < nStreams; s++) {
    const id = 10_000 + s + 1;
    const ws = workspaces[s % nWs];
    const src = SOURCES[Math.floor(rnd() * SOURCES.length)];
    streams.push({
      id,
      name: `${src} - ${BRANDS[Math.floor(rnd() * BRANDS.length)]} ${id}`,
      workspaceId: ws.id,
      dataSourceName: src,
      dataSourceId: 100 + SOURCES.indexOf(src),
      enabled: rnd() > 0.05,
      timezone: ws.timezone,
      description: `Seeded ${src} stream`,
      schedule: { frequency: 'DAILY', hour: Math.floor(rnd() * 24) },
      config: { accountIds: [String(Math.floor(rnd() * 1e9))], attributionWindow: '7d_click', currency: ws.currency },
      createTime: created,
      updateTime: created,
      failing: failEvery > 0 && s % failEvery === failEvery - 1,
    });
    const n = Math.floor(rnd() * ((o.maxJobs ?? 6) + 1));
    for (let k = n; k >= 1; k--) {
      const start = o.now - (k * 10 + 5) * DAY;
      const t = start + DAY;
      jobs.push({
        id: ++jobId,
        dataStreamId: id,
        workspaceId: ws.id,
        dataStartDate: iso(start),
        dataEndDate: iso(start + 9 * DAY),
        type: 'SCHEDULED',
        createTime: t,
        updateTime: t,
        queuedAt: t,
        startAt: t + 20_000,
        endAt: t + 60_000,
        fails: rnd() < 0.1,
        rowsProcessed: Math.floor(rnd() * 50_000),
        rerunCount: 0,
      });
    }
  }
  return { workspaces, streams, jobs, nextJobId: jobId + 1 };
}

/** Dimensions, patterns, harmonized dimensions and calculated measurements of a workspace (static shapes). */
export function workspaceModel(ws: Workspace) {
  return {
    dimensions: ['Campaign', 'Media Buy', 'Creative', 'Site', 'Country'].map((name, i) => ({
      id: ws.id * 100 + i,
      name,
      systemName: name.toUpperCase().replace(/ /g, '_'),
      type: 'DIMENSION',
      workspaceId: ws.id,
    })),
    patterns: [
      { id: ws.id * 10 + 1, name: 'Campaign country', dimension: 'Campaign', pattern: '_([A-Z]{2})_', position: 1 },
    ],
    harmonized: [{ id: ws.id * 10 + 2, name: 'Channel', values: ['Social', 'Search', 'Display', 'Video'] }],
    calculated: [{ id: ws.id * 10 + 3, name: 'CTR', formula: 'SUM(Clicks)/SUM(Impressions)', workspaceId: ws.id }],
  };
}
