/**
 * `longhaul simulate`: a pipeline's real workflow code, on the Java time-skipping test server, against its
 * sandbox set up with the user's limits (`--api key=value`), into a throwaway warehouse and bucket. Time
 * skips over every durable wait (a quota reset, a report generating, a rate window, a Retry-After, a retry's
 * backoff), so days of a run pass in seconds; the sandbox's clock follows the virtual one, so its quotas and
 * reports see the same days. Afterwards the run's histories give the timeline (src/dev/timeline.ts) and the
 * sandbox's call log the API usage. Activities hold the virtual clock while they run (src/dev/time-lock.ts):
 * an API call takes its real time, not more. Node-only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { parseConfig, paths, type Config } from '../config';
import { rootCause } from '../cli/run';
import { quietBundler } from '../node/deployment';
import { APIS } from '../pipelines/apis';
import type { PipelineDef } from '../pipelines/types';
import type { SimulatedApi, SimulationSpec } from '../sandbox/index';
import type { LogEntry } from '../sandbox/server';
import { COMMON_KEYS } from '../sandbox/simulation-keys';
import { progressQuery } from '../shared/messages';
import { formatDuration } from '../shared/durations';
import { InputError } from '../shared/validation';
import { TASK_QUEUES } from '../shared/task-queues';
import { createDeps, closeDeps, createWorker } from '../worker';
import { createDatoramaWorker } from '../datorama-worker';
import { workflowsEntry } from '../workflow-entry';
import { logToFile } from '../node/logger';
import { installRuntime } from '../node/runtime';
import { attachTimeSkipping, startTimeSkippingServer } from './servers';
import { LockedClock, timeLockActivities } from './time-lock';
import { buildTimeline, type RunHistory, type Timeline } from './timeline';

export interface SimulateOptions {
  pipeline: PipelineDef;
  /** The validated pipeline input (as `longhaul run` builds it). */
  input: unknown;
  /** `--api key=value` pairs as given. */
  api: string[];
  /** Virtual start (epoch ms); default: now. The virtual clock only moves forward. */
  at?: number;
  seed?: number;
  /** The user's configuration: where input files are read from (LONGHAUL_INPUT_DIR). */
  config: Config;
  /** Virtual time after which the run is stopped (a watcher runs until told to stop); default a year. */
  maxVirtualMs?: number;
  /** Keep the throwaway warehouse and bucket (their folder is in the report) instead of deleting them. */
  keep?: boolean;
  /** Called about every second with virtual time passed and the run's phase. */
  onProgress?: (p: { virtualMs: number; wallMs: number; phase?: string }) => void;
}

export interface SimulationReport {
  pipeline: string;
  workflowId: string;
  status: 'completed' | 'failed';
  error?: string;
  /** The pipeline's one-line summary of its result. */
  summary?: string;
  result?: unknown;
  /** Virtual start and end (ISO) and the virtual duration (ms). */
  virtualStart: string;
  virtualEnd: string;
  virtualMs: number;
  /** Real time the simulation took (ms). */
  wallMs: number;
  /** When the run would end if it were started now for real (without --at: the virtual start is now). */
  finishIfStartedNow?: string;
  /** The `--api` values used (given or default). */
  api: Record<string, unknown>;
  /** What the simulation does differently from a real run. */
  scaled: string[];
  timeline: Timeline;
  /** Every API call the sandbox answered, by route, and the busiest minute (any 60 s) and UTC day. */
  calls: CallStats;
  /** API usage as the sandbox saw it (the API's own figures: units by project, reports generating…). */
  usage: Record<string, unknown>;
  /** Where the worker's log went. */
  log: string;
  /** The simulation's warehouse (DuckDB) and bucket, when kept (`keep`). */
  dataDir?: string;
}

export interface CallStats {
  total: number;
  /** Calls per route, and the error answers among them by HTTP status (0: no answer, e.g. a cut connection). */
  byRoute: Record<string, { answered: number; errors: Record<string, number> }>;
  /** Answers the simulation's fault settings injected (errorRate, rateLimitRate), by kind. */
  faultsInjected: Record<string, number>;
  /** Most calls within any 60 seconds of the sandbox clock, and when that minute began. */
  busiestMinute: { calls: number; from?: string };
  busiestUtcDay: { calls: number; day?: string };
}

