/**
 * Queries, signals and updates shared by every pipeline, defined once and imported by workflows and the
 * client alike (definitions only: safe in both places).
 */
import { defineQuery } from '@temporalio/workflow';

/** What `longhaul status` and `--wait` show: one shape for every pipeline. */
export interface Progress {
  pipeline: string;
  /** What the run is doing now, in words: "waiting for report slot (2/2 in use)", "loading", "done". */
  phase: string;
  done: number;
  total: number;
  /** What done/total count: "windows", "IDs", "calls"… */
  unit: string;
  counters: Record<string, number>;
  /** Why the run is waiting, and until when (ISO), when it is. */
  waiting?: { reason: string; until?: string };
  startedAt: string;
  updatedAt: string;
}

export const progressQuery = defineQuery<Progress>('progress');
