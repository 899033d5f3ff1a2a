/**
 * Helpers of the bad-input catalogue (test/integration/bad-input.test.ts): the `longhaul` command as a child
 * process, a bounded pool to run many of them, a snapshot of what a worker's sinks hold, and what a failed
 * run's event histories say about its failure (non-retryable? how many attempts?).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { Deps } from '../../src/activities/deps';

const BIN = path.resolve(__dirname, '../../bin/longhaul.js');

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `longhaul <args>` (bin/longhaul.js, as users run it) with exactly `env` added to a clean environment. */
export function longhaul(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<ClientRun> {
  const t0 = Date.now();
  // Only what a shell would pass on: no LONGHAUL_* or TEMPORAL_* variables of the test process leak in.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(LONGHAUL_|TEMPORAL_|DM_|YOUTUBE_|TITELIVE_|DATORAMA_)/.test(k)),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...base, LONGHAUL_LOG_FORMAT: 'json', ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - t0 });
      },
    );
  });
}

/** Runs `tasks` at most `n` at a time. */
export async function pool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
      }
    }),
  );
  return out;
}

/** A stack trace line (`    at fn (file.ts:12:3)`): users must get a message, never this. */
export const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

/** Every warehouse table with its row count, and every bucket object with its size. */
export async function sinkSnapshot(deps: Deps): Promise<{ tables: Record<string, number>; objects: string[] }> {
  const names = await deps.warehouse.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name",
  );
  const tables: Record<string, number> = {};
  for (const { table_name } of names) {
    const [{ n }] = await deps.warehouse.query<{ n: number | bigint }>(`SELECT count(*) AS n FROM "${table_name}"`);
    tables[table_name] = Number(n);
  }
  const objects = (await deps.bucket.list('')).map((o) => `${o.key} ${o.size}`);
  return { tables, objects };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;

export interface RunVerdict {
  status: string;
  /** The failure chain of the run, outermost first. */
  messages: string[];
  /** Some failure of the chain is an ApplicationFailure marked non-retryable. */
  nonRetryable: boolean;
  /** The highest attempt any activity of the run (or of its child workflows) got to. */
  maxActivityAttempt: number;
  /** Workflow IDs whose histories were read (the run and its children). */
  histories: string[];
}

const chain = (f: Failure | null | undefined): Failure[] => (f ? [f, ...chain(f.cause)] : []);

/** Reads a closed run's history, and those of its child workflows, for the failure and the attempts. */
export async function runVerdict(client: Client, workflowId: string): Promise<RunVerdict> {
  const desc = await client.workflow.getHandle(workflowId).describe();
  const verdict: RunVerdict = {
    status: desc.status.name,
    messages: [],
    nonRetryable: false,
    maxActivityAttempt: 0,
    histories: [],
  };
  const read = async (id: string, runId?: string): Promise<void> => {
    verdict.histories.push(id);
    const events: HistoryEvent[] = (await client.workflow.getHandle(id, runId).fetchHistory()).events ?? [];
    for (const e of events) {
      const started = e.activityTaskStartedEventAttributes;
      if (started) verdict.maxActivityAttempt = Math.max(verdict.maxActivityAttempt, started.attempt ?? 0);
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) await read(child.workflowId, child.runId ?? undefined);
      if (id === workflowId && e.workflowExecutionFailedEventAttributes) {
        const failures = chain(e.workflowExecutionFailedEventAttributes.failure);
        verdict.messages = failures.map((f) => f.message ?? '');
        verdict.nonRetryable = failures.some((f) => f.applicationFailureInfo?.nonRetryable === true);
      }
    }
  };
  await read(workflowId);
  return verdict;
}
