/**
 * One chaos run of one pipeline: a fresh sandbox and data folder, a worker process (the production worker
 * code), the workflow started on its own task queue, then — while it runs — worker SIGKILLs at seeded
 * random points (the dev server may be restarted meanwhile, see chaos.test.ts), sandbox faults if asked; at the end a
 * snapshot of the warehouse and the bucket, the faults the sandbox injected and the activity attempts
 * read from the event histories.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { limiterWorkflowId } from '../../src/shared/datorama';
import { fingerprint } from '../../src/shared/fingerprint';
import { uniqueQueue, tmpDir } from '../helpers/temporal';
import {
  activityAttempts,
  seeded,
  sleep,
  snapshot,
  WorkerProcess,
  VOLATILE_COLUMNS,
  type AttemptCounts,
  type Snapshot,
} from '../helpers/chaos';
import type { RunIds, Scenario } from './scenarios';

export interface RunOptions {
  /** A client on the server the run uses, and that server's address for the worker. */
  client: () => Client;
  address: string;
  seed: number;
  /** Worker SIGKILLs during the run (each followed by a new worker process). */
  kills?: number;
  /** Kill delay after the worker is ready, drawn (seeded) from this range (ms). */
  killDelayMs?: [number, number];
  faults?: boolean;
  /** Dev-server restarts so far (the run counts those that happen while it runs). */
  serverRestarts?: () => number;
  /** Gives up waiting for the result after this long. */
  timeoutMs?: number;
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
  };
  const sb = await s.sandbox(o.seed);
  if (o.faults) for (const server of sb.servers) for (const rule of s.faults) server.faults.add(rule);
  await s.prepare?.(dir);
  const worker = new WorkerProcess(ids.taskQueue, {
    ...sb.env,
    TEMPORAL_ADDRESS: o.address,
    LONGHAUL_DATA_DIR: dir,
    LONGHAUL_TASK_QUEUE: ids.taskQueue,
    DM_ACCOUNT: ids.unique,
  });
  let result: unknown;
  let error: string | undefined;
  const restartsBefore = o.serverRestarts?.() ?? 0;
  try {
    await worker.start();
    await o.client().workflow.start(s.workflowType, {
      taskQueue: ids.taskQueue,
      workflowId: ids.workflowId,
      args: [s.input(ids, sb)],
    });
    let running = true;
    const done = outcome(o.client, ids.workflowId, t0 + (o.timeoutMs ?? 50 * 60_000)).then(
      (r) => ((result = r), (running = false)),
      (e: unknown) => ((error = failureMessage(e)), (running = false)),
    );
    const random = seeded(o.seed, `kills:${s.name}`);
    const [lo, hi] = o.killDelayMs ?? [1000, 4000];
    for (let k = 0; k < (o.kills ?? 0) && running; k++) {
      await Promise.race([sleep(lo + random() * (hi - lo)), done]);
      if (!running) break;
      await worker.killAndRestart();
    }
    await done;
  } finally {
    await worker.stop();
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
    await o
      .client()
      .workflow.getHandle(id)
      .terminate('chaos run over')
      .catch(() => undefined);
  const attempts = await activityAttempts(o.client(), ids.taskQueue);
  const runTokens: [string, string][] = [
    ['workflowId', ids.workflowId],
    ['taskQueue', ids.taskQueue],
    ['unique', ids.unique],
    ...attempts.runIds.map((r): [string, string] => ['runId', r]),
  ];
  const snap = await snapshot(dir, {
    runTokens,
    volatileColumns: [...VOLATILE_COLUMNS, ...(s.volatileColumns ?? [])],
    ignoreRow: s.ignoreRow,
  });
  if (sb.applied) snap.tables['sandbox: actions applied'] = sb.applied();
  return {
    ids,
    durationMs: Date.now() - t0,
    result,
    error,
    snapshot: snap,
    kills: worker.kills,
    workerCrashes: worker.crashes,
    serverRestarts,
    faultsInjected,
    attempts,
  };
}