/** Call statistics from a sandbox's request log (sandbox-clock times). */
export function callStats(log: readonly LogEntry[]): CallStats {
  const byRoute: CallStats['byRoute'] = {};
  const faultsInjected: Record<string, number> = {};
  const days = new Map<string, number>();
  for (const e of log) {
    const r = (byRoute[e.route] ??= { answered: 0, errors: {} });
    r.answered++;
    if (e.status >= 400 || e.status === 0) r.errors[e.status] = (r.errors[e.status] ?? 0) + 1;
    if (e.fault) faultsInjected[e.fault] = (faultsInjected[e.fault] ?? 0) + 1;
    const day = new Date(e.at).toISOString().slice(0, 10);
    days.set(day, (days.get(day) ?? 0) + 1);
  }
  const at = log.map((e) => e.at).sort((a, b) => a - b);
  const busiestMinute: CallStats['busiestMinute'] = { calls: 0 };
  for (let i = 0, j = 0; j < at.length; j++) {
    while (at[j] - at[i] >= 60_000) i++;
    if (j - i + 1 > busiestMinute.calls)
      Object.assign(busiestMinute, { calls: j - i + 1, from: new Date(at[i]).toISOString() });
  }
  const busiestUtcDay: CallStats['busiestUtcDay'] = { calls: 0 };
  for (const [day, n] of days) if (n > busiestUtcDay.calls) Object.assign(busiestUtcDay, { calls: n, day });
  return { total: log.length, byRoute, faultsInjected, busiestMinute, busiestUtcDay };
}

/** The API folder of a pipeline and its simulation spec. */
export function simulationOf(pipeline: PipelineDef): { api: string; spec: SimulationSpec } {
  const api = APIS.find((a) => a.pipelines.includes(pipeline));
  const spec = api?.sandbox?.simulation;
  if (!api || !spec) {
    const can = APIS.filter((a) => a.sandbox?.simulation).flatMap((a) => a.pipelines.map((p) => p.name));
    throw new InputError(`${pipeline.name} cannot be simulated yet (can: ${can.join(', ')})`);
  }
  return { api: api.name, spec };
}

/** The `--api` keys of a pipeline's sandbox, for `longhaul simulate <pipeline> --help`. */
export function simulationHelp({ api, spec }: { api: string; spec: SimulationSpec }): string {
  const keys = { ...spec.keys, ...COMMON_KEYS };
  const width = Math.max(...Object.keys(keys).map((k) => k.length)) + 4;
  return [
    `The ${api} sandbox (--api key=value, repeatable):`,
    ...Object.entries(keys).map(([k, v]) => `  ${k.padEnd(width)}${v.describe}; default ${v.default}`),
    '',
    'Also: --at <ISO instant> (virtual start), --for <duration> (virtual time limit, default 366d), --seed <n>,',
    '--keep (keep the throwaway warehouse and bucket), --json.',
  ].join('\n');
}

