/**
 * What the client needs to know of a pipeline: its input schema (validated before anything starts, and
 * again inside the workflow), the workflow type and queue, and a deterministic workflow ID so that
 * starting the same work twice attaches to the running run instead of duplicating it.
 * Workflow-safe: zod and pure code only (workflows import the input schemas from here).
 */
import type { z } from 'zod';
import type { Config } from '../config';
import { canonicalJson } from '../shared/identity-hash';
import { TASK_QUEUES } from '../shared/task-queues';

export { identityHash } from '../shared/identity-hash';

/**
 * A workflow type exported by `W` — an API folder's `workflows/index.ts`, imported as a type only
 * (`import type * as workflows from './workflows'`): a definition names its workflow
 * `'dailymotionReport' satisfies WorkflowOf<typeof workflows>`, so a name that is not a registered workflow of its
 * folder fails to compile.
 */
export type WorkflowOf<W> = Extract<keyof W, string>;

export interface PipelineDef<S extends z.ZodType = z.ZodType, R = unknown> {
  name: string;
  description: string;
  input: S;
  /** The workflow a run starts, checked against its folder's exports (`WorkflowOf`). */
  workflowType: string;
  /** The task queue its workflows run on (`definePipeline` defaults it to the main one). */
  taskQueue: string;
  /**
   * The input as of a run starting at `nowMs` (relative days made dates). `longhaul run` applies it before
   * starting; schedules do not (their workflow resolves from its own start time).
   */
  resolve?(input: z.output<S>, nowMs: number): z.output<S>;
  /** Deterministic from the input where a rerun must not duplicate work. */
  workflowId(input: z.output<S>): string;
  /** Flags whose value is a comma-separated list (`--metrics VIEWS,TIME_WATCHED_SECONDS`). */
  listFlags?: string[];
  /** One line for people at the end of `--wait`. */
  summarize(result: R): string;
  /** What a completed run could not do (e.g. actions the API refused): `longhaul run --wait` exits 1 if any. */
  problems?(result: R): string[];
  /** An example input for `longhaul run <pipeline> --help` and the docs. */
  example: Record<string, unknown>;
  /**
   * The API account a run works for, from the configuration: a `name` shown as is, or a `secret` (a token,
   * keys, a user name) the client shows only as a fingerprint. Tags the run (search attribute LonghaulAccount).
   */
  account?(config: Config): { name: string } | { secret: string } | undefined;
  /** The data's date range the run covers (ISO dates or instants), for its search attributes. */
  range?(input: z.output<S>): { start?: string; end?: string };
  /** The one line a person needs to recognise a run (Web UI summary); `account` is its fingerprint. */
  describeInput?(input: z.output<S>, account?: string): string;
}

/** A pipeline's definition as written: its workflows run on the main task queue unless it names another. */
export type PipelineSpec<S extends z.ZodType, R> = Omit<PipelineDef<S, R>, 'taskQueue'> & { taskQueue?: string };

export function definePipeline<S extends z.ZodType, R>(def: PipelineSpec<S, R>): PipelineDef<S, R> {
  return { ...def, taskQueue: def.taskQueue ?? TASK_QUEUES.main };
}

/**
 * A short stable hash (FNV-1a, **32 bits**, 8 hex digits). Pure, workflow-safe. Not for identities (it
 * collides within ~80,000 values): it names the YouTube work areas of runs started before the 64-bit key
 * (computed inside running workflows, so it cannot change under them) and the memo's input fingerprint. Workflow IDs use identityHash.
 */
export function stableHash(value: unknown): string {
  const text = canonicalJson(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
