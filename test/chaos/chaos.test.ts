/**
 * The chaos suite (issues #8, #13): for every pipeline, a reference run without faults, then runs whose
 * worker process is killed at named dangerous points and SIGKILLed at seeded random points, paused
 * (SIGSTOP) past its activities' timeouts and resumed, whose dev server is stopped and restarted (SIGTERM,
 * then SIGKILL) on a persistent database, and whose sandbox injects faults at seeded rates; and one run of
 * several pipelines sharing a worker, a table, a semaphore and a limiter. Each run's warehouse tables
 * (every row) and bucket objects (keys + sha256) must equal the reference: nothing missing, nothing extra,
 * nothing twice — or, for faults, the run fails with a clear, specific error. Every run, the reference
 * included, is also checked against the sandbox's truth (test/chaos/truth.ts): what the API served and
 * applied. Figures go to test-results/chaos-report.json. `npm test` runs the bounded size; `npm run
 * test:chaos` the full one (LONGHAUL_CHAOS=full); LONGHAUL_CHAOS_SEED overrides the seed. See docs/chaos.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startDevServer, type RunningServer } from '../../src/dev/servers';
import {
  ChaosReport,
  chaosSettings,
  compare,
  HISTORIES_DIR,
  seeded,
  sleep,
  type ChaosEntry,
  type Snapshot,
} from '../helpers/chaos';
import { devServerEnv, tmpDir } from '../helpers/temporal';
import { runScenario, type RunOutcome } from './run';
import { productionToolsMissing, startMinio, type Minio } from '../helpers/production';
import {
  dailymotionReport,
  datoramaCollect,
  datoramaPatch,
  datoramaProcess,
  datoramaRename,
  datoramaRerun,
  datoramaRerunJobs,
  acmeReport,
  selftest,
  shared,
  titelive,
  youtubeEnrich,
  youtubeWatch,
  type Scenario,
} from './scenarios';
import { splitKnown, type KnownIssue } from './truth';

const settings = chaosSettings();
const { full, seed } = settings;
/** `LONGHAUL_CHAOS_ONLY=youtube-enrich,shared` runs only those scenarios (to debug one; not for the figures). */
const ONLY = (process.env.LONGHAUL_CHAOS_ONLY ?? '').split(',').filter(Boolean);
const picked = (name: string) => ONLY.length === 0 || ONLY.includes(name);
const SCENARIOS: Scenario[] = [
  dailymotionReport(full),
  youtubeEnrich(full ? 5000 : 2000),
  titelive(full ? 1000 : 150), // full: 400 books ended in 52 s, before the kill run got its 10 kills
  datoramaProcess(full ? 40 : 16),
  datoramaRerun(full ? 30 : 12),
].filter((s) => picked(s.name));
/** The other pipelines: a reference run, a kill run and the production-profile runs (no fault, pause, restart). */
// Full size: enough work for 10 kills. A kill hits a worker 1–4 s after it is ready, and a restart took up to
// 3.5 min under the full suite's load, so a run gets about one kill per 2.5 s of its own work: the fifth full
// run's rerun-jobs (24 jobs) and rename (20 streams) ended after 3 and 4.
const EXTRA: Scenario[] = [
  datoramaRerunJobs(full ? 72 : 10),
  datoramaRename(full ? 60 : 8),
  datoramaPatch(full ? 60 : 8),
  datoramaCollect(full ? 16 : 6),
  selftest(full),
  acmeReport(full ? 60 : 20),
].filter((s) => picked(s.name));
/** The kill runs of the EXTRA pipelines (`LONGHAUL_CHAOS_EXTRA_KILLS=0` leaves them out, to debug). */
const EXTRA_KILLS = process.env.LONGHAUL_CHAOS_EXTRA_KILLS !== '0';
/**
 * The production profile (docs/production.md): every pipeline on BigQuery (emulator) + S3 (MinIO) with
 * encryption and two worker processes — once without faults and once with worker kills — compared with its
 * embedded reference run (DuckDB + local folder) and checked against the truth. Part of `npm test`
 * (`LONGHAUL_CHAOS_PRODUCTION=0` leaves it out, to debug); skipped, loudly, without the tools
 * (scripts/setup.sh --all, which `npm test` runs, builds them).
 */
