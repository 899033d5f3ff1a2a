/** The pipelines `longhaul run` knows, by name: every API's (src/pipelines/apis.ts), in the list's order. */
import type { PipelineDef } from './types';
import type { ApiModule } from './api';
import { APIS } from './apis';

/** The pipelines of `apis` by name; a name two APIs define is refused, naming both. */
export function pipelinesOf(apis: readonly ApiModule[]): Record<string, PipelineDef> {
  const out: Record<string, PipelineDef> = {};
  const owner: Record<string, string> = {};
  for (const api of apis)
    for (const p of api.pipelines) {
      if (out[p.name])
        throw new Error(`pipeline "${p.name}" is defined by both the ${owner[p.name]} and the ${api.name} APIs`);
      out[p.name] = p;
      owner[p.name] = api.name;
    }
  return out;
}

export const PIPELINES: Record<string, PipelineDef> = pipelinesOf(APIS);
