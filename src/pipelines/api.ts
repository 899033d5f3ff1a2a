/**
 * An API folder's Node side, as the worker, the CLI and `longhaul dev` see it: its pipelines, its activities
 * (built from the worker's dependencies) and its sandbox. The one list of them (src/pipelines/apis.ts) feeds
 * the pipeline list (`longhaul run`, `longhaul pipelines`), the worker's activity registry and the sandbox
 * registry; the workflow bundle (src/workflows/index.ts) exports each API's workflows. Node-only.
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
}

/** Declares an API folder's Node side (a typed identity). */
export const defineApi = <A extends ApiModule>(api: A): A => api;