const PRODUCTION = productionToolsMissing.length === 0 && process.env.LONGHAUL_CHAOS_PRODUCTION !== '0';
if (process.env.LONGHAUL_CHAOS_PRODUCTION !== '0' && productionToolsMissing.length)
  console.warn(
    `[chaos] production profile skipped: ${productionToolsMissing.join(', ')} missing (scripts/setup.sh --all)`,
  );
/** Production-profile runs at once (each with its own emulator and two workers, on 2 cores). */
const PRODUCTION_AT_ONCE = 3;
/**
 * The pipelines of the production profile. Full: the suite's own sizes; bounded: smaller inputs (the emulator
 * answers one request at a time, a second or more each), each with an embedded reference run of its own.
 */
const PRODUCTION_SCENARIOS: Scenario[] = (
  full
    ? [...SCENARIOS, ...EXTRA]
    : [
        dailymotionReport(false),
        youtubeEnrich(500),
        titelive(40),
        datoramaProcess(4),
        datoramaRerun(4),
        datoramaRerunJobs(10),
        datoramaRename(3),
        datoramaPatch(3),
        datoramaCollect(3),
        selftest(false),
        acmeReport(10),
      ].filter((s) => picked(s.name))
).filter(() => PRODUCTION);
const SHARED = picked('shared') ? shared(full, full ? 16 : 8) : undefined;
const WATCH = picked('youtube-watch') ? youtubeWatch() : undefined;
const MINUTE = 60_000;
const report = new ChaosReport(settings);
/** Runs whose workflow histories stay in test-results/chaos-histories (those not exact); the rest are removed. */
const keepHistories = new Set<string>();

/**
 * Truth problems this suite found whose fix is under way on another branch: allowed by name while they
 * match, reported as known (`knownIssue(name, scenario, pattern)`); any other problem fails. Remove an entry
 * once its fix is merged.
 */
// Empty: the one entry this suite needed (a second Dailymotion configuration in one table replacing the
// first one's rows, found by the shared run) was removed once the Dailymotion load fix (report_config) merged.
const KNOWN_ISSUES: KnownIssue[] = [];

/** Bounded: paused workers on these; full: on all. Paused past the Datorama call's 30 s timeout. */
const PAUSED_NAMES = ['datorama-process', 'dailymotion-report'];
const PAUSE_MS = 40_000;

function entry(
  pipeline: string,
  mode: ChaosEntry['mode'],
  run: RunOutcome,
  ref: Snapshot | undefined,
  clear?: RegExp,
): ChaosEntry & { samples: string[]; unknownTruth: string[] } {
  const c = ref ? compare(ref, run.snapshot) : undefined;
  const truth = splitKnown(pipeline, run.truth.problems, KNOWN_ISSUES);
  // A run that failed clearly is not held to the truth of rows (it did not finish), only to the actions.
  const unknownTruth = run.error !== undefined ? truth.unknown.filter((p) => /^datorama/.test(p)) : truth.unknown;
  const outcome: ChaosEntry['outcome'] =
    run.error !== undefined
      ? clear?.test(run.error) && unknownTruth.length === 0
        ? 'failed-clearly'
        : 'different'
      : (c && c.differences > 0) || unknownTruth.length > 0 || run.aimProblems.length > 0
        ? 'different'
        : 'exact';
  const e = {
    pipeline,
    mode,
    outcome,
    seed,
    durationMs: run.durationMs,
    killsSurvived: run.kills,
    serverRestarts: run.serverRestarts,
    workerCrashes: run.workerCrashes,
    faultsInjected: run.faultsInjected,
    activityRetries: run.attempts.retries,
    maxAttempt: run.attempts.maxAttempt,
    rowsCompared: c?.rowsCompared ?? 0,
    objectsCompared: c?.objectsCompared ?? 0,
    differences: run.error === undefined ? (c?.differences ?? 0) : 0,
    truthCompared: run.truth.compared,
    truthProblems: unknownTruth,
    knownIssues: truth.known,
    pointsAimed: run.aimed,
    pointsFired: run.pointsFired,
    pauses: run.pauses,
    ...(run.emulatorRestarts !== undefined ? { emulatorRestarts: run.emulatorRestarts } : {}),
    ...(run.error !== undefined ? { error: run.error } : {}),
    ...(c?.samples.length ? { samples: c.samples.slice(0, 12) } : {}),
  };
  report.add(e);
  if (outcome !== 'exact') keepHistories.add(run.historiesDir);
  return { ...e, samples: c?.samples ?? [], unknownTruth };
}

