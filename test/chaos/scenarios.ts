/**
 * The pipelines the chaos suite runs: each one's sandbox (a fresh one per run, same seed, so every run
 * sees the same data), its input, the columns that legitimately differ between two correct runs, and
 * the faults its sandbox injects in the fault run (routes of that API; rates are seeded).
 */
import { randomUUID } from 'node:crypto';
import type { FaultRuleInput } from '../../src/sandbox/faults';
import type { SandboxServer } from '../../src/sandbox/server';
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
} from '../../src/pipelines/dailymotion/sandbox';
import { DatoramaSandbox, type LoggedAction } from '../../src/pipelines/datorama/sandbox';
import { TiteliveSandbox, titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { YoutubeSandbox, youtubeKeyPairs, type SandboxProject } from '../../src/pipelines/youtube/sandbox';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { parseConfig } from '../../src/config';
import type { Bucket } from '../../src/sinks/bucket';
import { createVideosStore } from '../../src/sinks/videos';
import { AcmeSandbox, type AcmeSandboxOptions } from '../../src/pipelines/acme/sandbox/server';
import { acmeSandbox } from '../../src/pipelines/acme/sandbox';
import { fingerprint } from '../../src/node/fingerprint';
import {
  acmeTruth,
  datoramaTruth,
  dailymotionTruth,
  selftestTruth,
  titeliveTruth,
  youtubeEnrichTruth,
  youtubeWatchTruth,
  type TruthChecker,
} from './truth';

export interface RunIds {
  taskQueue: string;
  workflowId: string;
  /** A name unique to this run for shared entities (report slots, quota pools, rate limiters). */
  unique: string;
  /** The URI of a key in the run's bucket, as an input names it (the embedded profile: s3://longhaul/…). */
  bucketUri: (key: string) => string;
}

export interface ScenarioSandbox {
  servers: SandboxServer[];
  /** Datorama: the sandbox's enabled stream IDs, and their jobs (`stream:job`). */
  streams?: number[];
  jobs?: string[];
  /**
   * Actions the API applied (non-idempotent calls), as sorted keys: compared with the reference like a
   * table, so an action applied twice or never shows as a duplicate or a missing row.
   */
  applied?: () => string[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** One workflow a run starts (a scenario may start several on one worker: see `shared`). */
export interface ScenarioStart {
  workflowType: string;
  /** Appended to the run's workflow ID (several starts need distinct IDs). */
  suffix?: string;
  input: unknown;
}

export interface Scenario {
  name: string;
  sandbox(seed: number): Promise<ScenarioSandbox>;
  /** Inputs the run reads, written to the run's bucket before it starts. */
  prepare?(bucket: Bucket): Promise<void>;
  /** The run keeps a videos store (youtube-watch): on PostgreSQL in the production profile. */
  videosStore?: boolean;
  workflowType: string;
  input(ids: RunIds, sandbox: ScenarioSandbox): unknown;
  /** Several workflows on the run's one worker (default: one, `workflowType` with `input`). */
  starts?(ids: RunIds, sandbox: ScenarioSandbox): ScenarioStart[];
  /** Checks of every run against the sandbox's truth (test/chaos/truth.ts). */
  truth: TruthChecker[];
  /**
   * Named kill points (src/kit/activity/chaos-points.ts) aimed at in the kill run: the i-th worker process of
   * the run is killed the first time it reaches the i-th point; the run fails if one never fires.
   */
  aim: string[];
  /**
   * The random kills come before the aimed ones (default: after): for a run whose aimed points all lie at its
   * end (selftest writes after a long durable sleep), so that the random kills hit the sleep, not nothing.
   */
  killsFirst?: boolean;
  /** Columns beyond the timestamps (VOLATILE_COLUMNS) that differ between two correct runs. */
  volatileColumns?: string[];
  /** Rows that depend on which faults the run met (left out of the comparison). */
  ignoreRow?: (row: Record<string, unknown>) => boolean;
  /** Object keys as compared (a part derived from where the input lies replaced by a placeholder). */
  objectKey?: (key: string) => string;
  /** Faults for the fault run, at seeded rates, on this API's routes. */
  faults: FaultRuleInput[];
  /** What a fault run may fail with instead of finishing exactly (a clear, specific error). */
  clearFailure?: RegExp;
  /** Workflows to terminate after a run (entities that outlive it). */
  entities?(ids: RunIds, env: Record<string, string>): string[];
}

const DATA_SEED = 8;
/** Sandbox time the Datorama history is seeded from: fixed, so every run sees the same jobs. */
const DATORAMA_SEED_NOW = Date.UTC(2026, 10, 1);

/** HTTP faults every API can get: rate limiting, server errors, dropped connections. */
const common = (routes: string[], rate: number): FaultRuleInput[] =>
  routes.flatMap((route) => [
    { route, kind: '429', rate, retryAfterSec: 1 },
    { route, kind: '500', rate: rate / 2 },
    { route, kind: '502', rate: rate / 2 },
    { route, kind: '503', rate: rate / 2 },
    { route, kind: 'reset', rate: rate / 2 },
  ]);

/**
 * How long a Dailymotion report generates: bounded, 1.5 s; full, 2 minutes (real reports take minutes to
 * hours), so kills and restarts land while reports generate and the run polls on durable timers.
 */
const dmGenerationMs = (full: boolean) => (full ? 120_000 : 1500);

async function dailymotionSandbox(seed: number, full: boolean): Promise<ScenarioSandbox> {
  const s = new DailymotionSandbox({ seed: seed ^ DATA_SEED, generationMs: dmGenerationMs(full), rowsPerFile: 400 });
  const url = await s.start(0);
  return {
    servers: [s],
    env: {
      DM_BASE_URL: url,
      DM_CLIENT_API: DM_SANDBOX_CLIENT_ID,
      DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET,
      // An ask whose answer was lost (a kill or a cut connection during the call) holds its slot until the
      // report it may have started has surely finished generating: here the sandbox's generation time (the
      // real API's is up to 2 h; the worker default is 30 min).
      DM_UNKNOWN_ASK_HOLD_MS: String(Math.max(5000, 3 * dmGenerationMs(full))),
    },
    stop: () => s.stop(),
  };
}

const dmInput = (full: boolean, product: string, table: string) => ({
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID', 'VISITOR_COUNTRY'],
  product,
  startDate: '2026-01-01',
  endDate: '2026-02-14',
  windowDays: 15,
  table,
  poll: { initialDelay: '200ms', factor: 1.5, maxDelay: full ? '10s' : '1s' },
});

export const dailymotionReport = (full: boolean): Scenario => ({
  name: 'dailymotion-report',
  sandbox: (seed) => dailymotionSandbox(seed, full),
  truth: [dailymotionTruth('dm_chaos')],
  aim: ['dailymotion.ask.after-call', 'dailymotion.load.after-landing', 'dailymotion.load.after-commit'],
  workflowType: 'dailymotionReport',
  input: () => dmInput(full, 'CONTENT', 'dm_chaos'),
  faults: [
    ...common(['token', 'graphql'], 0.08),
    { route: 'graphql', kind: 'malformed', rate: 0.04 },
    { route: 'graphql', kind: 'malformed', times: 1 }, // at least one, whatever the seed
    // Faults on CSV downloads (a broken download used to wait for the 2-minute heartbeat timeout; fixed in
    // src/pipelines/dailymotion/activities/csv.ts): one truncated and one reset download in every size, more in full.
    { route: 'download', kind: 'truncated', times: 1 },
    { route: 'download', kind: 'reset', times: 1 },
    ...(full
      ? ([
          ...common(['download'], 0.02),
          { route: 'download', kind: 'truncated', rate: 0.02 },
        ] satisfies FaultRuleInput[])
      : []),
  ],
  // A window whose load ran out of attempts (5) fails the run, naming each failed window and its cause.
  clearFailure: /^WorkflowFailedError: .* \d+ of \d+ window\(s\) failed: \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}: \S/,
});

const YT_PROJECTS: SandboxProject[] = [
  { id: 'chaos-a', keys: ['chaos-key-a-1', 'chaos-key-a-2'] },
  { id: 'chaos-b', keys: ['chaos-key-b-1'] },
];

export function youtubeEnrich(ids: number): Scenario {
  return {
    name: 'youtube-enrich',
    async sandbox(seed) {
      const s = new YoutubeSandbox({ seed: seed ^ DATA_SEED, projects: YT_PROJECTS, latencyMs: 10, missingRate: 0.03 });
      const url = await s.start(0);
      return {
        servers: [s],
        env: { YOUTUBE_BASE_URL: `${url}/youtube/v3`, YOUTUBE_API_KEYS: youtubeKeyPairs(YT_PROJECTS) },
        stop: () => s.stop(),
      };
    },
    async prepare(bucket) {
      const rows = ['song,user,ts'];
      for (let i = 0; i < ids; i++) {
        const id = fakeId(DATA_SEED, 'chaos', i);
        rows.push(`${id},u${i % 50},2026-01-01T00:00:00Z`);
        if (i % 7 === 0) rows.push(`${id},u${(i + 1) % 50},2026-01-02T00:00:00Z`);
      }
      await bucket.put('inputs/playlog.csv', rows.join('\n') + '\n');
    },
    truth: [youtubeEnrichTruth('youtube_videos', 'youtube/chaos')],
    // The work folder is named by a hash of the input, its URI included (a bucket of the run's own).
    objectKey: (key) => key.replace(/\/_work\/[0-9a-f]+\//, '/_work/<input>/'),
    aim: ['youtube.fetch.after-write'],
    workflowType: 'youtubeEnrich',
    input: ({ unique, bucketUri }) => ({
      csv: bucketUri('inputs/playlog.csv'),
      column: 'song',
      pool: unique,
      outPrefix: 'youtube/chaos',
      concurrency: 4,
      callsPerActivity: 4,
      chunksPerRun: 5,
    }),
    faults: [...common(['videos.list'], 0.05), { route: 'videos.list', kind: 'malformed', rate: 0.02 }],
    entities: ({ unique }) => [`quota-ledger-${unique}`],
  };
}

export function titelive(books: number): Scenario {
  return {
    name: 'titelive',
    async sandbox(seed) {
      const s = new TiteliveSandbox({ seed: seed ^ DATA_SEED, catalog: { books, music: 0 } });
      const url = await s.start(0);
      return {
        servers: [s, s.images],
        env: { ...titeliveSandbox.env(url), TITELIVE_IMAGE_POOL_SIZE: '4', TITELIVE_IMAGE_CONCURRENCY: '8' },
        stop: () => s.stop(),
      };
    },
    truth: [titeliveTruth],
    aim: ['titelive.extract.after-write'],
    workflowType: 'titelive',
    // HTTP tries of the images activity attempt that recorded the image: the image host fails some first
    // tries (seeded), and tries made by an attempt a kill cut short are not counted. Status, bytes and
    // object key are compared.
    volatileColumns: ['attempts'],
    input: () => ({
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      maxModifiedDate: '2025-12-31',
      resultsPerPage: 20,
      imageBatch: 200,
      imageRetryDelay: '2s',
    }),
    faults: [
      ...common(['login', 'search'], 0.1),
      { route: 'search', kind: 'malformed', rate: 0.05 },
      { route: 'search', kind: 'truncated', rate: 0.05 },
      { route: 'search', kind: 'malformed', times: 1 },
      { route: 'search', kind: 'truncated', times: 1 },
    ],
  };
}

/** Calls whose applied actions a scenario compares with the reference (none: collect only reads). */
type DatoramaRoute = 'process-bulk' | 'rerun-all' | 'rerun' | 'patch';

function datoramaSandbox(streams: number, maxJobs: number, route?: DatoramaRoute) {
  return async (seed: number): Promise<ScenarioSandbox> => {
    const token = `chaos-token-${randomUUID()}`;
    const s = new DatoramaSandbox({
      seed: seed ^ DATA_SEED,
      tokens: [token],
      seedNow: DATORAMA_SEED_NOW,
      streams,
      maxJobs,
    });
    const url = await s.start(0);
    const enabled = s.data.streams.filter((x) => x.enabled).map((x) => x.id);
    return {
      servers: [s],
      streams: enabled,
      jobs: s.data.jobs.filter((j) => enabled.includes(j.dataStreamId)).map((j) => `${j.dataStreamId}:${j.id}`),
      // Jobs a process call creates get IDs in call order: the action is the stream and range.
      applied: route
        ? () =>
            s
              .calls(route)
              .flatMap((c) => (c.meta?.actions ?? []) as LoggedAction[])
              .map((a) =>
                route === 'process-bulk'
                  ? `${a.stream} ${a.start}..${a.end}`
                  : route === 'patch'
                    ? `${a.stream} ${(a.fields ?? []).join(',')}`
                    : `${a.stream} job ${a.job}`,
              )
              .sort()
        : undefined,
      env: { DATORAMA_BASE_URL: `${url}/v1`, DATORAMA_TOKEN: token },
      stop: () => s.stop(),
    };
  };
}

export function datoramaProcess(streams: number): Scenario {
  return {
    name: 'datorama-process',
    sandbox: datoramaSandbox(streams, 0, 'process-bulk'),
    truth: [datoramaTruth],
    // The claim without its call, then the check of it killed after recording "not applied" (its answer lost:
    // the full suite found such actions never submitted), then a call whose answer is lost.
    aim: ['datorama.call.after-claim', 'datorama.reconcile.after-record', 'datorama.call.after-call'],
    // The job log is a log of events: a call left unanswered adds an UNCERTAIN event before the outcome.
    ignoreRow: (r) => r.status === 'UNCERTAIN',
    // The platform numbers new jobs in the order calls arrive; the row key carries the job and a time; an
    // action's message and HTTP status say how its outcome was learned (the call's answer, or a stats check
    // after an unanswered call). Its state is compared, and the platform's record of applied actions.
    volatileColumns: ['job_id', 'row_key', 'message', 'http_status'],
    workflowType: 'datoramaProcess',
    input: (_ids, sb) => ({
      streams: sb.streams,
      start: '2025-03-01',
      end: '2025-03-30',
      batchSize: 8,
    }),
    faults: [...common(['process-bulk'], 0.08), { route: 'process-bulk', kind: 'slow', times: 1, delayMs: 31_000 }],
  };
}

export function datoramaRerun(streams: number): Scenario {
  return {
    name: 'datorama-rerun',
    sandbox: datoramaSandbox(streams, 3, 'rerun-all'),
    truth: [datoramaTruth],
    aim: ['datorama.call.after-claim', 'datorama.reconcile.after-record', 'datorama.call.after-call'],
    // The job log is a log of events: a call left unanswered adds an UNCERTAIN event before the outcome.
    ignoreRow: (r) => r.status === 'UNCERTAIN',
    volatileColumns: ['row_key', 'message', 'http_status'],
    workflowType: 'datoramaRerunAll',
    input: (_ids, sb) => ({ streams: sb.streams }),
    faults: [
      ...common(['rerun-all'], 0.08),
      // Answered after the call activity's 30 s timeout: the call was applied, the answer never read.
      { route: 'rerun-all', kind: 'slow', times: 1, delayMs: 31_000 },
    ],
  };
}

/**
 * A Datorama action run on items of the sandbox (jobs or streams): the platform's applied actions on `route`
 * compared with the reference, the job log and action records too, except what says how an outcome was
 * learned (the call's answer, or a check after an unanswered call) and the UNCERTAIN events of such calls.
 */
function datoramaAction(o: {
  name: string;
  streams: number;
  maxJobs: number;
  route: DatoramaRoute;
  workflowType: string;
  input: Scenario['input'];
}): Scenario {
  return {
    name: o.name,
    sandbox: datoramaSandbox(o.streams, o.maxJobs, o.route),
    truth: [datoramaTruth],
    aim: ['datorama.call.after-call'],
    ignoreRow: (r) => r.status === 'UNCERTAIN',
    volatileColumns: ['row_key', 'message', 'http_status'],
    workflowType: o.workflowType,
    input: o.input,
    faults: [...common([o.route], 0.08)],
  };
}

/** `datorama-rerun`: chosen jobs rerun, one call per stream (the per-job rerun; datorama-rerun-all above). */
export const datoramaRerunJobs = (jobs: number): Scenario =>
  datoramaAction({
    name: 'datorama-rerun-jobs',
    streams: Math.ceil(jobs / 2),
    maxJobs: 3,
    route: 'rerun',
    workflowType: 'datoramaRerun',
    input: (_ids, sb) => ({ jobs: sb.jobs!.slice(0, jobs) }),
  });

/** `datorama-rename`: streams renamed (PATCH of the name), previous names recorded for --undo. */
export const datoramaRename = (streams: number): Scenario =>
  datoramaAction({
    name: 'datorama-rename',
    streams,
    maxJobs: 0,
    route: 'patch',
    workflowType: 'datoramaRename',
    input: (_ids, sb) => ({ renames: sb.streams!.map((id) => `${id}=chaos renamed ${id}`) }),
  });

/** `datorama-patch`: settings other than the name patched on every stream, previous values recorded. */
export const datoramaPatch = (streams: number): Scenario =>
  datoramaAction({
    name: 'datorama-patch',
    streams,
    maxJobs: 0,
    route: 'patch',
    workflowType: 'datoramaPatch',
    input: (_ids, sb) => ({ streams: sb.streams, fields: { timezone: 'Europe/Paris', description: 'chaos patched' } }),
  });

/** `datorama-collect`: workspaces → streams → jobs metadata into tables (merged on ids); reads only. */
export function datoramaCollect(streams: number): Scenario {
  return {
    name: 'datorama-collect',
    sandbox: datoramaSandbox(streams, 3),
    truth: [datoramaTruth],
    aim: [],
    workflowType: 'datoramaCollect',
    input: () => ({ pageSize: 2 }),
    // A COLLECTED event is one call (keyed by its permit's time): a page read again after a kill is a second
    // one. Left out of the comparison; the truth check holds the log to the calls the platform answered.
    ignoreRow: (r) => r.status === 'UNCERTAIN' || r.status === 'COLLECTED',
    faults: [...common(['workspaces', 'streams', 'stats'], 0.08)],
  };
}

/**
 * `selftest`: one row and one object, after a durable sleep (no API; 30 s: room for 2 random kills of the
 * production run's two workers; 600 s at full size: room for 8 random kills of one worker at ~1 min a restart on
 * a loaded machine — the first full run ended after 5 with 30 s). Its kill run kills at random during the sleep
 * first, then aims at the moments between the writes (aimed first, the full run's aimed wait of 200 s ran out in
 * the 300 s sleep and the random kills had nothing left to hit).
 */
export const selftest = (full: boolean): Scenario => ({
  name: 'selftest',
  sandbox: async () => ({ servers: [], env: {}, stop: async () => undefined }),
  truth: [selftestTruth],
  aim: ['selftest.after-object', 'selftest.after-row'],
  killsFirst: true,
  workflowType: 'selftest',
  // How long the timer really took (in the row and the object): wall time.
  volatileColumns: ['slept_ms', 'sleptMs'],
  input: () => ({ sleep: full ? '600s' : '30s', label: 'chaos' }),
  faults: [],
});

/**
 * Several pipelines on one worker process, sharing what production shares: two Dailymotion runs with
 * different configurations (products CONTENT and EMBED, same columns) into one table and one account's
 * report semaphore, and a Datorama process run and rerun-all run on one token's limiter. Checked against
 * the truth only (there is no fault-free twin): each configuration's rows per day in the table, each
 * Datorama action applied once.
 */
export function shared(full: boolean, streams: number): Scenario {
  return {
    name: 'shared',
    async sandbox(seed) {
      const dm = await dailymotionSandbox(seed, full);
      const dt = await datoramaSandbox(streams, 3, 'process-bulk')(seed);
      return {
        servers: [...dm.servers, ...dt.servers],
        streams: dt.streams,
        env: { ...dm.env, ...dt.env },
        stop: async () => void (await Promise.all([dm.stop(), dt.stop()])),
      };
    },
    workflowType: 'dailymotionReport',
    input: () => dmInput(full, 'CONTENT', 'dm_shared'),
    starts: (_ids, sb) => [
      { workflowType: 'dailymotionReport', suffix: '-dm-content', input: dmInput(full, 'CONTENT', 'dm_shared') },
      { workflowType: 'dailymotionReport', suffix: '-dm-embed', input: dmInput(full, 'EMBED', 'dm_shared') },
      {
        workflowType: 'datoramaProcess',
        suffix: '-process',
        input: { streams: sb.streams, start: '2025-03-01', end: '2025-03-30', batchSize: 8 },
      },
      { workflowType: 'datoramaRerunAll', suffix: '-rerun-all', input: { streams: sb.streams } },
    ],
    truth: [dailymotionTruth('dm_shared'), datoramaTruth],
    aim: [],
    faults: [],
  };
}

/**
 * `youtube-watch`: a watcher ticking every second over a sandbox feed that publishes a video a second
 * (origin 10 minutes before the run), until 25 ticks. Its results depend on when it runs, so it has no
 * reference twin: its videos store (SQLite in the run's data folder; PostgreSQL in the production profile) is
 * checked against the videos the sandbox's search.list served.
 */
export function youtubeWatch(): Scenario {
  return {
    name: 'youtube-watch',
    async sandbox(seed) {
      const s = new YoutubeSandbox({
        seed: seed ^ DATA_SEED,
        projects: YT_PROJECTS,
        latencyMs: 10,
        searchCallsPerDay: 10_000,
        searchOriginMs: Date.now() - 10 * 60_000,
        searchIntervalMs: 1000,
      });
      const url = await s.start(0);
      return {
        servers: [s],
        env: {
          YOUTUBE_BASE_URL: `${url}/youtube/v3`,
          YOUTUBE_API_KEYS: youtubeKeyPairs(YT_PROJECTS),
        },
        stop: () => s.stop(),
      };
    },
    videosStore: true,
    workflowType: 'youtubeWatch',
    input: ({ unique }) => ({
      query: 'chaos watch',
      intervalSeconds: 1,
      overlapSeconds: 5,
      pool: unique,
      unitsPerDay: 1000,
      stopAfterTicks: 25,
    }),
    truth: [
      // The store the worker wrote: SQLite in the run's data folder, or PostgreSQL (production profile).
      youtubeWatchTruth(async ({ env }) => {
        const store = createVideosStore(parseConfig(env));
        try {
          await store.init();
          return (await store.list({ pageSize: 100_000 })).items.map((v) => v.videoId);
        } finally {
          await store.close();
        }
      }),
    ],
    aim: [],
    faults: [...common(['search.list'], 0.05)],
    entities: ({ unique }) => [`quota-ledger-${unique}`],
  };
}

/**
 * Acme Ads, the sixth API on the kit's async-report source: `days` days in 5-day windows, reports generating
 * for a few seconds (kills and restarts land while they generate), 2 at a time, the calls under the account's
 * rate window. Each run has its own token: its own permit entities, ended after the run.
 */
export function acmeReport(days: number, opts: AcmeSandboxOptions = {}): Scenario {
  const to = new Date(Date.UTC(2026, 0, days)).toISOString().slice(0, 10);
  return {
    name: 'acme-report',
    async sandbox(seed) {
      const token = `chaos-acme-${randomUUID()}`;
      const s = new AcmeSandbox({
        seed: seed ^ DATA_SEED,
        tokens: [token],
        generationMs: 4_000,
        rowsPerFile: 60,
        ...opts,
      });
      const url = await s.start(0);
      return { servers: [s], env: { ...acmeSandbox.env(url), ACME_TOKEN: token }, stop: () => s.stop() };
    },
    truth: [acmeTruth],
    aim: ['async-report.create.after-call', 'async-report.load.after-landing', 'async-report.load.after-commit'],
    workflowType: 'acmeReport',
    input: () => ({ from: '2026-01-01', to, windowDays: 5, attribution: '7d', pollEvery: '1s', windowsPerRun: 4 }),
    faults: [
      ...common(['create', 'status', 'file'], 0.08),
      { route: 'status', kind: 'malformed', rate: 0.04 },
      { route: 'file', kind: 'truncated', times: 1 },
      { route: 'create', kind: 'truncated', times: 1 }, // applied, answer cut: the retry must get the same report
    ],
    entities: (_ids, env) => {
      const account = fingerprint(env.ACME_TOKEN);
      return [`permits-acme-reports-${account}`, `permits-acme-calls-${account}`];
    },
  };
}
