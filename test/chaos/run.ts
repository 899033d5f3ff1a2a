/**
 * One chaos run of one pipeline: a fresh sandbox and data folder, a worker process (the production worker
 * code), the workflow(s) started on its own task queue, then — while it runs — worker kills at the
 * scenario's named chaos points (one point per worker process, first processes first), worker SIGKILLs at
 * seeded random points, a worker paused (SIGSTOP) past its activities' timeouts and resumed (the dev
 * server may be restarted meanwhile, see chaos.test.ts), sandbox faults if asked; at the end a snapshot of
 * the warehouse and the bucket, the checks against the sandbox's truth, the points that fired, the faults
 * the sandbox injected and the activity attempts read from the event histories.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { dataConverterFromEnv } from '../../src/codec/aes-codec';
import { parseConfig } from '../../src/config';
import { createBucket, createWarehouse } from '../../src/sinks';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { limiterWorkflowId } from '../../src/pipelines/datorama/shared';
import { fingerprint } from '../../src/node/fingerprint';
import type { TruthRecord } from '../../src/sandbox/server';
import { uniqueQueue, tmpDir } from '../helpers/temporal';
import {
  activityAttempts,
  seeded,
  sleep,
  snapshot,
  snapshotOf,
  WorkerProcess,
  VOLATILE_COLUMNS,
  type AttemptCounts,
  type Snapshot,
  HISTORIES_DIR,
} from '../helpers/chaos';
import { encryptionEnv, SupervisedEmulator, type Minio } from '../helpers/production';
import { startPostgres } from '../helpers/postgres';
import type { RunIds, Scenario, ScenarioStart } from './scenarios';
import { checkTruth, readTruth, type TruthCheck } from './truth';

export interface RunOptions {
  /** A client on the server the run uses, and that server's address for the worker. */
  client: () => Client;
  address: string;
  seed: number;
  /**
   * Worker SIGKILLs during the run (each followed by a new worker process): first at the scenario's aimed
   * points, if `aim`, then at seeded random points for the rest.
   */
  kills?: number;
  /** Kill at the scenario's named chaos points (one per worker process, in order). */
  aim?: boolean;
  /** How long to wait for one aimed point to fire before going on with random kills (ms). */
  aimWaitMs?: number;
  /** Pause (SIGSTOP) the worker this long, once, at a seeded point, with another worker taking over. */
  pauseMs?: number;
  /** Kill delay after the worker is ready, drawn (seeded) from this range (ms). */
  killDelayMs?: [number, number];
  faults?: boolean;
  /** Dev-server restarts so far (the run counts those that happen while it runs). */
  serverRestarts?: () => number;
  /** Gives up waiting for the result after this long. */
  timeoutMs?: number;
  /**
   * The production profile (docs/production.md): BigQuery (an emulator of the run's own), S3 (a bucket of
   * the run's own on this MinIO), the videos store on PostgreSQL, payload encryption on (strict), and TWO
   * worker processes on the task queue; random kills alternate between them. Without it: the embedded
   * profile (DuckDB + a local folder in the run's data folder, SQLite videos store), one worker process.
   */
  production?: { minio: Minio };
}

export interface RunOutcome {
  ids: RunIds;
  durationMs: number;
  result?: unknown;
  error?: string;
  snapshot: Snapshot;
  kills: number;
  workerCrashes: number;
  serverRestarts: number;
  faultsInjected: Record<string, number>;
  attempts: AttemptCounts;
  /** Checks against the sandbox's truth. */
  truth: TruthCheck;
  /** Named points aimed at, and those that fired (from the points log). */
  aimed: string[];
  pointsFired: string[];
  /** Aimed points that never fired (the run fails on these). */
  aimProblems: string[];
  /** Kills the run was to get: the kills asked for, or more if it aims at more points than that. */
  killsPlanned: number;
  /** Where the run's workflow histories were saved (removed at the end of the suite if the run was exact). */
  historiesDir: string;
  pauses: number;
  /** Production profile: how often the supervisor restarted the run's BigQuery emulator (its memory). */
  emulatorRestarts?: number;
}

const PROGRESS_LOG = path.resolve(__dirname, '../../test-results/chaos-progress.log');

/** One line of a run's progress to test-results/chaos-progress.log (to see where a long run is). */
function progress(run: string, msg: string): void {
  fs.mkdirSync(path.dirname(PROGRESS_LOG), { recursive: true });
  fs.appendFileSync(PROGRESS_LOG, `${new Date().toISOString()} ${run}: ${msg}\n`);
}