type Mode =
  | 'reference'
  | 'kills'
  | 'server-restart'
  | 'faults'
  | 'pause'
  | 'production-reference'
  | 'production'
  | 'production-kills';
/** Bounded: the dev-server restarts on one pipeline; full: on all of them. */
const RESTARTED = full ? SCENARIOS : SCENARIOS.filter((s) => s.name === 'dailymotion-report');
const MAX_RESTARTS = full ? 6 : 2;
const PAUSED = full ? SCENARIOS : SCENARIOS.filter((s) => PAUSED_NAMES.includes(s.name));

describe(`chaos suite (${full ? 'full' : 'bounded'}, seed ${seed})`, () => {
  let env: TestWorkflowEnvironment;
  const t0 = Date.now();
  // Every run of every mode starts at once (they share nothing: own sandbox, data folder, task queue,
  // worker process), so the suite takes as long as its slowest run; the tests below await their runs.
  const runs = new Map<string, Promise<RunOutcome>>();
  let sharedRun: Promise<RunOutcome> | undefined;
  let watchRun: Promise<RunOutcome> | undefined;
  const key = (s: Scenario, m: Mode) => `${s.name}/${m}`;
  let server: RunningServer | undefined;
  const restarts: string[] = [];
  let restarter: Promise<void> | undefined;
  let minio: Minio | undefined;
  let productionWatchRun: Promise<RunOutcome> | undefined;
  // A queue for the production-profile runs (PRODUCTION_AT_ONCE at a time).
  let productionSlots = PRODUCTION_AT_ONCE;
  const productionQueue: (() => void)[] = [];
  async function inProductionSlot<T>(f: () => Promise<T>): Promise<T> {
    if (productionSlots === 0) await new Promise<void>((r) => productionQueue.push(r));
    else productionSlots--;
    try {
      return await f();
    } finally {
      const next = productionQueue.shift();
      if (next) next();
      else productionSlots++;
    }
  }

  beforeAll(async () => {
    console.log(`[chaos] ${full ? 'full' : 'bounded'} size, seed ${seed} (LONGHAUL_CHAOS_SEED=${seed} to replay)`);
    env = await devServerEnv();
    // A dev server of its own, on a database file, for the restart runs.
    const port = await freePort();
    const dbFile = path.join(tmpDir('longhaul-chaos-db-'), 'temporal.db');
    const logFile = path.join('test-results', 'chaos-dev-server.log');
    fs.mkdirSync('test-results', { recursive: true });
    server = await startDevServer({ port, dbFile, headless: true, logFile });
    const connection = await Connection.connect({ address: server.address });
    const restartable = new Client({ connection });
    const shared = { client: () => env.client, address: env.address, seed };
    for (const s of SCENARIOS) {
      runs.set(key(s, 'reference'), runScenario(s, shared));
      runs.set(
        key(s, 'kills'),
        // An aimed point not fired within this long: random kills go on (the run still fails for it). Longer
        // than the 2-minute start-to-close timeout of the activities a kill leaves in flight: the next aimed
        // point often lies behind their retries (Dailymotion's loads wait on the asks and polls of both slots).
        runScenario(s, { ...shared, kills: settings.kills, aim: true, aimWaitMs: full ? 200_000 : 150_000 }),
      );
      runs.set(key(s, 'faults'), runScenario(s, { ...shared, faults: true }));
    }
    for (const s of EXTRA) {
      runs.set(key(s, 'reference'), runScenario(s, shared));
      if (EXTRA_KILLS)
        runs.set(
          key(s, 'kills'),
          runScenario(s, {
            ...shared,
            kills: settings.kills,
            aim: s.aim.length > 0,
            aimWaitMs: full ? 200_000 : 150_000, // past a killed activity's 1-minute timeout on a loaded machine
          }),
        );
    }
    for (const s of PAUSED) runs.set(key(s, 'pause'), runScenario(s, { ...shared, pauseMs: PAUSE_MS }));
    if (PRODUCTION) {
      minio = await startMinio('minio-chaos');
      const production = { ...shared, production: { minio } };
      for (const s of PRODUCTION_SCENARIOS) {
        // The embedded twin of the same input (full size: the reference run above is that twin).
        runs.set(key(s, 'production-reference'), full ? runs.get(key(s, 'reference'))! : runScenario(s, shared));
        runs.set(
          key(s, 'production'),
          inProductionSlot(() => runScenario(s, production)),
        );
        runs.set(
          key(s, 'production-kills'),
          inProductionSlot(() => runScenario(s, { ...production, kills: settings.kills })),
        );
      }
      if (WATCH) {
        productionWatchRun = inProductionSlot(() => runScenario(WATCH, { ...production, kills: settings.kills }));
        productionWatchRun.catch(() => undefined);
      }
    }
    if (WATCH) {
      watchRun = runScenario(WATCH, { ...shared, kills: settings.kills, faults: true });
      watchRun.catch(() => undefined);
    }
    if (SHARED) {
      sharedRun = runScenario(SHARED, { ...shared, kills: settings.kills });
      sharedRun.catch(() => undefined);
    }
    for (const s of RESTARTED)
      runs.set(
        key(s, 'server-restart'),
        runScenario(s, {
          client: () => restartable,
          address: server.address,
          seed,
          serverRestarts: () => restarts.length,
        }),
      );
    for (const p of runs.values()) p.catch(() => undefined); // awaited by the tests
    const restartRuns = RESTARTED.map((s) => runs.get(key(s, 'server-restart'))!);
    let active = true;
    void Promise.allSettled(restartRuns).then(() => (active = false));
    // Stops the server at seeded points while those runs are going — SIGTERM, then SIGKILL, alternately —
    // and starts it again on the same port and database file.
    restarter = (async () => {
      const random = seeded(seed, 'server-restarts');
      while (active && restarts.length < MAX_RESTARTS) {
        await sleep(4000 + random() * 8000);
        if (!active) break;
        const signal = restarts.length % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
        if (signal === 'SIGTERM') await server!.stop();
        else await server!.kill!();
        await sleep(1000);
        server = await startDevServer({ port, dbFile, headless: true, logFile });
        restarts.push(signal);
      }
    })();
  }, 5 * MINUTE);

  afterAll(async () => {
    await Promise.allSettled([...runs.values(), sharedRun, watchRun, productionWatchRun]);
    await restarter;
    await minio?.stop();
    report.write(t0);
    // The histories of runs that came out exact are not needed (nor those of earlier suites).
    for (const d of fs.existsSync(HISTORIES_DIR) ? fs.readdirSync(HISTORIES_DIR) : [])
      if (!keepHistories.has(path.join(HISTORIES_DIR, d)))
        fs.rmSync(path.join(HISTORIES_DIR, d), { recursive: true, force: true });
    await server?.stop();
    await env?.teardown();
  });

  async function settled(s: Scenario, m: Mode): Promise<{ run: RunOutcome; ref: Snapshot }> {
    const ref = await runs.get(key(s, m.startsWith('production') ? 'production-reference' : 'reference'))!;
    expect.soft(ref.error, `${s.name} reference run failed`).toBeUndefined();
    return { run: await runs.get(key(s, m))!, ref: ref.snapshot };
  }

  // expect.soft: every pipeline is checked and reported even when an earlier one differs.
  it('reference runs without faults land rows and objects', { timeout: 20 * MINUTE }, async () => {
    for (const s of [...SCENARIOS, ...EXTRA]) {
      const run = await runs.get(key(s, 'reference'))!;
      const e = entry(s.name, 'reference', run, run.snapshot);
      expect.soft(run.error, `${s.name} reference run failed`).toBeUndefined();
      expect.soft(e.rowsCompared + e.objectsCompared, `${s.name} wrote nothing`).toBeGreaterThan(0);
      expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
      expect.soft(e.truthCompared, `${s.name}: nothing compared with the truth`).toBeGreaterThan(0);
    }
  });

  it(
    `worker killed ${settings.kills}× per pipeline (at least once at each aimed chaos point, then at random): identical rows and objects, true to the sandbox`,
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      for (const s of [...SCENARIOS, ...(EXTRA_KILLS ? EXTRA : [])]) {
        const { run, ref } = await settled(s, 'kills');
        const e = entry(s.name, 'kills', run, ref);
        expect.soft(run.error, s.name).toBeUndefined();
        expect.soft(e.samples, `${s.name}: differences from the reference`).toEqual([]);
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.aimProblems, `${s.name}: aimed chaos points`).toEqual([]);
        expect.soft(run.kills, `${s.name} finished before ${run.killsPlanned} kills`).toBe(run.killsPlanned);
        expect.soft(run.attempts.withinPolicy, `${s.name}: an activity went past its retry policy`).toBe(true);
      }
    },
  );

  it.skipIf(RESTARTED.length === 0)(
    `dev server stopped and restarted mid-run (SIGTERM, SIGKILL) on its database file: same result (${RESTARTED.map((s) => s.name).join(', ')})`,
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      for (const s of RESTARTED) {
        const { run, ref } = await settled(s, 'server-restart');
        const e = entry(s.name, 'server-restart', run, ref);
        expect.soft(run.error, s.name).toBeUndefined();
        expect.soft(e.samples, `${s.name}: differences from the reference`).toEqual([]);
        expect.soft(e.differences).toBe(0);
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.serverRestarts, `${s.name}: no restart happened during the run`).toBeGreaterThanOrEqual(1);
      }
      await restarter;
      expect.soft(restarts.slice(0, 2)).toEqual(['SIGTERM', 'SIGKILL']);
    },
  );

  it(
    'sandbox faults at seeded rates: exact results or a clear error; retries bounded and counted',
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      for (const s of SCENARIOS) {
        const { run, ref } = await settled(s, 'faults');
        const e = entry(s.name, 'faults', run, ref, s.clearFailure);
        expect
          .soft(
            Object.values(run.faultsInjected).reduce((a, b) => a + b, 0),
            `${s.name}: no fault injected`,
          )
          .toBeGreaterThan(0);
        if (run.error !== undefined)
          expect.soft(run.error, `${s.name} failed without a clear error`).toMatch(s.clearFailure ?? /^$/);
        else {
          expect.soft(e.samples, `${s.name}: differences from the reference`).toEqual([]);
          expect.soft(e.differences).toBe(0);
        }
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.attempts.retries, `${s.name}: faults but no retry in the histories`).toBeGreaterThan(0);
        expect.soft(run.attempts.withinPolicy, `${s.name}: an activity went past its retry policy`).toBe(true);
      }
    },
  );

  it(
    `worker paused (SIGSTOP) ${PAUSE_MS / 1000} s, past its activities' timeouts, while another takes over, then resumed: nothing twice (${PAUSED.map((s) => s.name).join(', ')})`,
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      for (const s of PAUSED) {
        const { run, ref } = await settled(s, 'pause');
        const e = entry(s.name, 'pause', run, ref);
        expect.soft(run.error, s.name).toBeUndefined();
        expect.soft(e.samples, `${s.name}: differences from the reference`).toEqual([]);
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.pauses, `${s.name} finished before the pause`).toBe(1);
        expect.soft(run.attempts.withinPolicy, `${s.name}: an activity went past its retry policy`).toBe(true);
      }
    },
  );

  it.skipIf(!SHARED)(
    `several pipelines on one worker (2 Dailymotion configurations into one table and one semaphore, Datorama process + rerun-all on one limiter), killed ${settings.kills}×: true to the sandbox`,
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      const SHARED_ = SHARED!;
      const run = await sharedRun!;
      const e = entry(SHARED_.name, 'shared', run, undefined);
      expect.soft(run.error, SHARED_.name).toBeUndefined();
      expect.soft(e.unknownTruth, `${SHARED_.name}: differences from the sandbox's truth`).toEqual([]);
      expect.soft(e.truthCompared, `${SHARED_.name}: nothing compared with the truth`).toBeGreaterThan(0);
      expect.soft(run.kills, `${SHARED_.name} finished before ${run.killsPlanned} kills`).toBe(run.killsPlanned);
      expect.soft(run.attempts.withinPolicy, `${SHARED_.name}: an activity went past its retry policy`).toBe(true);
    },
  );

  it.skipIf(!WATCH)(
    `youtube-watch, killed ${settings.kills}× with search faults: its videos store holds exactly the videos search.list served`,
    { timeout: (full ? 60 : 20) * MINUTE },
    async () => {
      const run = await watchRun!;
      const e = entry(WATCH!.name, 'kills', run, undefined);
      expect.soft(run.error, WATCH!.name).toBeUndefined();
      expect.soft(e.unknownTruth, `${WATCH!.name}: differences from the sandbox's truth`).toEqual([]);
      expect.soft(e.truthCompared, `${WATCH!.name}: nothing compared with the truth`).toBeGreaterThan(0);
      expect.soft(run.kills, `${WATCH!.name} finished before ${run.killsPlanned} kills`).toBe(run.killsPlanned);
      expect.soft(run.attempts.withinPolicy, `${WATCH!.name}: an activity went past its retry policy`).toBe(true);
    },
  );
  it.skipIf(!PRODUCTION)(
    'production profile (BigQuery + S3 + encryption, two workers): every pipeline lands the rows and objects of its embedded run, true to the sandbox',
    { timeout: (full ? 60 : 30) * MINUTE },
    async () => {
      for (const s of PRODUCTION_SCENARIOS) {
        const { run, ref } = await settled(s, 'production');
        const e = entry(s.name, 'production', run, ref);
        expect.soft(run.error, `${s.name} (production)`).toBeUndefined();
        expect.soft(e.samples, `${s.name}: production differs from the embedded reference`).toEqual([]);
        expect.soft(e.rowsCompared + e.objectsCompared, `${s.name} wrote nothing`).toBeGreaterThan(0);
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.attempts.withinPolicy, `${s.name}: an activity went past its retry policy`).toBe(true);
      }
    },
  );

  it.skipIf(!PRODUCTION)(
    `production profile, worker killed ${settings.kills}× per pipeline (the two workers in turn): identical rows and objects, true to the sandbox`,
    { timeout: (full ? 60 : 30) * MINUTE },
    async () => {
      for (const s of PRODUCTION_SCENARIOS) {
        const { run, ref } = await settled(s, 'production-kills');
        const e = entry(s.name, 'production-kills', run, ref);
        expect.soft(run.error, `${s.name} (production, kills)`).toBeUndefined();
        expect.soft(e.samples, `${s.name}: production with kills differs from the embedded reference`).toEqual([]);
        expect.soft(e.unknownTruth, `${s.name}: differences from the sandbox's truth`).toEqual([]);
        expect.soft(run.kills, `${s.name} finished before ${run.killsPlanned} kills`).toBe(run.killsPlanned);
        expect.soft(run.attempts.withinPolicy, `${s.name}: an activity went past its retry policy`).toBe(true);
      }
      if (WATCH) {
        const run = await productionWatchRun!;
        const e = entry(WATCH.name, 'production-kills', run, undefined);
        expect.soft(run.error, `${WATCH.name} (production, kills)`).toBeUndefined();
        expect
          .soft(e.unknownTruth, `${WATCH.name}: differences from the sandbox's truth (PostgreSQL store)`)
          .toEqual([]);
        expect.soft(e.truthCompared, `${WATCH.name}: nothing compared with the truth`).toBeGreaterThan(0);
        expect.soft(run.kills, `${WATCH.name} finished before ${run.killsPlanned} kills`).toBe(run.killsPlanned);
      }
    },
  );
});