/** Parses `--api key=value` pairs against the sandbox's keys (and the common fault keys), defaults filled. */
export function parseApiOptions(apiName: string, spec: SimulationSpec, pairs: string[]): Record<string, unknown> {
  const keys = { ...spec.keys, ...COMMON_KEYS };
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InputError(`--api ${pair}: expected key=value (e.g. --api ${Object.keys(keys)[0]}=…)`);
    const key = pair.slice(0, eq);
    if (!(key in keys))
      throw new InputError(
        `--api ${key}: not a key of the ${apiName} sandbox (it accepts: ${Object.keys(keys).join(', ')})`,
      );
    given.set(key, pair.slice(eq + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [key, k] of Object.entries(keys)) {
    const text = given.get(key) ?? k.default;
    try {
      out[key] = k.parse(text);
    } catch (e) {
      throw new InputError(`--api ${key}=${text}: expected ${(e as Error).message} (${k.describe})`);
    }
  }
  return out;
}

/** Every run of a workflow: its continue-as-new chain and, recursively, its children's. */
async function histories(client: Client, workflowId: string, runId: string): Promise<RunHistory[]> {
  const out: RunHistory[] = [];
  for (let id: string | undefined = runId; id;) {
    const events: RunHistory['events'] = (await client.workflow.getHandle(workflowId, id).fetchHistory()).events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    out.push({ workflowId, runId: id, workflowType: started?.workflowType?.name ?? '?', events });
    for (const e of events) {
      const c = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (c?.workflowId && c.runId) out.push(...(await histories(client, c.workflowId, c.runId)));
    }
    id =
      events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)
        ?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

export async function simulate(opts: SimulateOptions): Promise<SimulationReport> {
  const { pipeline } = opts;
  const { api: apiName, spec } = simulationOf(pipeline);
  const api = parseApiOptions(apiName, spec, opts.api);
  const seed = opts.seed ?? 1;
  const wall0 = Date.now();
  if (opts.at !== undefined && opts.at < wall0 - 60_000)
    throw new InputError(
      `--at ${new Date(opts.at).toISOString()} is in the past: a simulation's clock only moves forward`,
    );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-simulate-'));
  const log = path.join(dir, 'worker.log');
  logToFile(log);
  installRuntime({}, { forwardCoreLogs: true });
  const server = await startTimeSkippingServer({ logFile: path.join(dir, 'test-server.log') });
  let env: TestWorkflowEnvironment | undefined;
  let sim: SimulatedApi | undefined;
  try {
    env = await attachTimeSkipping(server.port);
    const tenv = env;
    sim = spec.create(api, { seed });
    const clock = new LockedClock(tenv);
    sim.server.clock.follow(() => clock.now());
    const url = await sim.server.start(0);
    const faults = sim.server.faults;
    if ((api.errorRate as number) > 0) faults.add({ route: '*', kind: '503', rate: api.errorRate as number });
    if ((api.rateLimitRate as number) > 0)
      faults.add({
        route: '*',
        kind: '429',
        rate: api.rateLimitRate as number,
        retryAfterSec: Math.round((api.retryAfter as number) / 1000),
      });

    // A throwaway data folder (DuckDB + local bucket); input files are read where the user's are.
    const config = parseConfig({
      LONGHAUL_DATA_DIR: dir,
      LONGHAUL_INPUT_DIR: paths.input(opts.config),
      LONGHAUL_TASK_QUEUE: 'longhaul-simulate',
      ...sim.env(url),
    });
    const deps = createDeps(config);
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quietBundler });
    const interceptors = { activity: timeLockActivities(tenv, clock) };
    // Plain payloads (the test server and this process only): no codec whatever the user's environment says.
    const overrides = { interceptors, dataConverter: undefined };
    const worker = await createWorker({
      connection: tenv.nativeConnection,
      deps,
      versioning: { workflowBundle: { code } },
      overrides,
    });
    const datorama = await createDatoramaWorker({ connection: tenv.nativeConnection, deps, overrides });
    // Everything is ready: the clock moves to the virtual start, and the run starts there.
    if (opts.at !== undefined) {
      const now = await tenv.currentTimeMs();
      if (opts.at > now) await tenv.sleep(opts.at - now);
    }
    const virtualStart = await tenv.currentTimeMs();
    const input = pipeline.resolve ? pipeline.resolve(opts.input as never, virtualStart) : opts.input;
    const workflowId = `simulate-${pipeline.workflowId(input as never)}`;
    const running = Promise.all([worker.run(), datorama.run()]);
    try {
      const outcome = await Promise.race([
        running.then(() => Promise.reject(new Error('the worker stopped before the run ended'))),
        (async () => {
          const handle = await tenv.client.workflow.start(pipeline.workflowType, {
            taskQueue: pipeline.taskQueue === TASK_QUEUES.main ? config.LONGHAUL_TASK_QUEUE : pipeline.taskQueue,
            workflowId,
            args: [input],
          });
          const cap = opts.maxVirtualMs ?? 366 * 86_400_000;
          let capped = false;
          const tick = setInterval(() => {
            void Promise.all([tenv.currentTimeMs(), handle.query(progressQuery).catch(() => undefined)]).then(
              ([now, p]) => {
                opts.onProgress?.({ virtualMs: now - virtualStart, wallMs: Date.now() - wall0, phase: p?.phase });
                if (now - virtualStart > cap && !capped) {
                  capped = true;
                  void handle.terminate(`the simulation's limit of ${formatDuration(cap)} of virtual time`);
                }
              },
              () => undefined,
            );
          }, 1000);
          try {
            const result: unknown = await handle.result();
            return { handle, result, ok: true as const };
          } catch (err) {
            const error = capped
              ? `still running after ${formatDuration(cap)} of virtual time: stopped (a run that never ends, such as a watcher without --stop-after-ticks, needs an end; or raise --for)`
              : rootCause(err);
            return { handle, error, ok: false as const };
          } finally {
            clearInterval(tick);
          }
        })(),
      ]);
      const runs = await histories(tenv.client, workflowId, outcome.handle.firstExecutionRunId);
      const timeline = buildTimeline(runs);
      const end = Math.max(timeline.endMs, virtualStart);
      const virtualMs = end - virtualStart;
      return {
        pipeline: pipeline.name,
        workflowId,
        status: outcome.ok ? 'completed' : 'failed',
        ...(outcome.ok
          ? { result: outcome.result, summary: pipeline.summarize(outcome.result) }
          : { error: outcome.error }),
        virtualStart: new Date(virtualStart).toISOString(),
        virtualEnd: new Date(end).toISOString(),
        virtualMs,
        wallMs: Date.now() - wall0,
        ...(opts.at === undefined ? { finishIfStartedNow: new Date(wall0 + virtualMs).toISOString() } : {}),
        api,
        scaled: [
          ...sim.scaled,
          'API calls take their real time here (milliseconds), not the real API’s latency: add it where calls dominate',
        ],
        timeline,
        calls: callStats(sim.server.log),
        usage: await sim.usage(),
        log,
        ...(opts.keep ? { dataDir: dir } : {}),
      };
    } finally {
      worker.shutdown();
      datorama.shutdown();
      await running.catch(() => undefined);
      await closeDeps(deps);
      // Throwaway: only the logs stay (the data of a large simulation is as large as a real run's).
      if (!opts.keep)
        for (const f of fs.readdirSync(dir))
          if (!f.endsWith('.log')) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    }
  } finally {
    await sim?.server.stop().catch(() => undefined);
    await env?.teardown().catch(() => undefined);
    await server.stop();
  }
}