/**
 * Named chaos points the source calls (`chaosPoint('<name>')` under src/): an aimed point the code does not
 * call cannot fire, so the run reports it at once and keeps its kills for random points.
 */
function pointsInCode(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (f.endsWith('.ts'))
        for (const m of fs.readFileSync(f, 'utf8').matchAll(/chaosPoint\('([^']+)'\)/g)) out.add(m[1]);
    }
  };
  walk(path.resolve(__dirname, '../../src'));
  return out;
}

/** Waits for the result through server restarts: connection errors are retried, a workflow failure is not. */
async function outcome(client: () => Client, workflowId: string, deadline: number): Promise<unknown> {
  for (;;) {
    try {
      return await client().workflow.getHandle(workflowId).result();
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw err;
      if (Date.now() > deadline) throw err;
      await sleep(1000);
    }
  }
}

/** The innermost message of a workflow failure (the activity's or workflow's own error). */
export function failureMessage(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    parts.push(`${e.name}: ${e.message}`);
    e = (e as Error & { cause?: unknown }).cause;
  }
  return parts.join(' ← ');
}

export async function runScenario(s: Scenario, o: RunOptions): Promise<RunOutcome> {
  const t0 = Date.now();
  const dir = tmpDir(`longhaul-chaos-${s.name}-`);
  const ids: RunIds = {
    taskQueue: uniqueQueue(`chaos-${s.name}`),
    workflowId: uniqueQueue(`chaos-${s.name}`),
    unique: uniqueQueue('chaos'),
    bucketUri: (key) => `s3://longhaul/${key}`,
  };
  const prod = o.production;
  const emulator = prod ? await new SupervisedEmulator({ name: `bigquery-${ids.unique}` }).start() : undefined;
  const postgres = prod && s.videosStore ? await startPostgres() : undefined;
  let client = o.client;
  let connection: Connection | undefined;
  const profileEnv: Record<string, string> = {};
  if (prod) {
    Object.assign(
      profileEnv,
      emulator!.env('longhaul'),
      await prod.minio.bucketEnv(
        ids.unique
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .slice(0, 63),
      ),
      encryptionEnv(),
      postgres ? { VIDEOS_STORE: 'postgres', VIDEOS_DATABASE_URL: postgres.url } : {},
    );
    connection = await Connection.connect({ address: o.address });
    const encrypted = new Client({ connection, dataConverter: dataConverterFromEnv(profileEnv) });
    client = () => encrypted;
    ids.bucketUri = (key) => `s3://${profileEnv.S3_BUCKET}/${key}`;
  }
  const config = parseConfig({ ...profileEnv, LONGHAUL_DATA_DIR: dir });
  const sb = await s.sandbox(o.seed);
  if (o.faults) for (const server of sb.servers) for (const rule of s.faults) server.faults.add(rule);
  await s.prepare?.(prod ? createBucket(config) : new LocalBucket(path.join(dir, 'bucket')));
  const pointsLog = path.join(dir, 'chaos-points.log');
  const inCode = pointsInCode();
  const aimed = o.aim ? s.aim.filter((p) => inCode.has(p)) : [];
  const notInCode = o.aim ? s.aim.filter((p) => !inCode.has(p)) : [];
  const workerEnv = {
    ...sb.env,
    ...profileEnv,
    TEMPORAL_ADDRESS: o.address,
    LONGHAUL_DATA_DIR: dir,
    LONGHAUL_TASK_QUEUE: ids.taskQueue,
    DM_ACCOUNT: ids.unique,
  };
  // The first process carries the aimed points (after the random kills' processes, if those come first); a
  // second one (production) polls beside it.
  const killsFirst = s.killsFirst === true && aimed.length > 0;
  const randomKills = Math.max(0, (o.kills ?? 0) - aimed.length);
  const workers = [
    new WorkerProcess(ids.taskQueue, workerEnv, [
      ...(killsFirst ? Array.from({ length: randomKills }, () => ({})) : []),
      ...aimed.map((p) => ({ LONGHAUL_CHAOS_POINTS: `${p}=1`, LONGHAUL_CHAOS_POINTS_LOG: pointsLog })),
    ]),
    ...(prod ? [new WorkerProcess(ids.taskQueue, workerEnv)] : []),
  ];
  const worker = workers[0];
  const sum = (f: (w: WorkerProcess) => number) => workers.reduce((a, w) => a + f(w), 0);
  const fired = () =>
    fs.existsSync(pointsLog)
      ? fs
          .readFileSync(pointsLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' ')[2].replace(/#\d+$/, ''))
      : [];
  const starts: ScenarioStart[] = s.starts?.(ids, sb) ?? [{ workflowType: s.workflowType, input: s.input(ids, sb) }];
  const results: unknown[] = [];
  const errors: string[] = [];
  let truth: Record<string, TruthRecord[]> = {};
  const restartsBefore = o.serverRestarts?.() ?? 0;
  const mode = o.kills ? 'kills' : o.faults ? 'faults' : o.pauseMs ? 'pause' : o.serverRestarts ? 'server-restart' : '';
  const tag = `${s.name}/${prod ? `production${mode ? `-${mode}` : ''}` : mode || 'reference'} ${ids.taskQueue}`;
  progress(tag, 'starting');
  try {
    for (const w of workers) await w.start();
    for (const st of starts)
      await client().workflow.start(st.workflowType, {
        taskQueue: ids.taskQueue,
        workflowId: ids.workflowId + (st.suffix ?? ''),
        args: [st.input],
      });
    let running = true;
    const deadline = t0 + (o.timeoutMs ?? 50 * 60_000);
    const done = Promise.all(
      starts.map((st) =>
        outcome(client, ids.workflowId + (st.suffix ?? ''), deadline).then(
          (r) => {
            results.push(r);
            progress(tag, `${st.workflowType}${st.suffix ?? ''} completed`);
          },
          (e: unknown) => {
            errors.push(starts.length > 1 ? `${st.suffix}: ${failureMessage(e)}` : failureMessage(e));
            progress(tag, `${st.workflowType}${st.suffix ?? ''} failed: ${failureMessage(e).slice(0, 300)}`);
          },
        ),
      ),
    ).then(() => (running = false));
    // Aimed points: the i-th aimed process carries the i-th point; wait for it to fire (the process dies, the
    // supervisor starts the next one) before going on. Points at the very end of the run (killsFirst) are
    // waited for until the run ends: no random kills are left to go on with.
    const aim = async () => {
      for (let i = 0; i < aimed.length && running; i++) {
        // The wait counts from when the process carrying the point is up (a restart on a loaded machine took
        // 154 s in one CI run, longer than the whole wait).
        await Promise.race([worker.running(), done]);
        const until = killsFirst ? Infinity : Date.now() + (o.aimWaitMs ?? 120_000);
        while (running && worker.crashes <= i && Date.now() < until) await Promise.race([sleep(250), done]);
        progress(tag, `aimed ${aimed[i]}: ${worker.crashes > i ? 'fired' : 'not fired'}`);
        if (worker.crashes <= i) break; // never fired (or the run ended): random kills from here
      }
    };
    const random = seeded(o.seed, `kills:${s.name}`);
    // Two workers (the production profile) run a small scenario in a few seconds: datorama-rerun's 17 calls once
    // finished 7 s after its start, before the first kill of a 1–4 s draw (CI, 2026-12-05). Their kills come
    // sooner.
    const [lo, hi] = o.killDelayMs ?? (workers.length > 1 ? [500, 2000] : [1000, 4000]);
    // With two workers the next kill does not wait for the last killed one to be back: it hits the other one
    // (a kill of the same worker waits for its restart first), so a short run on a loaded machine still gets
    // its kills — both workers may be down at once.
    const restarts: Promise<void>[] = [];
    const killAtRandom = async (from: number, to: number) => {
      for (let k = from; k < to && running; k++) {
        await Promise.race([sleep(lo + random() * (hi - lo)), done]);
        if (!running) break;
        progress(tag, `kill ${k + 1}`);
        const restart = workers[k % workers.length].killAndRestart();
        if (workers.length > 1) restarts.push(restart);
        else await restart;
      }
    };
    if (killsFirst) {
      await killAtRandom(0, randomKills);
      await aim();
    } else {
      await aim();
      await killAtRandom(fired().length, o.kills ?? 0);
    }
    await Promise.all(restarts);
    if (o.pauseMs && running) {
      await Promise.race([sleep(2000 + seeded(o.seed, `pause:${s.name}`)() * 4000), done]);
      if (running) {
        progress(tag, `pause ${o.pauseMs} ms`);
        await worker.pauseAndReplace(o.pauseMs);
      }
    }
    await done;
    progress(tag, `done in ${Math.round((Date.now() - t0) / 1000)} s`);
  } finally {
    for (const w of workers) await w.stop();
    truth = await readTruth(sb.servers).catch((e: unknown) => {
      errors.push(`reading the sandbox's truth: ${String(e)}`);
      return {};
    });
    await sb.stop();
  }
  const serverRestarts = (o.serverRestarts?.() ?? 0) - restartsBefore;
  const faultsInjected: Record<string, number> = {};
  for (const server of sb.servers)
    for (const [kind, n] of Object.entries(server.faults.injected))
      faultsInjected[kind] = (faultsInjected[kind] ?? 0) + n;
  const entities = [
    ...(s.entities?.(ids, sb.env) ?? []),
    ...(sb.env.DATORAMA_TOKEN ? [limiterWorkflowId(fingerprint(sb.env.DATORAMA_TOKEN))] : []),
  ];
  for (const id of entities)
    await client()
      .workflow.getHandle(id)
      .terminate('chaos run over')
      .catch(() => undefined);
  const historiesDir = path.join(HISTORIES_DIR, ids.taskQueue);
  const attempts = await activityAttempts(client(), ids.taskQueue, historiesDir);
  const runTokens: [string, string][] = [
    // Where the run put its input (the embedded folder's or the run's own S3 bucket, named after `unique`:
    // replaced first), e.g. in a manifest.
    ['bucket', ids.bucketUri('')],
    ['workflowId', ids.workflowId],
    ['taskQueue', ids.taskQueue],
    ['unique', ids.unique],
    ...attempts.runIds.map((r): [string, string] => ['runId', r]),
  ];
  const snapOpts = {
    runTokens,
    volatileColumns: [...VOLATILE_COLUMNS, ...(s.volatileColumns ?? [])],
    ignoreRow: s.ignoreRow,
    objectKey: s.objectKey,
  };
  // The run's outputs, read where it wrote them: the embedded profile's data folder, or BigQuery and S3.
  const warehouse = prod ? createWarehouse(config) : undefined;
  const bucket = prod ? createBucket(config) : new LocalBucket(path.join(dir, 'bucket'));
  let snap: Snapshot;
  let truthCheck: TruthCheck;
  try {
    snap = warehouse ? await snapshotOf(warehouse, bucket, snapOpts) : await snapshot(dir, snapOpts);
    if (sb.applied) snap.tables['sandbox: actions applied'] = sb.applied();
    const ctx = {
      dir,
      env: workerEnv,
      truth,
      started: starts.map(({ workflowType, input }) => ({ workflowType, input })),
    };
    truthCheck = warehouse
      ? await checkTruth(ctx, s.truth, { warehouse, bucket })
      : await withDuckDb(dir, (wh) => checkTruth(ctx, s.truth, { warehouse: wh, bucket }));
  } finally {
    await warehouse?.close();
    await emulator?.stop();
    await postgres?.stop();
    await connection?.close();
  }
  const pointsFired = fired();
  const aimProblems = [
    ...notInCode.map(
      (p) =>
        `aimed chaos point ${p} never fired: the code has no chaosPoint('${p}') call (src/kit/activity/chaos-points.ts)`,
    ),
    ...aimed
      .filter((p) => !pointsFired.includes(p))
      .map((p) => `aimed chaos point ${p} never fired: the run never reached chaosPoint('${p}')`),
  ];
  return {
    ids,
    durationMs: Date.now() - t0,
    result: starts.length > 1 ? results : results[0],
    error: errors.length ? errors.join(' | ') : undefined,
    snapshot: snap,
    kills: sum((w) => w.kills) + pointsFired.length,
    killsPlanned: Math.max(o.kills ?? 0, aimed.length),
    workerCrashes: sum((w) => w.crashes) - pointsFired.length,
    serverRestarts,
    faultsInjected,
    attempts,
    truth: truthCheck,
    aimed: o.aim ? s.aim : [],
    pointsFired,
    aimProblems,
    pauses: sum((w) => w.pauses),
    historiesDir,
    ...(emulator ? { emulatorRestarts: emulator.restarts } : {}),
  };
}

/** The embedded profile's warehouse file, opened for a check and closed after. */
async function withDuckDb<T>(dir: string, f: (wh: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const wh = new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  try {
    return await f(wh);
  } finally {
    await wh.close();
  }
}
