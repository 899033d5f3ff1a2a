/** `longhaul run <pipeline>`: validate the input, start (or attach to) the run, optionally wait for it. */
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { PIPELINES } from '../pipelines';
import type { PipelineDef } from '../pipelines/types';
import { progressQuery } from '../shared/messages';
import { TASK_QUEUES } from '../shared/task-queues';
import { InputError } from '../shared/validation';
import { uiLink } from './connect';
import { flagsToInput } from './flags';
import { inputErrorText, kebab } from './options';
import { accountOf } from '../node/account';
import { runAttributes } from './attributes';
import { describeRun, progressView } from './render';

export interface RunOptions {
  input?: string;
  wait?: boolean;
  json?: boolean;
  id?: string;
}

export function pipelineByName(name: string): PipelineDef {
  const p = PIPELINES[name];
  if (!p)
    throw new InputError(
      `Unknown pipeline "${name}". Known: ${Object.keys(PIPELINES).join(', ')} (\`longhaul pipelines\` describes them)`,
    );
  return p;
}

/** Builds and validates a pipeline input from `--input file.json` and flags (flags win). */
export function buildInput(pipeline: PipelineDef, opts: RunOptions, flagArgs: string[]): unknown {
  let base: Record<string, unknown> = {};
  if (opts.input) {
    let text: string;
    try {
      text = fs.readFileSync(opts.input, 'utf8');
    } catch (e) {
      throw new InputError(`Cannot read --input ${opts.input}: ${(e as Error).message}`);
    }
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      // Node's message may quote the file ("Unexpected token … "secret…" is not valid JSON"): say where, not what.
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      throw new InputError(`--input ${opts.input} is not valid JSON${at !== undefined ? ` (at character ${at})` : ''}`);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base)) {
      const kind = base === null ? 'null' : Array.isArray(base) ? 'an array' : `a ${typeof base}`;
      throw new InputError(`--input ${opts.input} must hold a JSON object (the pipeline's options), not ${kind}`);
    }
  }
  let flags: Record<string, unknown>;
  try {
    flags = flagsToInput(flagArgs, pipeline.listFlags);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const raw = { ...base, ...flags };
  // Pipeline schemas drop keys they do not know: a mistyped option (`--start-dat`) would be ignored silently.
  const shape = (pipeline.input as { shape?: Record<string, unknown> }).shape;
  const unknown = shape && raw && typeof raw === 'object' ? Object.keys(raw).filter((k) => !(k in shape)) : [];
  if (shape && unknown.length)
    throw new InputError(
      `Invalid input for ${pipeline.name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map(kebab).join(', ')}` +
        ` (known: ${Object.keys(shape).map(kebab).join(', ')})`,
    );
  const parsed = pipeline.input.safeParse(raw);
  if (!parsed.success) throw new InputError(inputErrorText(pipeline, parsed.error));
  const input: unknown = parsed.data;
  // Temporal refuses payloads over 2 MB (and warns from 512 KB): say so before starting, naming the fix.
  const bytes = Buffer.byteLength(JSON.stringify(input) ?? '');
  if (bytes > MAX_INPUT_BYTES)
    throw new InputError(
      `Invalid input for ${pipeline.name}: it is ${(bytes / 1048576).toFixed(1)} MB, over the 1 MB limit of a ` +
        'workflow input; pass large lists as a file (e.g. a CSV) instead of inline',
    );
  return input;
}

/** The largest pipeline input the client starts a run with (JSON bytes). */
export const MAX_INPUT_BYTES = 1 << 20;

export interface RunOutcome {
  workflowId: string;
  runId: string;
  status: 'started' | 'completed' | 'failed';
  result?: unknown;
  summary?: string;
  /** What a completed run could not do (PipelineDef.problems); the command exits 1 if there are any. */
  problems?: string[];
  error?: string;
  url: string;
}

export async function runPipeline(
  client: Client,
  config: Config,
  pipeline: PipelineDef,
  given: unknown,
  opts: RunOptions,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<RunOutcome> {
  // Relative days (`--startDate yesterday`) are made dates now: the run, its ID and its tags say which.
  const input = pipeline.resolve ? pipeline.resolve(given, Date.now()) : given;
  const workflowId = opts.id ?? pipeline.workflowId(input);
  const run = describeRun(pipeline, input, accountOf(pipeline, config));
  const options = {
    // A worker polls LONGHAUL_TASK_QUEUE (default `longhaul`): runs of main-queue pipelines start there.
    taskQueue: pipeline.taskQueue === TASK_QUEUES.main ? config.LONGHAUL_TASK_QUEUE : pipeline.taskQueue,
    workflowId,
    args: [input],
    // Same input → same ID: while a run is going, starting again attaches to it; once it has ended, a new
    // run may start (loads are idempotent, so a rerun replaces rather than duplicates).
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    // Shown by the Web UI (summary and details on the run's page) and by `longhaul status` / `list` (memo).
    staticSummary: run.summary,
    staticDetails: run.details,
    memo: { pipeline: pipeline.name, input: run.fingerprint, summary: run.summary },
  };
  const handle = await client.workflow
    .start(pipeline.workflowType, {
      ...options,
      typedSearchAttributes: runAttributes(pipeline, input, config),
    })
    .catch(async (err: Error) => {
      // The server's reason is in the cause: "… has no mapping defined for search attribute LonghaulPipeline".
      const reason = rootCause(err);
      if (!/search attribute/i.test(reason)) throw err;
      const missing = /search attribute (\w+)/i.exec(reason)?.[1] ?? 'of longhaul';
      log(
        `Note: this server has no search attribute ${missing} registered; starting without longhaul's search ` +
          'attributes. `longhaul search-attributes` registers them (docs/operations.md).',
      );
      return client.workflow.start(pipeline.workflowType, options);
    });
  const runId = handle.firstExecutionRunId;
  const url = uiLink(config, workflowId, runId);
  log(`Started ${pipeline.name}: workflow ${workflowId} (run ${runId})`);
  log(`Web UI: ${url}`);
  if (!opts.wait) return { workflowId, runId, status: 'started', url };
  const outcome = await follow(client, workflowId);
  return {
    ...outcome,
    runId,
    url,
    summary: outcome.status === 'completed' ? pipeline.summarize(outcome.result) : undefined,
    problems: outcome.status === 'completed' ? pipeline.problems?.(outcome.result) : undefined,
  };
}

/** Follows a run to its end, showing live progress (bars on a terminal, plain lines otherwise). */
export async function follow(
  client: Client,
  workflowId: string,
): Promise<{ workflowId: string; status: 'completed' | 'failed'; result?: unknown; error?: string }> {
  const handle = client.workflow.getHandle(workflowId);
  const view = progressView();
  const poll = setInterval(() => {
    handle
      .query(progressQuery)
      .then((p) => view.update(p))
      .catch(() => undefined);
  }, 1000);
  try {
    const result = await handle.result();
    const final = await handle.query(progressQuery).catch(() => undefined);
    if (final) view.update(final);
    view.stop();
    return { workflowId, status: 'completed', result };
  } catch (err) {
    view.stop();
    return { workflowId, status: 'failed', error: rootCause(err) };
  } finally {
    clearInterval(poll);
  }
}

/** The innermost failure message ("Activity task failed" says less than what made it fail). */
export function rootCause(err: unknown): string {
  const chain: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.message) chain.push(e.message);
  }
  return chain.length > 1
    ? `${chain[chain.length - 1]} (${chain.slice(0, -1).join(' ← ')})`
    : (chain[0] ?? String(err));
}
