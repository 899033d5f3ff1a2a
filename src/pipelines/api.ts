/**
 * An API folder's Node side, as the worker, the CLI and `longhaul dev` see it: its pipelines, its activities
 * (built from the worker's dependencies) and its sandbox. The one list of them (src/pipelines/apis.ts) feeds
 * the pipeline list (`longhaul run`, `longhaul pipelines`), the worker's activity registry and the sandbox
 * registry, and the workflow bundle's entry (src/workflow-entry.ts) takes each folder's `workflows/index.ts`. Node-only.
 */
import type { Deps } from '../activities/deps';
import type { SandboxFactory } from '../sandbox/index';
import type { PipelineDef } from './types';

export interface ApiModule {
  /** The folder's name (`src/pipelines/<name>/`): names its activity group and its sandbox. */
  name: string;
  pipelines: PipelineDef[];
  /** The activities the main worker registers for this API (names must be unique across APIs). */
  activities?(deps: Deps): Record<string, unknown>;
  sandbox?: SandboxFactory;
  /**
   * The folder's `workflows/index.ts` (`import * as workflows from './workflows'`): every export is a workflow
   * the worker registers under its export name (src/workflow-entry.ts builds the bundle's entry from them).
   */
  workflows: Record<string, unknown>;
}

/** Declares an API folder's Node side (a typed identity). */
export const defineApi = <A extends ApiModule>(api: A): A => api;
